"""Warnings of the variant readers: records kept out of the result, said where and why."""

from __future__ import annotations

import warnings
from os import PathLike

from oncoresist.errors import InputError


class VariantWarning(UserWarning):
    """A record a reader read but did not turn into an alteration, with its location.

    Attributes
    ----------
    message
        What was found and why it was not called, in words a user can act on.
    file, record, field
        Where: the file, the line (``int``) or entry (``str``), and the column or key.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        record: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.record = record
        self.field = field
        # The same "file line N, field F: message" shape as an InputError.
        super().__init__(str(InputError(message, file=file, record=record, field=field)))


def warn_at(
    message: str,
    *,
    file: str | PathLike[str] | None = None,
    record: int | str | None = None,
    field: str | None = None,
) -> None:
    """Issue a :class:`VariantWarning` naming the file, record and field.

    The warning carries its own location (the data file's line), so it is not attributed
    to a line of this package's code: Python's default display would otherwise print the
    package's source path and line around the message.
    """
    warnings.warn_explicit(
        VariantWarning(message, file=file, record=record, field=field),
        VariantWarning,
        filename="<oncoresist>",  # not a real file: no source line is looked up
        lineno=0,
        module="oncoresist.variants",
    )

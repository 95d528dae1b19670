"""The one error hierarchy of oncoresist.

Every mistake in what a user gives us raises an :class:`InputError` that names the file,
the record (line or entry) and the field, and says what was expected. The command line
turns these into one line on stderr and exit status 2.
"""

from __future__ import annotations

from os import PathLike


class OncoresistError(Exception):
    """Base class of every error oncoresist raises on purpose."""


class InputError(OncoresistError, ValueError):
    """Bad input: a file, record or field that is not what was expected.

    Parameters
    ----------
    message
        What is wrong and what was expected, in words a user can act on.
    file
        The file the input came from, if any.
    record
        The line number (``int``, 1-based) or entry name (``str``) inside the file.
    field
        The column, key or token that is wrong.

    Examples
    --------
    >>> str(InputError("3 values for 2 alleles; expected one per allele",
    ...                file="a.vcf", record=1042, field="FORMAT/AD"))
    'a.vcf line 1042, field FORMAT/AD: 3 values for 2 alleles; expected one per allele'
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
        super().__init__(self._render())

    def _render(self) -> str:
        where: list[str] = []
        if self.file is not None:
            where.append(self.file)
        if self.record is not None:
            where.append(f"line {self.record}" if isinstance(self.record, int) else self.record)
        location = " ".join(where)
        if self.field is not None:
            location = f"{location}, field {self.field}" if location else f"field {self.field}"
        return f"{location}: {self.message}" if location else self.message

    def located(
        self,
        *,
        file: str | PathLike[str] | None = None,
        record: int | str | None = None,
        field: str | None = None,
    ) -> InputError:
        """Return a copy with the missing parts of the location filled in."""
        return type(self)(
            self.message,
            file=self.file if self.file is not None else file,
            record=self.record if self.record is not None else record,
            field=self.field if self.field is not None else field,
        )


class KnowledgeBaseError(InputError):
    """The knowledge base's data files are malformed or inconsistent."""


class UnknownGeneError(InputError):
    """A gene symbol that is neither an HGNC symbol we know nor an alias of one."""


class UnknownDrugError(InputError):
    """A drug name that is not in the knowledge base under any name or code."""


class UnknownDiseaseError(InputError):
    """A disease name or OncoTree code we do not know."""


class MissingExtraError(OncoresistError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the '{package}' package: pip install 'oncoresist[{extra}]'"
        )

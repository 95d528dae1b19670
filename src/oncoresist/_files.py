"""Small file helpers shared by readers and writers: atomic output, YAML input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` and rename it into place on success.

    Nothing is left behind when the block raises: a reader never sees a half-written file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_yaml(path: str | os.PathLike[str], *, what: str) -> object:
    """Parse a YAML file; a missing file, bad encoding or bad YAML is an ``InputError``.

    ``what`` names the file in messages (``"case file"``, ``"model file"``); YAML syntax
    errors carry their line.
    """
    import yaml

    from oncoresist.errors import InputError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=path) from None
    except UnicodeDecodeError:
        raise InputError(f"not UTF-8 text; expected a YAML {what}", file=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"not valid YAML ({getattr(exc, 'problem', 'syntax error')})",
            file=path,
            record=None if mark is None else mark.line + 1,
        ) from None

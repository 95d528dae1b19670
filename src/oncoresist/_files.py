"""Small file helpers shared by readers and writers: atomic output, YAML input, safe tables.

Formula-safe tables follow OWASP's "CSV Injection" rule: a text cell that a spreadsheet
would run as a formula gets a leading single quote.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: what starts a formula in Excel, LibreOffice and Google Sheets (OWASP CSV Injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|nan)$",
                     re.IGNORECASE)  # fmt: skip


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


def yaml_line(path: str | os.PathLike[str], loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of a key or list entry in a YAML file, or ``None`` if not found.

    ``loc`` is a path of keys and list indices as pydantic reports it (``("drug",)``,
    ``("phase", 1)``). Used to put a line number on a schema error; the file is read again,
    so call it only on the error path.
    """
    import yaml

    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def formula_safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed;
    numbers, and text that is a plain number (``-1.5``, ``+4``, ``-2e-3``), are returned as
    they are, so a negative number stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.match(value):
        return "'" + value
    return value


def formula_safe(frame: Any) -> Any:
    """A copy of a pandas DataFrame safe to open in a spreadsheet (:func:`formula_safe_cell`).

    Every text cell, column name and index label is escaped; numeric, boolean and date
    columns are left as they are (and keep their dtype). Every table the command line
    writes as CSV or TSV goes through here.
    """
    import pandas as pd

    safe = frame.copy()
    for i in range(safe.shape[1]):
        column = safe.iloc[:, i]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            safe.isetitem(i, column.map(formula_safe_cell))
    safe.columns = safe.columns.map(formula_safe_cell)
    if not pd.api.types.is_numeric_dtype(safe.index):
        safe.index = safe.index.map(formula_safe_cell)
    return safe

"""Tables the command line writes are safe to open in a spreadsheet (issue 17, finding 7b).

OWASP's CSV-injection rule: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a leading single quote; numbers (a negative one included) are kept.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from oncoresist._files import formula_safe, formula_safe_cell
from oncoresist.cli import app

EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
DANGEROUS = ["=1+2", "+SUM(A1)", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",
             '=HYPERLINK("http://x","y")']  # fmt: skip


def test_text_cells_that_start_a_formula_get_a_quote() -> None:
    for text in DANGEROUS:
        assert formula_safe_cell(text) == "'" + text
    for text in ("EGFR", "T790M", "", "a=b", "p.L858R", "'=already"):
        assert formula_safe_cell(text) == text


def test_numbers_are_never_altered() -> None:
    for value in (-1.5, -3, 0, 2.5e-3, float("-inf"), np.float64(-0.25), "-1.5", "-2e-3", "+4"):
        assert formula_safe_cell(value) == value
    frame = pd.DataFrame({"x": [-1.5, 2.0], "n": [-3, 4], "name": ["-x", "y"]})
    safe = formula_safe(frame)
    assert safe["x"].dtype == frame["x"].dtype and safe["x"].tolist() == [-1.5, 2.0]
    assert safe["n"].tolist() == [-3, 4]
    assert safe["name"].tolist() == ["'-x", "y"]
    assert frame["name"].tolist() == ["-x", "y"]  # the caller's frame is left alone


def test_headers_and_index_are_escaped_too() -> None:
    frame = pd.DataFrame({"=cmd": ["a"]}, index=pd.Index(["@x"], name="gene"))
    safe = formula_safe(frame)
    assert list(safe.columns) == ["'=cmd"] and list(safe.index) == ["'@x"]


def test_monitor_call_tsv_is_formula_safe(tmp_path: Path) -> None:
    text = (EXAMPLES / "egfr_ctdna_series.csv").read_text()
    text = text.replace("ILLUS-P1-D0", '=HYPERLINK("http://evil")')
    text = text.replace("ILLUS-P1", "@SUM(1+1)")
    series = tmp_path / "series.csv"
    series.write_text(text)
    out = tmp_path / "calls.tsv"
    result = CliRunner().invoke(app, ["monitor", "call", str(series), "--format", "tsv",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text()), delimiter="\t"))
    cells = [cell for row in rows for cell in row]
    assert "'@SUM(1+1)" in cells
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(cell)  # only a number may start so

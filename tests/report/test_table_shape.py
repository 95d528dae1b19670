"""Every table of the generated reports has as many cells per row as header cells (a column
shown in the header but not in the rows shifts every value under the wrong heading)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from report_helpers import REPORT_DATE, example_tables

from oncoresist.report import build_report


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.row: list[str] | None = None
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"head": 0, "rows": []})
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            span = int(dict(attrs).get("colspan") or 1)
            self.row.extend([tag] * span)

    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_head = False
        elif tag == "tr" and self.row is not None and self.tables:
            table = self.tables[-1]
            if self.in_head:
                table["head"] = max(table["head"], len(self.row))
            else:
                table["rows"].append(len(self.row))
            self.row = None


@pytest.mark.parametrize("dates", [False, True])
def test_every_report_table_row_matches_its_header(dates):
    obs, therapy, events = example_tables()
    html = build_report(
        obs, therapy=therapy, events=events, show_dates=dates, report_date=REPORT_DATE
    )
    parser = _Tables()
    parser.feed(html)
    checked = [t for t in parser.tables if t["head"] and t["rows"]]
    assert len(checked) >= 3
    for table in checked:
        assert set(table["rows"]) == {table["head"]}, table

"""Shared helpers for the report tests: the bundled series and a tiny HTML tree."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from importlib import resources

from oncoresist import monitor

EXAMPLES = resources.files("oncoresist") / "examples"
REPORT_DATE = dt.date(2025, 3, 10)
VOID = {"meta", "link", "br", "hr", "img", "input", "source", "col", "area", "base", "wbr"}


def example_tables():
    obs = monitor.read_serial(EXAMPLES / "egfr_ctdna_series.csv")
    therapy = monitor.read_therapy(EXAMPLES / "egfr_ctdna_therapy.csv")
    events = monitor.read_events(EXAMPLES / "egfr_ctdna_events.csv")
    return obs, therapy, events


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []
        self.text_parts = []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def iter(self, tag=None):
        for child in self.children:
            if tag is None or child.tag == tag:
                yield child
            yield from child.iter(tag)

    def text(self):
        return "".join(
            [*self.text_parts, *(c.text() for c in self.children)]
        )  # order is approximate; enough for containment checks

    def find_id(self, ident):
        return next((n for n in self.iter() if n.attrs.get("id") == ident), None)


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [])
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text_parts.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root

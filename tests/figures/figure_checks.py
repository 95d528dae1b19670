"""What every SVG the figure layer writes must hold (shared by the figure tests)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def check_svg(text: str) -> ET.Element:
    """Parse ``text`` and check what every written SVG must hold; return the root."""
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg", "not in the SVG namespace (no xmlns)"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and (title.text or "").strip()
    assert root.find(f"{SVG}desc") is not None
    for node in root.iter():
        assert node.tag.removeprefix(SVG).lower() not in {"script", "foreignobject"}
        assert not [a for a in node.attrib if a.lower().startswith("on")], node.attrib
    assert "<script" not in text.lower()  # as markup; escaped words may say anything
    return root

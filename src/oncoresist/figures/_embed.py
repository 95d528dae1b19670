"""A figure's text that is a standalone SVG file and embeds inline in an HTML page.

:class:`SvgText` is a ``str`` holding the standalone document (``<svg xmlns=...>``), so a
figure function's result can be written to a ``.svg`` file as it is and parses as XML.
Its ``__html__`` (the markupsafe protocol that ``Markup(...)`` and Jinja2's autoescaping
honour) returns the inline form without ``xmlns``: inside HTML the parser puts ``<svg>`` in
the SVG namespace itself, so the self-contained report holds no URL, not even the
namespace's.
"""

from __future__ import annotations

from oncoresist.figures._svg import SVG_NS, Svg

__all__ = ["SvgText", "svg_text"]

_XMLNS = f' xmlns="{SVG_NS}"'


class SvgText(str):
    """Standalone SVG text (with ``xmlns``) whose HTML form leaves ``xmlns`` out.

    Examples
    --------
    >>> from markupsafe import Markup
    >>> doc = svg_text(Svg(10, 10, title="Dot", desc="Nothing.", ident="dot"))
    >>> doc.startswith('<svg xmlns="http://www.w3.org/2000/svg"'), "xmlns" in Markup(doc)
    (True, False)
    """

    __slots__ = ()

    def __html__(self) -> str:
        """The inline form: the same figure without ``xmlns``."""
        return self.replace(_XMLNS, "", 1)


def svg_text(figure: Svg) -> SvgText:
    """The figure as :class:`SvgText` (standalone text, inline inside HTML templates)."""
    return SvgText(figure.standalone())

"""A figure's text that is a standalone SVG file and embeds inline in an HTML page.

:class:`SvgText` is a ``str`` holding the standalone document (``<svg xmlns=...>``), so a
figure function's result can be written to a ``.svg`` file as it is and parses as XML.
Its ``__html__`` (the markupsafe protocol that ``Markup(...)`` and Jinja2's autoescaping
honour) marks it as markup, so a template inserts the figure itself, not its escaped text.
The ``xmlns`` stays: it is valid in HTML5 and keeps the inline figure valid XML too.
"""

from __future__ import annotations

from oncoresist.figures._svg import Svg

__all__ = ["SvgText", "svg_text"]


class SvgText(str):
    """Standalone SVG text (with ``xmlns``) that HTML templates insert as markup.

    Examples
    --------
    >>> from markupsafe import Markup
    >>> doc = svg_text(Svg(10, 10, title="Dot", desc="Nothing.", ident="dot"))
    >>> doc.startswith('<svg xmlns="http://www.w3.org/2000/svg"'), Markup(doc) == doc
    (True, True)
    """

    __slots__ = ()

    def __html__(self) -> str:
        """The inline form: the same text, ``xmlns`` included."""
        return str(self)


def svg_text(figure: Svg) -> SvgText:
    """The figure as :class:`SvgText` (standalone text, inline inside HTML templates)."""
    return SvgText(figure.standalone())

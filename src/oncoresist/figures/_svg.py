"""A tiny SVG document builder: escaped text, accessible title and description, no script.

Every figure of oncoresist is an :class:`Svg`: it always carries ``role="img"``, a
``<title>`` and a ``<desc>`` (linked by ``aria-labelledby``), escapes every piece of text
and every attribute value, and refuses ``<script>``, ``<foreignObject>`` and event-handler
(``on*``) attributes, so a label taken from user data can never become markup or code.
Every rendering carries ``xmlns="http://www.w3.org/2000/svg"``, inside an HTML page too
(valid in HTML5), so any figure a page or file holds parses with an XML parser on its own.
"""

from __future__ import annotations

import math
from html import escape

__all__ = [
    "FONT",
    "GRID",
    "INK",
    "SVG_NS",
    "Svg",
    "attrs",
    "band",
    "el",
    "fmt",
    "line",
    "marker",
    "points",
    "polyline",
    "text",
    "tip",
]

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"
INK = "#1a1a1a"
GRID = "#d0d0d0"
_FORBIDDEN_TAGS = frozenset({"script", "foreignobject", "iframe", "object", "embed"})


def fmt(x: float) -> str:
    """A coordinate, short: one decimal, trailing zeros dropped."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def attrs(**kw: object) -> str:
    """Attributes as text, each value escaped; ``None`` and ``False`` are left out.

    A trailing underscore is dropped and other underscores become hyphens
    (``class_`` -> ``class``, ``stroke_width`` -> ``stroke-width``,
    ``data_day`` -> ``data-day``). Floats are written short.

    Raises
    ------
    ValueError
        For an event-handler attribute (``on...``): figures never carry code.
    """
    out = []
    for key, value in kw.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if name.lower().startswith("on"):
            raise ValueError(f"event-handler attribute {name!r} refused: figures carry no code")
        if isinstance(value, float):
            value = fmt(value)
        out.append(f'{name}="{escape(str(value), quote=True)}"')
    return " ".join(out)


def el(tag: str, body: str = "", /, **kw: object) -> str:
    """One element: ``<tag attrs>body</tag>``, or self-closed when ``body`` is empty.

    ``body`` is markup (already built by :func:`el` or :func:`text`); use :func:`text` for
    words.
    """
    if tag.lower() in _FORBIDDEN_TAGS:
        raise ValueError(f"<{tag}> refused: figures carry no code or foreign content")
    a = attrs(**kw)
    head = f"<{tag} {a}" if a else f"<{tag}"
    return f"{head}>{body}</{tag}>" if body else f"{head}/>"


def text(x: float, y: float, words: str, /, **kw: object) -> str:
    """A ``<text>`` at (x, y) with ``words`` escaped; default ink, 16 px."""
    kw.setdefault("font_size", 16)
    kw.setdefault("fill", INK)
    return el("text", escape(str(words), quote=False), x=float(x), y=float(y), **kw)


def tip(words: str | None) -> str:
    """A ``<title>`` child (the browser's tooltip and the screen reader's name)."""
    return f"<title>{escape(words, quote=False)}</title>" if words else ""


_POLYGONS = {
    "triangle": (3, -90.0, 1.25),
    "triangle-down": (3, 90.0, 1.25),
    "diamond": (4, -90.0, 1.25),
    "pentagon": (5, -90.0, 1.1),
    "hexagon": (6, 0.0, 1.05),
}


def marker(
    shape: str,
    x: float,
    y: float,
    r: float,
    *,
    fill: str,
    stroke: str,
    width: float = 2.0,
    title: str | None = None,
    **kw: object,
) -> str:
    """One marker of ``shape`` centred on (x, y) with radius about ``r``.

    Shapes: ``circle``, ``square``, ``triangle``, ``triangle-down``, ``diamond``,
    ``pentagon``, ``hexagon``, ``plus``. Extra keywords become attributes
    (``class_="marker"``, ``data_day=12``).
    """
    paint = {"fill": fill, "stroke": stroke, "stroke_width": float(width), **kw}
    if shape == "circle":
        return el("circle", tip(title), cx=float(x), cy=float(y), r=float(r), **paint)
    if shape == "square":
        s = r * 0.9
        return el("rect", tip(title), x=x - s, y=y - s, width=2 * s, height=2 * s, **paint)
    if shape == "plus":  # one arm's three corners, turned by a quarter three times
        a, b = r * 1.1, r * 0.4
        pts = [(-b, -a), (b, -a), (b, -b)]
        for _ in range(3):
            pts += [(-v, u) for u, v in pts[-3:]]
    elif shape in _POLYGONS:
        sides, turn, scale = _POLYGONS[shape]
        angles = [math.radians(turn + 360.0 * k / sides) for k in range(sides)]
        pts = [(r * scale * math.cos(t), r * scale * math.sin(t)) for t in angles]
    else:
        raise ValueError(f"unknown marker shape {shape!r}")
    return el("polygon", tip(title), points=points([(x + u, y + v) for u, v in pts]), **paint)


def points(xy: list[tuple[float, float]]) -> str:
    """A ``points`` attribute value from (x, y) pairs."""
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in xy)


def line(x1: float, y1: float, x2: float, y2: float, body: str = "", /, **kw: object) -> str:
    """A ``<line>`` from (x1, y1) to (x2, y2); ``body`` is markup (e.g. a :func:`tip`)."""
    return el("line", body, x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **kw)


def polyline(xy: list[tuple[float, float]], body: str = "", /, **kw: object) -> str:
    """A ``<polyline>`` through the (x, y) pairs ``xy``, unfilled unless ``fill`` is given."""
    kw.setdefault("fill", "none")
    return el("polyline", body, points=points(xy), **kw)


def band(
    upper: list[tuple[float, float]],
    lower: list[tuple[float, float]],
    body: str = "",
    /,
    **kw: object,
) -> str:
    """A shaded interval: a polygon along ``upper`` and back along ``lower``.

    ``upper`` and ``lower`` are (x, y) pairs in the same x order (the interval's high and
    low edge); the polygon has no outline unless ``stroke`` is given. Draw the interval's
    centre line over it with :func:`polyline`.
    """
    kw.setdefault("stroke", "none")
    return el("polygon", body, points=points([*upper, *reversed(lower)]), **kw)


class Svg:
    """One figure: a canvas of ``width`` x ``height`` with a title and a description.

    Parameters
    ----------
    width, height
        The ``viewBox`` (and default size) in px.
    title
        Short name of the figure (``<title>``): what a screen reader announces.
    desc
        What the figure shows, in words (``<desc>``): the figure's text alternative.
    ident
        ``id`` of the ``<svg>``; the title's and description's ids derive from it.
    cls
        ``class`` of the ``<svg>``.
    background
        Fill of a full-size rectangle behind everything (``None``: none).

    Examples
    --------
    >>> fig = Svg(200, 100, title="Demo", desc="One circle.", ident="demo")
    >>> fig.add(marker("circle", 50, 50, 6, fill="#0072B2", stroke=INK))
    >>> fig.standalone().startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    True
    """

    def __init__(
        self,
        width: float,
        height: float,
        *,
        title: str,
        desc: str,
        ident: str = "figure",
        cls: str | None = None,
        background: str | None = "#ffffff",
    ) -> None:
        if not title.strip():
            raise ValueError("a figure needs a title (its accessible name)")
        self.width = width
        self.height = height
        self.title = title
        self.desc = desc
        self.ident = ident
        self.cls = cls
        self.background = background
        self.parts: list[str] = []

    def add(self, *markup: str) -> None:
        """Append elements (markup built with :func:`el`, :func:`text`, :func:`marker`)."""
        for m in markup:
            low = m.lower()
            if "<script" in low or "<foreignobject" in low:
                raise ValueError("figures carry no script or foreign content")
            self.parts.append(m)

    def extend(self, markup: list[str]) -> None:
        """Append a list of elements."""
        self.add(*markup)

    def standalone(self, **extra: object) -> str:
        """The figure as SVG text: ``<svg xmlns=...>`` (valid standalone XML)."""
        ident = self.ident
        head = attrs(
            xmlns=SVG_NS,
            id=ident,
            class_=self.cls,
            viewBox=f"0 0 {fmt(self.width)} {fmt(self.height)}",
            width=fmt(self.width),
            height=fmt(self.height),
            role="img",
            aria_labelledby=f"{ident}-title {ident}-desc",
            font_family=FONT,
            **extra,
        )
        bg = el("rect", x=0, y=0, width=self.width, height=self.height, fill=self.background)
        return (
            f"<svg {head}>"
            f'<title id="{escape(ident)}-title">{escape(self.title, quote=False)}</title>'
            f'<desc id="{escape(ident)}-desc">{escape(self.desc, quote=False)}</desc>'
            + (bg if self.background else "")
            + "".join(self.parts)
            + "</svg>"
        )

    def inline(self, **extra: object) -> str:
        """The figure inside an HTML page: the same text as :meth:`standalone`, ``xmlns`` too."""
        return self.standalone(**extra)

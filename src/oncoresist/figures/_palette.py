"""Colour-blind-safe styles and the one variant -> (colour, marker, dash) assignment.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, *Color Universal Design*), then four
darker colours of Paul Tol's colour-blind-safe "muted" scheme (indigo, wine, olive, teal),
so 12 series get 12 colours. Colour alone is not enough past about 8 (some of the extra
colours are near an Okabe-Ito one for a colour-blind reader), so every series also gets a
marker shape and a dash pattern: the 12 x 8 (colour, marker) pairs and then 8 dash patterns
keep 768 series distinct, and the figures read in grey scale.

:func:`assign` is the single place where a series label (a variant such as
``"EGFR T790M"``, a clone, a strategy) gets its style. It depends only on the set of
labels, not their order: the labels are ordered by a hash of their text (SHA-256, stable
across runs and machines, unlike Python's ``hash``) and the k-th takes ``style(k)``, so the
clearest colours come first and yellow only from the 8th series on. The report, the web
page and any other figure of the same patient therefore draw the same variant in the same
colour and marker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DASHES", "EXTRA_COLOURS", "OKABE_ITO", "PALETTE", "SHAPES", "Style", "assign", "style"]

#: Okabe-Ito colours, ordered for contrast on white (yellow last).
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
#: Colours 9-12: Paul Tol's "muted" indigo, wine, olive and teal (Tol 2021, SRON/EPS/TN/09-002),
#: dark enough on white and apart from the Okabe-Ito hues in lightness or hue.
EXTRA_COLOURS = ("#332288", "#882255", "#999933", "#44AA99")
#: Every series colour, in the order they are given out.
PALETTE = OKABE_ITO + EXTRA_COLOURS
SHAPES = (
    "circle",
    "square",
    "triangle",
    "diamond",
    "triangle-down",
    "pentagon",
    "hexagon",
    "plus",
)
DASHES = ("", "9 4", "2 4", "9 4 2 4", "14 5", "4 4", "14 4 2 4 2 4", "1 3")
_N = len(PALETTE) * len(SHAPES) * len(DASHES)


@dataclass(frozen=True)
class Style:
    """How one series is drawn.

    ``colour`` (hex), ``marker`` (a shape name), ``dash`` (an SVG ``stroke-dasharray``,
    ``""`` for solid).
    """

    colour: str
    marker: str
    dash: str

    def __iter__(self):  # so ``colour, shape, dash = style`` keeps working
        return iter((self.colour, self.marker, self.dash))


def _slot(i: int) -> Style:
    n_c, n_s = len(PALETTE), len(SHAPES)
    colour = PALETTE[i % n_c]
    shape = SHAPES[(i // n_c + i % n_c) % n_s]  # diagonal: colour k starts with shape k
    dash = DASHES[(i // (n_c * n_s) + i % n_c) % len(DASHES)]
    return Style(colour, shape, dash)


def style(i: int) -> Style:
    """The style of the ``i``-th series when series have an order (strategies, lines).

    Distinct colours for ``i`` < 12, distinct (colour, marker) pairs for ``i`` < 96 and
    distinct styles for ``i`` < 768. The first 8 are the Okabe-Ito colours with shapes and
    dashes of their own.
    """
    return _slot(i % _N)


def _key(label: str) -> int:
    return int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "big")


def assign(labels: Iterable[str]) -> dict[str, Style]:
    """The style of every label: one deterministic assignment for report and web alike.

    Parameters
    ----------
    labels
        Series labels (duplicates are counted once); their order does not matter.

    Returns
    -------
    dict of str to Style
        ``label -> Style``. Up to 12 labels get 12 different colours (the 8 Okabe-Ito ones
        first); up to 96 get distinct (colour, marker) pairs; up to 768 get distinct styles.

    Examples
    --------
    >>> a = assign(["KRAS G12C", "EGFR T790M"])
    >>> a == assign(["EGFR T790M", "KRAS G12C"])
    True
    """
    unique = sorted(set(labels), key=lambda s: (_key(s), s))
    if len(unique) > _N:
        raise ValueError(f"{len(unique)} series: at most {_N} can be told apart")
    # in the order of the labels' hashes, the k-th label takes the k-th style: the clearest
    # colours first (yellow, faint on white, only from the 8th series on)
    return {label: style(k) for k, label in enumerate(unique)}

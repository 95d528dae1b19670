"""The report pages' templates: one Jinja2 environment, autoescaped, strict about names.

Every HTML page oncoresist writes (the patient report, the clone page, the screen pages)
and the sections the web patient page shares with the report are templates under
``templates/``; the modules that build the pages hand them plain data and call
:func:`render`. Text from data is escaped by the environment; an SVG made by the figure
code is passed as :class:`markupsafe.Markup` so it is embedded as it is. The style sheet is
a template too (``report.css``), inlined into every page, so a page stays one offline file.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

__all__ = ["TEMPLATES", "Markup", "environment", "number", "page", "render", "words"]

#: Directory of the report templates (shipped in the wheel with the package).
TEMPLATES = Path(__file__).with_name("templates")


def number(value: object, digits: int = 0) -> str:
    """A number with ``digits`` decimals and a true minus sign; "n/a" when not finite."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.{digits}f}".replace("-", "\u2212")


def words(value: object) -> str:
    """A code in words (underscores as spaces); "" for a missing value."""
    if value is None or value != value:  # None, NaN, NaT
        return ""
    try:
        import pandas as pd

        if value is pd.NA:
            return ""
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value).replace("_", " ")


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    """Give ``env`` the report templates' filters: pct, num, words and below_lod."""
    from oncoresist._words import below_lod
    from oncoresist.report._svg import pct

    # a value not detected reads "ND (< LoD 0.05 %)", never as if it were measured
    env.filters.update(pct=pct, num=number, words=words, below_lod=below_lod)
    return env


@functools.cache
def environment(*first: Path) -> jinja2.Environment:
    """The report templates' environment (autoescape on, undefined names an error).

    ``first``: folders searched before the report's own (the web pages' templates), so a
    page there can include the sections it shares with the report.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*first, TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return add_filters(env)


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` with ``context``: an HTML string."""
    return environment().get_template(name).render(**context)


def page(name: str, **context: Any) -> str:
    """A whole page: the template ``name`` with the package's version for its footer."""
    from oncoresist import __version__

    return render(name, version=__version__, **context) + "\n"

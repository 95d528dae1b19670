"""No HTML is assembled by f-strings or string concatenation outside templates (issue 19).

Every page oncoresist writes is a Jinja2 template (``report/templates/``,
``server/templates/``) rendered with autoescaping; Python code hands the templates plain
data. This test reads every module under ``src/oncoresist`` with :mod:`ast` and fails on an
f-string, ``+`` or ``%`` concatenation, ``.format`` or ``.join`` whose literal text holds an
HTML or SVG start or end tag (``<p``, ``</td>``, ...).

SVG is drawn in code, not in templates, by the figure modules listed in :data:`SVG_MODULES`
(the figure layer and the report's ``*_svg.py`` modules); :data:`SVG_FUNCTIONS` would name a
function elsewhere that draws an SVG (none does: the web page's legend keys come from the
figure layer). Those may build SVG elements, never HTML ones.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "oncoresist"

#: Modules that draw SVG in code (paths relative to src/oncoresist; a trailing / is a folder).
SVG_MODULES = (
    "figures/",
    "report/_svg.py",
    "report/_clone_svg.py",
    "report/_forecast_svg.py",
    "report/_screen_svg.py",
    "report/_synergy_svg.py",
    "report/_sc_svg.py",
)
#: Functions outside those modules that draw a small SVG: (module, function).
SVG_FUNCTIONS: set[tuple[str, str]] = set()

_SVG_TAGS = {
    "svg", "g", "line", "rect", "circle", "ellipse", "path", "polyline", "polygon", "text",
    "tspan", "title", "desc", "defs", "clipPath", "marker", "use", "symbol", "pattern",
    "linearGradient", "radialGradient", "stop", "mask", "metadata", "style", "image", "a",
}  # fmt: skip
_HTML_TAGS = {
    "html", "head", "body", "meta", "link", "title", "style", "script", "header", "footer",
    "main", "nav", "section", "article", "aside", "div", "span", "p", "a", "strong", "em",
    "code", "pre", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl",
    "dt", "dd", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "figure",
    "figcaption", "details", "summary", "form", "input", "label", "button", "select",
    "option", "textarea", "fieldset", "legend", "img", "small", "sup", "sub", "abbr", "b", "i",
}  # fmt: skip
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?=[\s>/])")


def _literal_text(node: ast.AST | None) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(v) for v in node.values)
    return ""


def _built_text(node: ast.AST) -> str:
    """The literal text of a string built in code (f-string, +, %, .format, .join)."""
    if isinstance(node, ast.JoinedStr):
        return _literal_text(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) + " " + _literal_text(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _literal_text(node.left)
    is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    if is_call and node.func.attr in ("format", "join"):  # type: ignore[union-attr]
        return _literal_text(node.func.value)  # type: ignore[union-attr]
    return ""


def markup_built_in_code(
    source: str, *, svg_allowed: bool = False, svg_functions: frozenset[str] = frozenset()
) -> list[tuple[int, str]]:
    """``(line, tag)`` of every string built in code that holds a markup tag.

    SVG tags are allowed where ``svg_allowed`` or inside a function named in
    ``svg_functions``; HTML tags never.
    """
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        for tag in _TAG.findall(_built_text(node)):
            svg_ok = svg_allowed or function in svg_functions
            markup = tag in _HTML_TAGS or tag in _SVG_TAGS
            if markup and not (svg_ok and tag in _SVG_TAGS):
                found.append((node.lineno, tag))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "")
    return sorted(set(found))


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def test_no_module_builds_html_in_code() -> None:
    offenders = []
    for path in _modules():
        name = _relative(path)
        svg_module = any(name.startswith(m) if m.endswith("/") else name == m for m in SVG_MODULES)
        functions = frozenset(f for m, f in SVG_FUNCTIONS if m == name)
        for line, tag in markup_built_in_code(
            path.read_text(encoding="utf-8"), svg_allowed=svg_module, svg_functions=functions
        ):
            offenders.append(f"{name}:{line}: <{tag}> built in code")
    assert not offenders, "HTML belongs in templates:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        'x = f"<td>{value}</td>"',
        'x = "<li>" + text + "</li>"',
        'x = "<p class=%s>" % cls',
        'x = "<tr>{}</tr>".format(cells)',
        'x = "</td><td>".join(cells)',
        "def f(c):\n    return f\"<rect fill='{c}'/>\"",
    ],
)
def test_the_scan_finds_markup_built_in_code(source: str) -> None:
    assert markup_built_in_code(source)


@pytest.mark.parametrize(
    "source",
    [
        'x = f"expected <DUP>, <DEL> in {where}"',
        'x = f"{a} < {b}"',
        'x = f"{v} <0.001%"',
        'x = "PMID:<digits> " + ref',
        '"""A docstring that names the <section> element."""',
        'x = render("page.html", rows=rows)',
    ],
)
def test_the_scan_passes_text_that_only_looks_like_markup(source: str) -> None:
    assert not markup_built_in_code(source)


def test_svg_is_allowed_only_where_listed() -> None:
    source = "def _swatch(c):\n    return f\"<svg><line stroke='{c}'/></svg>\""
    assert markup_built_in_code(source)
    assert not markup_built_in_code(source, svg_functions=frozenset({"_swatch"}))
    assert not markup_built_in_code(source, svg_allowed=True)
    html = 'def _swatch(c):\n    return f"<span>{c}</span>"'
    assert markup_built_in_code(html, svg_allowed=True)

"""The package map of docs/architecture.md, kept true.

Every module under ``src/oncoresist`` is parsed with :mod:`ast`; each import of
``oncoresist.<unit>`` (at module level or inside a function, absolute or relative, and a
module named in a string such as a lazy-command registry) is mapped to the unit it reaches,
and an import that :data:`ALLOWED` does not permit fails the test with its file and line.

``ALLOWED`` is the one place the map lives: docs/architecture.md describes it and lists the
:data:`KNOWN_VIOLATIONS`, the places where today's code breaks the design. Each is an
explicit, named exception (file, imported module), so that a new violation still fails and a
fixed one must be struck off.

Run this file as a script to print today's unit-to-unit import matrix::

    .venv/bin/python tests/test_architecture.py
"""

from __future__ import annotations

import ast
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"

# --------------------------------------------------------------------------- the map
#: modules at the package root that everything may use: the error types, atomic file
#: writing, the progress helper, the words for edge cases, and the root package itself
#: (``__version__``; its ``interpret`` shortcut imports lazily)
FOUNDATION = frozenset({"__init__", "errors", "_files", "_progress", "_words"})

ALLOWED: dict[str, frozenset[str]] = {
    # foundation: errors imports nothing; the others only errors
    "errors": frozenset(),
    "_files": frozenset({"errors"}),
    "_progress": frozenset({"errors"}),
    "_words": frozenset({"errors"}),
    "__init__": frozenset({"errors", "interpret"}),  # oncoresist.interpret(...) shortcut
    "__main__": frozenset({"cli"}),  # python -m oncoresist
    # analysis packages, from the bottom up
    "kb": FOUNDATION,
    "variants": FOUNDATION | {"kb"},
    "interpret": FOUNDATION | {"kb", "variants"},
    "monitor": FOUNDATION | {"kb", "variants", "interpret"},
    "clones": FOUNDATION | {"kb", "variants"},
    "evolve": FOUNDATION | {"kb", "figures"},
    "forecast": FOUNDATION | {"kb", "variants", "monitor", "evolve"},
    "screens": FOUNDATION,
    # drug combinations: the knowledge base for the mechanisms a pair covers, evolve for
    # the probability that resistance pre-exists (Bozic 2013)
    "synergy": FOUNDATION | {"kb", "evolve"},
    # single cells: the knowledge base for the mechanisms a programme stands for
    "singlecell": FOUNDATION | {"kb"},
    # exchange formats (annotated MAF/VCF, Phenopackets, cBioPortal) over the analyses
    "exchange": FOUNDATION | {"kb", "variants", "interpret", "monitor"},
    # persistence: tables in, tables out; no analysis package
    "store": FOUNDATION,
    # presentation: the figure layer draws plain data; report lays out every analysis
    "figures": FOUNDATION,
    "report": FOUNDATION
    | {"kb", "variants", "interpret", "monitor", "clones", "evolve", "forecast", "screens"}
    | {"synergy", "singlecell", "exchange", "figures"},
    # the two faces that talk to people
    "server": FOUNDATION
    | {"kb", "variants", "interpret", "monitor", "clones", "evolve", "forecast", "screens"}
    | {"exchange", "figures", "report", "store"},
    "cli": FOUNDATION
    | {"kb", "variants", "interpret", "monitor", "clones", "evolve", "forecast", "screens"}
    | {"synergy", "singlecell", "exchange", "figures", "report", "store", "server"},
}

#: what a cli module may import at module level: the rest waits inside the commands
CLI_EAGER = FOUNDATION | {"cli"}

#: (file under src/, imported module) -> why a cli module imports it at module level;
#: docs/architecture.md lists each under "Known violations"
KNOWN_EAGER: dict[tuple[str, str], str] = {}

#: (file under src/, imported module) -> why it is an exception; docs/architecture.md
#: lists each under "Known violations"
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {
    ("oncoresist/store/_store.py", "oncoresist.kb"): (
        "Store.ingest_serial/ingest_therapy take a KnowledgeBase for the readers they call"
    ),
    ("oncoresist/store/_store.py", "oncoresist.monitor._inputs"): (
        "the store reads serial/therapy/event files itself and shapes frames with monitor's"
        " frame builders; callers should read and pass frames to Store.ingest_frame"
    ),
    ("oncoresist/store/_store.py", "oncoresist.forecast._inputs"): (
        "Store.ingest_measurements reads the measurements file with forecast's reader"
    ),
    ("oncoresist/exchange/_cbioportal.py", "oncoresist.store"): (
        "the cBioPortal export pseudonymises identifiers with the store's keyed hash"
    ),
    ("oncoresist/server/_uploads.py", "oncoresist.cli"): (
        "the upload fork server preloads the command-line module by name, because a child"
        " re-runs the parent's __main__ (the console script)"
    ),
}

# --------------------------------------------------------------------------- the scan
_MODULE_NAME = re.compile(r"^oncoresist(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?$")
#: calls whose string argument names a logger or a resource folder, not an import
_NOT_IMPORTS = frozenset({"getLogger", "files"})


@dataclass(frozen=True)
class Import:
    """One import of an oncoresist module found in a source file."""

    file: str  # relative to src/, posix
    line: int
    source: str  # the importing unit
    target: str  # the imported unit
    module: str  # the dotted module imported
    lazy: bool  # inside a function or method, or under if TYPE_CHECKING
    by_name: bool  # a module named in a string (import_module, a registry)


def unit_of_file(path: Path, package: Path) -> str:
    """The unit a source file belongs to: its top-level subpackage or root module."""
    parts = path.relative_to(package).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _module_exists(package: Path, dotted: str) -> bool:
    parts = dotted.split(".")[1:]
    where = package.joinpath(*parts)
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _units(package: Path) -> set[str]:
    found = {p.stem for p in package.glob("*.py")}
    found |= {p.parent.name for p in package.glob("*/__init__.py")}
    return found


def _resolve_relative(dotted_file: str, is_package: bool, level: int, module: str | None) -> str:
    base = dotted_file.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _targets(node: ast.AST, dotted_file: str, is_package: bool) -> list[str]:
    """Dotted modules an import statement reaches (``from X import y`` reaches ``X.y``
    when ``y`` may be a submodule; the caller keeps only the unit)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        module = _resolve_relative(dotted_file, is_package, node.level, node.module)
    else:
        module = node.module or ""
    if module == "oncoresist":
        return [f"oncoresist.{alias.name}" for alias in node.names]
    return [module]


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def _not_run_on_import(tree: ast.AST) -> set[int]:
    """The ``id`` of every node that importing the module does not run: inside a function,
    method or lambda, or under ``if TYPE_CHECKING:``."""
    lazy: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            lazy.update(id(inner) for inner in ast.walk(node) if inner is not node)
        elif _type_checking(node):
            assert isinstance(node, ast.If)
            for statement in node.body:
                lazy.update(id(inner) for inner in ast.walk(statement))
    return lazy


def scan(package: Path) -> list[Import]:
    """Every import of an oncoresist module by a module under ``package``."""
    units = _units(package)
    found: list[Import] = []
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(package.parent)
        is_package = path.name == "__init__.py"
        dotted_file = ".".join(rel.with_suffix("").parts)
        if is_package:
            dotted_file = dotted_file.removesuffix(".__init__")
        source = unit_of_file(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lazy = _not_run_on_import(tree)
        skipped: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in _NOT_IMPORTS:
                    skipped.update(id(arg) for arg in node.args)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules, by_name = _targets(node, dotted_file, is_package), False
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _MODULE_NAME.match(node.value)
                and id(node) not in skipped
                and _module_exists(package, node.value.split(":")[0])
            ):
                modules, by_name = [node.value.split(":")[0]], True
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] != "oncoresist":
                    continue
                target = parts[1] if len(parts) > 1 and parts[1] in units else "__init__"
                if len(parts) > 1 and parts[1] not in units:
                    module = "oncoresist"  # a name from the root package (__version__)
                found.append(
                    Import(
                        file=rel.as_posix(),
                        line=node.lineno,
                        source=source,
                        target=target,
                        module=module,
                        lazy=id(node) in lazy,
                        by_name=by_name,
                    )
                )
    return found


def violations(imports: list[Import]) -> list[Import]:
    """Imports between units that :data:`ALLOWED` does not permit."""
    return [
        i
        for i in imports
        if i.source != i.target and i.target not in ALLOWED.get(i.source, frozenset())
    ]


def _describe(i: Import) -> str:
    how = "names" if i.by_name else "imports"
    allowed = ", ".join(sorted(ALLOWED.get(i.source, ()))) or "nothing"
    return (
        f"src/{i.file}:{i.line} {how} {i.module} ({i.source} -> {i.target}); "
        f"{i.source} may import: {allowed}"
    )


def matrix(imports: list[Import]) -> dict[tuple[str, str], int]:
    """How many imports go from each unit to each other unit."""
    return dict(Counter((i.source, i.target) for i in imports if i.source != i.target))


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return scan(SRC / "oncoresist")


# --------------------------------------------------------------------------- the tests
def test_every_package_is_on_the_map() -> None:
    missing = sorted(_units(SRC / "oncoresist") - ALLOWED.keys())
    assert not missing, (
        f"{missing} not in ALLOWED (tests/test_architecture.py): add each with what it may "
        "import, and describe it in docs/architecture.md"
    )


def test_the_map_has_no_cycles() -> None:
    graph = {unit: {t for t in targets if t != unit} for unit, targets in ALLOWED.items()}
    # the root package's lazy shortcut and every unit's use of __version__ is the one loop
    # the map tolerates: the root is loaded before any submodule anyway
    for targets in graph.values():
        targets.discard("__init__")
    done: set[str] = set()
    order: list[str] = []

    def visit(unit: str, path: list[str]) -> None:
        if unit in path:
            cycle = " -> ".join([*path[path.index(unit) :], unit])
            pytest.fail(f"the import map has a cycle: {cycle}")
        if unit in done:
            return
        for target in sorted(graph.get(unit, ())):
            visit(target, [*path, unit])
        done.add(unit)
        order.append(unit)

    for unit in sorted(graph):
        visit(unit, [])
    assert set(order) == set(graph)


def test_imports_follow_the_map(imports: list[Import]) -> None:
    new = [i for i in violations(imports) if (i.file, i.module) not in KNOWN_VIOLATIONS]
    assert not new, "imports the map forbids (docs/architecture.md):\n" + "\n".join(
        _describe(i) for i in new
    )


def test_known_violations_are_still_there(imports: list[Import]) -> None:
    present = {(i.file, i.module) for i in violations(imports)}
    fixed = sorted(set(KNOWN_VIOLATIONS) - present)
    assert not fixed, (
        f"no longer violated: {fixed}; strike them from KNOWN_VIOLATIONS and from "
        "'Known violations' in docs/architecture.md"
    )


def _eager_in_cli(imports: list[Import]) -> list[Import]:
    return [
        i
        for i in imports
        if i.source == "cli" and not i.lazy and not i.by_name and i.target not in CLI_EAGER
    ]


def test_cli_imports_its_commands_lazily(imports: list[Import]) -> None:
    new = [i for i in _eager_in_cli(imports) if (i.file, i.module) not in KNOWN_EAGER]
    assert not new, "the command line imports at module level:\n" + "\n".join(
        f"src/{i.file}:{i.line} {i.module}; import it inside the command" for i in new
    )


def test_known_eager_imports_are_still_there(imports: list[Import]) -> None:
    fixed = sorted(set(KNOWN_EAGER) - {(i.file, i.module) for i in _eager_in_cli(imports)})
    assert not fixed, (
        f"now imported lazily: {fixed}; strike them from KNOWN_EAGER and from "
        "'Known violations' in docs/architecture.md"
    )


def test_root_package_imports_lazily(imports: list[Import]) -> None:
    eager = [i for i in imports if i.file == "oncoresist/__init__.py" and not i.lazy]
    assert not eager, [f"src/{i.file}:{i.line} {i.module}" for i in eager]


def test_the_document_tells_the_map() -> None:
    text = DOC.read_text(encoding="utf-8")
    packages = [u for u in ALLOWED if not u.startswith("_") and u != "errors"]
    unnamed = [u for u in packages if f"`{u}`" not in text]
    assert not unnamed, f"docs/architecture.md does not name {unnamed}"
    known = text.split("## Known violations", 1)
    assert len(known) == 2, "docs/architecture.md has no 'Known violations' section"
    unlisted = [
        (file, module)
        for file, module in {**KNOWN_VIOLATIONS, **KNOWN_EAGER}
        if f"src/{file}" not in known[1] or f"`{module}`" not in known[1]
    ]
    assert not unlisted, f"'Known violations' in docs/architecture.md omits {unlisted}"


# ---------------------------------------------------------------- the checker itself
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "oncoresist"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_the_checker_finds_forbidden_imports_of_every_form(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "",
            "report/__init__.py": "",
            "report/_html.py": "",
            "server/__init__.py": "",
            "cli/__init__.py": "",
            "kb/__init__.py": "from oncoresist.errors import InputError\n",
            "kb/_load.py": (
                "import logging\n"
                "from . import _other\n"
                "from ..report import _html\n"  # line 3: relative, module level
                "log = logging.getLogger('oncoresist.server')\n"  # a logger, not an import
                "def draw():\n"
                "    import oncoresist.report._html\n"  # line 6: absolute, in a function
                "    from oncoresist import server\n"  # line 7: from the root package
                "    return 'oncoresist.cli'\n"  # line 8: a module named in a string
            ),
            "kb/_other.py": "from oncoresist import __version__\n",
        },
    )
    found = scan(package)
    bad = sorted((i.line, i.target, i.lazy, i.by_name) for i in violations(found))
    assert bad == [
        (3, "report", False, False),
        (6, "report", True, False),
        (7, "server", True, False),
        (8, "cli", True, True),
    ]
    assert all(i.file == "oncoresist/kb/_load.py" for i in violations(found))
    # same-package and root imports are fine
    assert {(i.source, i.target) for i in found} >= {("kb", "kb"), ("kb", "__init__")}


def test_the_checker_flags_eager_command_imports(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "",
            "kb/__init__.py": "",
            "cli/__init__.py": (
                "from typing import TYPE_CHECKING\n"
                "from oncoresist.errors import InputError\n"
                "import oncoresist.kb\n"
                "if TYPE_CHECKING:\n"
                "    from oncoresist.kb import KnowledgeBase\n"
            ),
        },
    )
    found = scan(package)
    assert [(i.line, i.target, i.lazy) for i in found] == [
        (2, "errors", False),
        (3, "kb", False),
        (5, "kb", True),
    ]
    assert [(i.line, i.module) for i in _eager_in_cli(found)] == [(3, "oncoresist.kb")]


# ------------------------------------------------------------------------ the matrix
if __name__ == "__main__":  # pragma: no cover - a tool for whoever edits the map
    found = scan(SRC / "oncoresist")
    counts = matrix(found)
    rows = sorted({s for s, _ in counts})
    columns = sorted({t for _, t in counts})
    width = max(map(len, rows)) + 1
    print(" " * width + " ".join(f"{c[:9]:>9}" for c in columns))
    for r in rows:
        cells = [f"{counts.get((r, c), ''):>9}" for c in columns]
        print(f"{r:<{width}}" + " ".join(cells))
    by_pair: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for i in violations(found):
        by_pair[(i.file, i.module)].append(i)
    print("\nviolations of the map:")
    for (file, module), where in sorted(by_pair.items()):
        known = "known" if (file, module) in KNOWN_VIOLATIONS else "NEW"
        lines = ",".join(str(i.line) for i in where)
        print(f"  {known:5} src/{file}:{lines} -> {module}")
    print("\nmodule-level imports in the command line beyond the foundation:")
    for i in _eager_in_cli(found):
        known = "known" if (i.file, i.module) in KNOWN_EAGER else "NEW"
        print(f"  {known:5} src/{i.file}:{i.line} -> {i.module}")

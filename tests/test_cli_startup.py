"""Start-up of the command line: heavy sub-commands are imported only when they run."""

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from oncoresist.cli import LAZY, LAZY_GROUPS, app, load_lazy

runner = CliRunner()
HEAVY = ("scipy", "pandas", "oncoresist.evolve", "oncoresist.forecast", "oncoresist.server")


def _imported_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport sys\n"
        f"print('IMPORTED:', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    line = [t for t in done.stderr.splitlines() if t.startswith("IMPORTED:")][-1]
    return line.split()[1:]


def test_importing_the_cli_imports_no_heavy_library():
    assert _imported_after("import oncoresist.cli") == []


def test_help_imports_no_heavy_library():
    code = (
        "import sys\nfrom oncoresist.cli import app\nsys.argv = ['oncoresist', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert _imported_after(code) == []


def test_one_case_interpret_does_not_import_the_evolve_code():
    code = (
        "from typer.testing import CliRunner\nfrom oncoresist.cli import app\n"
        "r = CliRunner().invoke(app, ['interpret', '-a', 'EGFR L858R', '-d', 'osimertinib'])\n"
        "assert r.exit_code == 0, r.output"
    )
    imported = _imported_after(code)
    assert "scipy" not in imported and "oncoresist.evolve" not in imported
    assert "pandas" not in imported  # the knowledge base imports it for its table exports only


def test_importing_the_knowledge_base_imports_no_heavy_library():
    assert _imported_after("import oncoresist.kb") == []


def test_help_lists_every_group_with_its_own_help():
    result = runner.invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name in LAZY:
        assert f" {name} " in result.output
    for name in ("kb", "variants", "monitor", "interpret", "report", "demo"):
        assert f" {name} " in result.output


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_help_matches_the_loaded_command(name):
    command = load_lazy(name)
    assert command.name == name
    first = " ".join((command.help or "").split("\n\n")[0].split())
    assert first == LAZY[name][2]


@pytest.mark.parametrize("name", sorted(LAZY_GROUPS))
def test_lazy_groups_run(name):
    result = runner.invoke(app, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"oncoresist {name}" in result.output


def test_mistyped_group_is_suggested():
    result = runner.invoke(app, ["evolv"])
    assert result.exit_code == 2
    assert "evolve" in result.output


@pytest.mark.parametrize("name", sorted(LAZY))
def test_a_group_s_help_imports_no_heavy_library(name):
    """``oncoresist GROUP --help`` loads the group's module: heavy imports wait in commands."""
    code = f"from oncoresist.cli import load_lazy\nload_lazy({name!r})"
    assert _imported_after(code) == []


GROUP_MODULES = ("kb", "variants", "interpret", "monitor", "report", "demo", "evolve",
                 "forecast", "screens", "clones", "audit", "server", "exchange", "synergy",
                 "sc")  # fmt: skip


def test_the_command_line_is_a_package_with_one_module_per_group():
    import importlib.util

    import oncoresist.cli

    assert oncoresist.cli.__file__.endswith(("cli/__init__.py", "cli\\__init__.py"))
    for name in GROUP_MODULES:
        assert importlib.util.find_spec(f"oncoresist.cli.{name}") is not None, name
    for old in ("audit", "clones", "evolve", "exchange", "forecast", "progress", "screens",
                "server"):  # fmt: skip
        assert importlib.util.find_spec(f"oncoresist._cli_{old}") is None, old
    assert {module for module, _, _ in LAZY.values()} <= {
        f"oncoresist.cli.{name}" for name in GROUP_MODULES
    }


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "oncoresist", "--help"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and " monitor " in done.stdout

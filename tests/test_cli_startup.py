"""Start-up of the command line: heavy sub-commands are imported only when they run."""

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

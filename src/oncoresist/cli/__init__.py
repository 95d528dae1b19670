"""The ``oncoresist`` command: one sub-command group per package, one module per group.

``kb``, ``variants``, ``interpret``, ``monitor``, ``report`` and ``demo`` are light (typer and
rich; each command imports what it needs when it runs) and registered here; the groups whose
modules import heavy libraries are listed in :data:`LAZY` and imported only when they run.
Only this package (and the server) talks to people. Every :class:`InputError` becomes one
line on stderr and exit status 2; no traceback is shown for a user's mistake.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from oncoresist.cli._common import err, out, show_warning
from oncoresist.cli.demo import demo
from oncoresist.cli.interpret import interpret_cmd
from oncoresist.cli.kb import kb_app
from oncoresist.cli.monitor import monitor_app
from oncoresist.cli.report import report_cmd
from oncoresist.cli.variants import variants_app
from oncoresist.errors import OncoresistError

# Sub-commands whose modules import heavy libraries (scipy, pandas, the evolve and server
# code) are loaded only when they run: `oncoresist --help` and `oncoresist interpret` do
# not pay for them. name -> (module, attribute, one-line help shown in `--help`); the help
# must be the first line of the loaded command's own help (a test checks it).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": (
        "oncoresist.cli.server",
        "serve",
        "Run the tumour-board web service (API at /api/v1, browser interface at /).",
    ),
}
LAZY_GROUPS: dict[str, tuple[str, str, str]] = {
    "evolve": (
        "oncoresist.cli.evolve",
        "evolve_app",
        "Evolutionary dynamics under therapy: closed forms, exact simulation, strategies.",
    ),
    "forecast": (
        "oncoresist.cli.forecast",
        "forecast_app",
        "Fit a patient's serial markers and forecast each strategy, with calibrated "
        "uncertainty; backtest the forecasts.",
    ),
    "screen": (
        "oncoresist.cli.screens",
        "screen_app",
        "Pooled CRISPR knockout screens under drug.",
    ),
    "clones": (
        "oncoresist.cli.clones",
        "clones_app",
        "Clones over time: CCF clusters, trees, fish plots.",
    ),
    "synergy": (
        "oncoresist.cli.synergy",
        "synergy_app",
        "Drug combinations: dose-response fits and synergy scores (Bliss, HSA, Loewe, ZIP).",
    ),
    "sc": (
        "oncoresist.cli.sc",
        "sc_app",
        "Single cells under drug: resistance programmes, abundance, expression, copy number.",
    ),
    "audit": ("oncoresist.cli.audit", "audit_app", "The append-only, hash-chained audit log."),
    "users": ("oncoresist.cli.server", "users_app", "Accounts of the web service."),
    "exchange": (
        "oncoresist.cli.exchange",
        "app",
        "Exchange formats: annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal study files.",
    ),
}
LAZY = {**LAZY_COMMANDS, **LAZY_GROUPS}


def load_lazy(name: str):
    """The click command of a lazily loaded sub-command or group (imports its module)."""
    from importlib import import_module

    module, attribute, _ = LAZY[name]
    target = getattr(import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:  # a function registered as one command
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The root group: heavy sub-commands are imported when invoked, not when listed.

    ``--help`` lists them from :data:`LAZY` without importing their modules.
    """

    _listing = False

    def list_commands(self, ctx):  # noqa: D102 - click's interface
        eager = [n for n in super().list_commands(ctx) if n not in LAZY]
        return [*LAZY_COMMANDS, *eager, *LAZY_GROUPS]

    def get_command(self, ctx, cmd_name):  # noqa: D102 - click's interface
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in LAZY:
            return command
        if self._listing:  # the help's list of commands: a stand-in with the short help
            text = LAZY[cmd_name][2]
            return TyperCommand(cmd_name, short_help=text, help=text)
        command = load_lazy(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx, formatter):  # noqa: D102 - click's interface
        self._listing = True
        try:
            return super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx, args):  # noqa: D102 - click's interface
        # "did you mean" for a mistyped command considers the lazy ones too
        for name in LAZY:
            self.commands.setdefault(name, None)  # type: ignore[arg-type]
        try:
            return super().resolve_command(ctx, args)
        finally:
            for name in LAZY:
                if self.commands.get(name) is None:
                    self.commands.pop(name, None)


app = typer.Typer(
    name="oncoresist",
    help="Targeted-therapy resistance in cancer: knowledge base, interpretation, monitoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)
# the light commands first, then the light groups (the order `--help` lists them in)
app.command("interpret")(interpret_cmd)
app.command("report")(report_cmd)
app.command("demo")(demo)
app.add_typer(kb_app, name="kb")
app.add_typer(variants_app, name="variants")
app.add_typer(monitor_app, name="monitor")


def _version(value: bool) -> None:
    if value:
        from oncoresist import __version__

        out.print(f"oncoresist {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Targeted-therapy resistance in cancer."""


def main() -> None:
    """Entry point: run the app, turning input errors into one line and exit status 2."""
    import warnings

    warnings.showwarning = show_warning
    try:
        app()
    except OncoresistError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        err.print(f"error: {exc.filename}: {exc.strerror}", markup=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()

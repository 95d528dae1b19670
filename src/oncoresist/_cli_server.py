"""``oncoresist serve`` and ``oncoresist users``: run the web service, manage its accounts."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oncoresist.errors import InputError

users_app = typer.Typer(help="Accounts of the web service.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default: ONCORESIST_DB or the user's data directory)."),
]
PASSWORD_ENV = "ONCORESIST_NEW_PASSWORD"


def _engine(db: str | None):
    from oncoresist.store import open_store

    return open_store(db)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: DbOption = None,
    audit_log: Annotated[
        Path | None,
        typer.Option(help="Audit log (default: ONCORESIST_AUDIT_LOG or the data directory)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes.")] = 1,
    max_upload_mb: Annotated[float, typer.Option(min=0.01, help="Largest upload (MiB).")] = 20,
    upload_workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Uploads parsed and stored at once, per worker (default: half the CPUs); "
            "more wait, so page reads keep their CPU.",
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log each request: method, route template, status, time.")
    ] = True,
    keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            help="Seconds an idle connection stays open (clients and proxies "
            "in front should time out sooner).",
        ),
    ] = 5,
) -> None:
    """Run the tumour-board web service (API at /api/v1, browser interface at /).

    The pseudonymisation key comes from ONCORESIST_KEY or ONCORESIST_KEY_FILE and never
    reaches the database. Create accounts first with ``oncoresist users add``.
    """
    import uvicorn

    from oncoresist.server._settings import AUDIT_ENV
    from oncoresist.store import DB_ENV, resolve_key

    resolve_key(None)  # fail now, with a clear message, when there is no key
    if db:
        os.environ[DB_ENV] = db
    if audit_log:
        os.environ[AUDIT_ENV] = str(audit_log)
    os.environ["ONCORESIST_MAX_UPLOAD_BYTES"] = str(int(max_upload_mb * 1024 * 1024))
    if upload_workers is not None:
        os.environ["ONCORESIST_UPLOAD_WORKERS"] = str(upload_workers)
    # uvicorn's own access log would print the path and query sent; ours prints the route
    # template (no pseudonym, no search text), see oncoresist.server._app.route_template
    logging.getLogger("oncoresist.server.access").disabled = not access_log
    uvicorn.run("oncoresist.server._asgi:build", factory=True, host=host, port=port,
                workers=workers, access_log=False, proxy_headers=False,
                timeout_keep_alive=keep_alive,
                server_header=False, log_level="info", log_config=_LOG_CONFIG)  # fmt: skip


_LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "plain",
                         "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["err"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "oncoresist": {"handlers": ["err"], "level": "INFO", "propagate": False},
    },
}  # fmt: skip


def _password(confirm: bool) -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    return typer.prompt("password", hide_input=True, confirmation_prompt=confirm)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, . _ -")],
    role: Annotated[str, typer.Option(help="clinician, researcher or admin.")],
    site: Annotated[str | None, typer.Option(help="The user's site (clinicians).")] = None,
    db: DbOption = None,
) -> None:
    """Create an account (password from a hidden prompt, or ONCORESIST_NEW_PASSWORD)."""
    from oncoresist.server._users import add_user

    with _engine(db) as store:
        user = add_user(store.engine, username, _password(True), role=role, site=site)
    out.print(f"user {user.username} added ({user.role}{', ' + user.site if user.site else ''})",
              markup=False)  # fmt: skip


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List the accounts."""
    from oncoresist.server._users import list_users

    with _engine(db) as store:
        users = list_users(store.engine)
    table = Table(title=f"{len(users)} users")
    for col in ("user", "role", "site", "active"):
        table.add_column(col)
    for u in users:
        table.add_row(u.username, u.role, u.site or "-", "yes" if u.active else "no")
    out.print(table)


@users_app.command("disable")
def users_disable(username: str, db: DbOption = None) -> None:
    """Disable an account: its tokens stop working at once."""
    from oncoresist.server._users import set_active

    with _engine(db) as store:
        if not set_active(store.engine, username, False):
            raise InputError(f"no user {username!r}", field="username")
    out.print(f"user {username} disabled", markup=False)

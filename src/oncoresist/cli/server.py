"""``oncoresist serve`` and ``oncoresist users``: run the web service, manage its accounts."""

from __future__ import annotations

import ipaddress
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
    parse_timeout: Annotated[
        float | None,
        typer.Option(
            "--parse-timeout",
            metavar="SECONDS",
            min=0.001,
            help="Seconds an upload may take to parse, store and rebuild its patients' "
            "pages before it is refused (default: ONCORESIST_PARSE_TIMEOUT, else 60).",
        ),
    ] = None,
    normals: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Panel of normals every call and alert is tested against, read and "
            "fitted at start-up (default: ONCORESIST_NORMALS, else the default background).",
        ),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            help="Chance that a resistance-free patient's series ever raises a resistance "
            "alert (default: ONCORESIST_BUDGET, else 0.02).",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert",
            metavar="FILE",
            help="PEM certificate chain: serve HTTPS only, with Secure cookies and HSTS "
            "(default: ONCORESIST_TLS_CERT).",
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(
            "--tls-key",
            metavar="FILE",
            help="Its unencrypted PEM private key, mode 0600 (default: ONCORESIST_TLS_KEY; "
            "none: the key is in the certificate's file).",
        ),
    ] = None,
    behind_https_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-https-proxy",
            help="A reverse proxy in front terminates TLS: Secure cookies and HSTS without "
            "a local certificate (or ONCORESIST_BEHIND_HTTPS_PROXY=1). List the proxy in "
            "ONCORESIST_TRUSTED_PROXIES.",
        ),
    ] = False,
    hsts_seconds: Annotated[
        int | None,
        typer.Option(
            "--hsts-seconds",
            min=0,
            help="max-age of Strict-Transport-Security over HTTPS; 0 sends none "
            "(default: ONCORESIST_HSTS_SECONDS, else a year).",
        ),
    ] = None,
) -> None:
    """Run the tumour-board web service (API at /api/v1, browser interface at /).

    The pseudonymisation key comes from ONCORESIST_KEY or ONCORESIST_KEY_FILE and never
    reaches the database. Create accounts first with ``oncoresist users add``. The
    settings go to each worker process through the environment (``ONCORESIST_*``); they
    are checked here first, the panel of normals read and fitted, so a bad value or file
    stops the command with one line naming it.
    """
    import uvicorn

    from oncoresist.server._settings import AUDIT_ENV, ENVIRONMENT, settings_from_env
    from oncoresist.server._views import MonitorConfig
    from oncoresist.store import DB_ENV, resolve_key

    resolve_key(None)  # fail now, with a clear message, when there is no key
    if db:
        os.environ[DB_ENV] = db
    if audit_log:
        os.environ[AUDIT_ENV] = str(audit_log)
    given = {"max_upload_bytes": int(max_upload_mb * 1024 * 1024),
             "upload_workers": upload_workers, "parse_timeout": parse_timeout,
             "normals": normals.resolve() if normals else None, "budget": budget,
             "tls_cert": tls_cert.resolve() if tls_cert else None,
             "tls_key": tls_key.resolve() if tls_key else None,
             "behind_https_proxy": 1 if behind_https_proxy else None,
             "hsts_seconds": hsts_seconds}  # fmt: skip
    for name, value in given.items():
        if value is not None:
            os.environ[ENVIRONMENT[name]] = str(value)
    settings = settings_from_env()  # the TLS files are loaded here, as uvicorn will
    MonitorConfig.from_settings(settings)  # each worker does it again, at start-up
    _warn_plain_http(settings, host)
    # uvicorn's own access log would print the path and query sent; ours prints the route
    # template (no pseudonym, no search text), see oncoresist.server._app.route_template
    logging.getLogger("oncoresist.server.access").disabled = not access_log
    uvicorn.run("oncoresist.server._asgi:build", factory=True, host=host, port=port,
                workers=workers, access_log=False, proxy_headers=False,
                timeout_keep_alive=keep_alive,
                ssl_certfile=settings.tls_cert, ssl_keyfile=settings.tls_key,
                server_header=False, log_level="info", log_config=_LOG_CONFIG)  # fmt: skip


def _loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return False


def _warn_plain_http(settings, host: str) -> None:
    """Say so when passwords and tokens would cross a network in the clear."""
    log = logging.getLogger("oncoresist.server")
    if not settings.https and not _loopback(host):
        log.warning("serving plain HTTP on %s: passwords, tokens and patient pages cross the "
                    "network unencrypted; give --tls-cert and --tls-key, or put a TLS proxy "
                    "in front (--behind-https-proxy)", host)  # fmt: skip
    if settings.behind_https_proxy and not settings.trusted_proxies:
        log.warning("--behind-https-proxy without ONCORESIST_TRUSTED_PROXIES: the login "
                    "throttle counts every client as the proxy's address")  # fmt: skip


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
    site: Annotated[
        str | None,
        typer.Option(help="The user's site (clinicians and admins; researchers have none)."),
    ] = None,
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

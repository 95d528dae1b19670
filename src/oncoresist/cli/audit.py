"""``oncoresist audit``: check the hash-chained audit log against the store's anchor.

Exit status of ``audit verify``: 0 the chain is intact under the key and reaches the anchor
the store holds; 1 it is not (an event changed, removed, inserted or reordered, a
re-chained log, or a log whose last events are gone); 2 it cannot be verified (no key,
``--unkeyed``, no store or no anchor table, no log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)

LogArg = Annotated[Path, typer.Argument(help="The audit log (one JSON event per line).")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The store holding the log's anchor (default: ONCORESIST_DB, else the default store).",
    ),
]
AsOpt = Annotated[
    Path | None,
    typer.Option(
        "--as",
        help="The path the service writes the log at, when LOG is a copy "
        "(the anchor is found by that path).",
    ),
]


def _not_verifiable(log: Path, why: str) -> typer.Exit:
    out.print(f"{log}: not verifiable: {why}", markup=False)
    return typer.Exit(2)


def _anchor(log: Path, db: str | None, as_path: Path | None, key: bytes):
    """The store's anchor of ``log`` (read only: the store is neither created nor migrated)."""
    import sqlalchemy as sa

    from oncoresist.store._audit import AuditAnchor
    from oncoresist.store._engine import create_store_engine, resolve_url

    url = resolve_url(db)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise _not_verifiable(
            log,
            f"no store at {url.database} to hold the log's anchor (give --db or set ONCORESIST_DB)",
        )
    engine = create_store_engine(url)
    if not sa.inspect(engine).has_table("audit_anchor"):
        engine.dispose()
        raise _not_verifiable(
            log,
            "the store has no audit anchor table (open it with this version once to upgrade it)",
        )
    return AuditAnchor(engine, key=key, log=as_path or log)


def _key(log: Path, keyed: bool | None) -> bytes:
    from oncoresist.store import StoreKeyError, resolve_key

    if keyed is False:
        raise _not_verifiable(
            log,
            "--unkeyed: not verifiable without the audit "
            "key (a plain SHA-256 chain can be rebuilt by whoever edits the log)",
        )
    try:
        return resolve_key()
    except StoreKeyError:
        raise _not_verifiable(
            log, "not verifiable without the audit key (set ONCORESIST_KEY or ONCORESIST_KEY_FILE)"
        ) from None


@audit_app.command("verify")
def verify_cmd(
    log: LogArg,
    db: DbOpt = None,
    as_path: AsOpt = None,
    keyed: Annotated[
        bool | None,
        typer.Option(
            "--keyed/--unkeyed",
            help="HMAC with the site key, the only check that "
            "certifies a log (--unkeyed only reports that).",
        ),
    ] = None,
) -> None:
    """Check every event's HMAC and link, then the end against the store's anchor.

    Exit 1 at the first break (naming its line) or a truncated log; exit 2 when the log
    cannot be verified (no key, no store).
    """
    from oncoresist.store import verify_log

    key = _key(log, keyed)
    report = verify_log(log, key=key)  # the chain first: a break names its line
    if not report.ok:
        out.print(
            f"{log} line {report.line}: {report.problem}; {report.events} events before "
            "it verified (HMAC with the site key)"
        )
        raise typer.Exit(1)
    anchor = _anchor(log, db, as_path, key)
    try:
        report = verify_log(log, key=key, anchor=anchor)
    finally:
        anchor.engine.dispose()
    if report.ok:
        out.print(
            f"{log}: {report.events} events, chain intact and anchored (HMAC with the site key)"
        )
        return
    where = f" line {report.line}" if report.line else ""
    out.print(
        f"{log}{where}: {report.problem}; {report.events} events verified (HMAC with the site key)"
    )
    raise typer.Exit(1)


@audit_app.command("reanchor")
def reanchor_cmd(log: LogArg, db: DbOpt = None, as_path: AsOpt = None) -> None:
    """Anchor the store at the log's last event, clearing a mismatch or recovery record.

    For a person who has looked at a reported mismatch or torn tail: the whole chain must
    verify under the key first (exit 1 otherwise); what the anchor said before is printed.
    """
    from oncoresist.store import verify_log

    key = _key(log, None)
    report = verify_log(log, key=key)
    if not report.ok:
        out.print(f"{log} line {report.line}: {report.problem}; not re-anchored", markup=False)
        raise typer.Exit(1)
    anchor = _anchor(log, db, as_path, key)
    try:
        before = anchor.read()
        head = _last_event(log)
        if head is not None:
            anchor.reset(head["seq"], head["hash"])
    finally:
        anchor.engine.dispose()
    was = "none"
    if before is not None:
        was = (
            f"event {before.seq}; mismatch: {before.mismatch or 'none'}; "
            f"torn tails recovered: {before.recovered}"
        )
    out.print(f"{log}: anchored at event {report.events} (was: {was})", markup=False)


def _last_event(log: Path) -> dict | None:
    import json

    last = None
    with log.open("rb") as handle:
        for raw in handle:
            last = raw
    return json.loads(last) if last else None

"""The web service's shared login state: throttle counters and revoked sessions.

Rows live in the store (tables ``login_throttle`` and ``revoked_sessions``, migration
0005), so every worker process of a service, on every host of a PostgreSQL deployment,
counts the same failed logins and refuses the same logged-out sessions. Keys are opaque
(the server passes keyed hashes, never an account name or an address). Times are Unix
seconds (floats), from the caller's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa

from oncoresist.store import _schema as s
from oncoresist.store._engine import for_writing, retry

__all__ = [
    "clear_key",
    "forget_old",
    "is_revoked",
    "key_rows",
    "record_hit",
    "revoke_session",
    "set_until",
]

_ROWS = sa.select(s.login_throttle.c.key, s.login_throttle.c.hits, s.login_throttle.c.last_at,
                  s.login_throttle.c.until)  # fmt: skip


def _insert(engine: sa.Engine):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def key_rows(engine: sa.Engine, keys: Iterable[str]) -> dict[str, tuple[int, float, float]]:
    """``key -> (hits, last_at, until)`` for those of ``keys`` that have a row (one query)."""
    keys = list(keys)
    with engine.connect() as connection:
        rows = connection.execute(_ROWS.where(s.login_throttle.c.key.in_(keys))).all()
    return {r.key: (int(r.hits), float(r.last_at), float(r.until)) for r in rows}


def record_hit(
    engine: sa.Engine,
    key: str,
    *,
    now: float,
    fresh: Callable[[int, float, float], bool],
    until: Callable[[int], float],
) -> int:
    """Count one more hit (a failed login) for ``key``, atomically across processes.

    Parameters
    ----------
    engine
        The store's engine.
    key
        Opaque key (64 characters at most).
    now
        The time of the hit (Unix seconds).
    fresh
        ``fresh(hits, last_at, until)``: whether the stored count has lapsed and starts
        again from this hit.
    until
        ``until(hits)``: the time (Unix seconds) before which the key is refused, given the
        new count.

    Returns
    -------
    int
        The new count.
    """
    insert = _insert(engine)
    table = s.login_throttle

    def write() -> int:
        with for_writing(engine).begin() as connection:
            connection.execute(insert(table).values(key=key, hits=0, last_at=now, until=0.0)
                               .on_conflict_do_nothing(index_elements=["key"]))  # fmt: skip
            row = connection.execute(_ROWS.where(table.c.key == key).with_for_update()).one()
            hits = 1 if fresh(int(row.hits), float(row.last_at), float(row.until)) else row.hits + 1
            connection.execute(sa.update(table).where(table.c.key == key)
                               .values(hits=hits, last_at=now, until=until(hits)))  # fmt: skip
        return int(hits)

    return retry(write)


def set_until(engine: sa.Engine, key: str, *, now: float, until: float) -> None:
    """Write ``key``'s row as (no hits, ``now``, ``until``): e.g. a known account-address pair."""
    insert = _insert(engine)
    table = s.login_throttle

    def write() -> None:
        with for_writing(engine).begin() as connection:
            statement = insert(table).values(key=key, hits=0, last_at=now, until=until)
            values = {"hits": 0, "last_at": now, "until": until}
            connection.execute(statement.on_conflict_do_update(index_elements=["key"], set_=values))

    retry(write)


def clear_key(engine: sa.Engine, key: str) -> None:
    """Forget ``key``'s count."""

    def write() -> None:
        with for_writing(engine).begin() as connection:
            connection.execute(sa.delete(s.login_throttle).where(s.login_throttle.c.key == key))

    retry(write)


def forget_old(engine: sa.Engine, *, before: float) -> None:
    """Delete throttle rows and revoked sessions that matter no more before ``before``."""
    table = s.login_throttle

    def write() -> None:
        with for_writing(engine).begin() as connection:
            connection.execute(sa.delete(table).where(table.c.last_at < before,
                                                      table.c.until < before))  # fmt: skip
            connection.execute(sa.delete(s.revoked_sessions)
                               .where(s.revoked_sessions.c.expires_at < before))  # fmt: skip

    retry(write)


def revoke_session(engine: sa.Engine, session: str, *, expires_at: float) -> None:
    """Refuse every token of ``session`` from now on (the row may go after ``expires_at``)."""
    insert = _insert(engine)

    def write() -> None:
        with for_writing(engine).begin() as connection:
            connection.execute(insert(s.revoked_sessions)
                               .values(session=session, expires_at=expires_at)
                               .on_conflict_do_nothing(index_elements=["session"]))  # fmt: skip

    retry(write)


_REVOKED = sa.select(s.revoked_sessions.c.session).where(
    s.revoked_sessions.c.session == sa.bindparam("session")
)


def is_revoked(engine: sa.Engine, session: str) -> bool:
    """Whether ``session`` was ended by a logout (one primary-key read)."""
    with engine.connect() as connection:
        return connection.execute(_REVOKED, {"session": session}).first() is not None

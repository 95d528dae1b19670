"""Users of the web service: name, Argon2id password hash, role and site.

Every clinician and every admin belongs to one site: an admin manages the accounts of their
own site only (``oncoresist.server._api``). The first admin of a site is made on the host,
with the store's credentials (``oncoresist users add NAME --role admin --site SITE``), which
is the trust root; researchers, whose cohort spans every site, are made there too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa

from oncoresist.errors import InputError
from oncoresist.server._auth import ROLES, hash_password, verify_password
from oncoresist.store import _schema as s

__all__ = ["User", "add_user", "authenticate", "get_user", "list_users", "set_active"]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class User:
    """A user as the service sees one (never the password hash outside this module)."""

    username: str
    role: str
    site: str | None
    active: bool


def _check(username: str, password: str | None, role: str, site: str | None) -> None:
    if not USERNAME.match(username):
        raise InputError(
            "expected 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
            field="username",
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise InputError(f"expected at least {MIN_PASSWORD} characters", field="password")
    if role not in ROLES:
        raise InputError(f"role {role!r}; expected one of {', '.join(ROLES)}", field="role")
    if site is not None and not SITE.match(site):
        raise InputError("expected 1-64 letters, digits, '_' or '-'", field="site")
    if role == "clinician" and site is None:
        raise InputError("a clinician belongs to a site; give --site", field="site")
    if role == "admin" and site is None:
        raise InputError("an admin manages the accounts of one site; give --site", field="site")


def add_user(
    engine: sa.Engine, username: str, password: str, *, role: str, site: str | None = None
) -> User:
    """Create a user; raise InputError for a bad field or a name already taken."""
    _check(username, password, role, site)
    row = {"username": username, "password_hash": hash_password(password), "role": role,
           "site": site, "active": True, "created_at": dt.datetime.now(dt.UTC)}  # fmt: skip
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(s.users).values(**row))
    except sa.exc.IntegrityError:
        raise InputError(f"user {username!r} exists already", field="username") from None
    return User(username, role, site, True)


def _row_user(row) -> User:
    return User(row.username, row.role, row.site, bool(row.active))


_USER = sa.select(s.users).where(s.users.c.username == sa.bindparam("name"))  # every request


def get_user(engine: sa.Engine, username: str) -> User | None:
    """The user of that name, or ``None``."""
    with engine.connect() as connection:
        row = connection.execute(_USER, {"name": username}).first()
    return None if row is None else _row_user(row)


def list_users(engine: sa.Engine, *, site: str | None = None) -> list[User]:
    """Every user, by name; only those of ``site`` when it is given."""
    query = sa.select(s.users).order_by(s.users.c.username)
    if site is not None:
        query = query.where(s.users.c.site == site)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [_row_user(r) for r in rows]


def set_active(engine: sa.Engine, username: str, active: bool) -> bool:
    """Enable or disable a user; ``False`` when there is no such user."""
    with engine.begin() as connection:
        done = connection.execute(
            sa.update(s.users).where(s.users.c.username == username).values(active=active)
        )
    return done.rowcount == 1


_TIMING_HASH: list[str] = []


def authenticate(engine: sa.Engine, username: str, password: str) -> User | None:
    """The active user whose password this is, else ``None`` (same work either way)."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(s.users).where(s.users.c.username == username)).first()
    if row is None:
        if not _TIMING_HASH:
            _TIMING_HASH.append(hash_password("timing only: no such account"))
        verify_password(_TIMING_HASH[0], password)
        return None
    if not verify_password(row.password_hash, password) or not row.active:
        return None
    return _row_user(row)

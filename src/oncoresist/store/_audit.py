"""The audit log: append-only, hash-chained, one JSON event per line.

Every event carries its sequence number, the previous event's hash and its own:
``hash = HMAC-SHA256(key, prev || canonical JSON of the event without its hash)`` with the
site's key (the pseudonym key, kept outside the database), or plain SHA-256 without one.
Changing, removing, inserting or reordering any event breaks the chain from that line on,
and with a key nobody without it can rebuild the chain after tampering. Appends take an
exclusive file lock, so concurrent writers (server workers) keep one chain, and end with
``fdatasync`` (after the lock is released, so concurrent appends share a sync): an
acknowledged event survives a crash; a half-written last line (a crash during
the write) is reported by :func:`verify_log` and repaired by nothing but a person.

Events hold the actor, the action, the patient's pseudonym (never a raw identifier) and a
small ``detail`` dictionary, with the time in UTC.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from oncoresist.errors import InputError

GENESIS = "0" * 64
_FIELDS = ("seq", "time", "actor", "action", "pseudonym", "detail", "prev")


def _digest(key: bytes | None, prev: str, body: dict) -> str:
    text = prev + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if key is None:
        return hashlib.sha256(text.encode()).hexdigest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _last_line(handle) -> bytes:
    """The last complete line of an open binary file (b"" when empty)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return b""
    step, tail = 4096, b""
    pos = size
    while pos > 0:
        read = min(step, pos)
        pos -= read
        handle.seek(pos)
        tail = handle.read(read) + tail
        if tail.count(b"\n") >= 2 or pos == 0:
            break
    lines = tail.rstrip(b"\n").split(b"\n")
    return lines[-1]


def append_event(
    path: str | os.PathLike[str],
    *,
    actor: str,
    action: str,
    pseudonym: str | None = None,
    detail: dict | None = None,
    key: bytes | None = None,
    now: dt.datetime | None = None,
    sync: bool = True,
) -> dict:
    """Append one event to the log at ``path`` (created if absent) and return it.

    Parameters
    ----------
    actor : str
        Who acted (a user name or service account; never a patient identifier).
    action : str
        What was done (``read_patient``, ``export``, ``login_failed``, ``consent_change``).
    pseudonym : str, optional
        The patient's pseudonym, when the event concerns one.
    detail : dict, optional
        Small JSON-serialisable context (route, status); no identifiers.
    key : bytes, optional
        Chain key (HMAC); the same key must be given to :func:`verify_log`.
    now : datetime, optional
        Event time (UTC; default now).
    sync : bool
        Return only once the event is on disk (``fdatasync``). ``False`` leaves that to
        the caller (see :class:`AuditLog`).
    """
    if not actor or not action:
        raise InputError("an audit event needs an actor and an action", field="actor")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            last = _last_line(handle)
            if last:
                try:
                    previous = json.loads(last)
                    prev, seq = previous["hash"], int(previous["seq"]) + 1
                except (ValueError, KeyError) as exc:
                    raise InputError(f"the last audit line cannot be read ({exc}); run "
                                     "'oncoresist audit verify'", file=path,
                                     field="audit") from None  # fmt: skip
            else:
                prev, seq = GENESIS, 1
            when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
            body = {"seq": seq, "time": when.isoformat(timespec="microseconds"),
                    "actor": actor, "action": action, "pseudonym": pseudonym,
                    "detail": detail or {}, "prev": prev}  # fmt: skip
            event = {**body, "hash": _digest(key, prev, body)}
            line = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            handle.write(line.encode() + b"\n")
            handle.flush()
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        if sync:  # outside the lock: concurrent writers' syncs overlap
            os.fdatasync(handle.fileno())
    return event


class AuditLog:
    """The audit log of one process that appends from many threads, syncing in groups.

    Each :meth:`append` returns once its event is on disk, as :func:`append_event` does,
    but one ``fdatasync`` covers every event written before it started: while one thread
    syncs, the events of the others queue up and the next sync takes them all (a group
    commit). Other processes may append to the same file at the same time.

    Parameters
    ----------
    path
        The log file (created if absent).
    key
        Chain key (HMAC), as for :func:`append_event`.
    """

    def __init__(self, path: str | os.PathLike[str], *, key: bytes | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self._write = threading.Lock()
        self._sync = threading.Lock()
        self._written = 0  # events this process has written (not necessarily synced)
        self._synced = 0  # of those, how many are known to be on disk

    def append(self, *, actor: str, action: str, pseudonym: str | None = None,
               detail: dict | None = None) -> dict:  # fmt: skip
        """Append one event (see :func:`append_event`) and return it once it is on disk."""
        with self._write:
            event = append_event(self.path, actor=actor, action=action, pseudonym=pseudonym,
                                 detail=detail, key=self.key, sync=False)  # fmt: skip
            self._written += 1
            mine = self._written
        with self._sync:
            if self._synced < mine:  # nobody has synced since this event was written
                upto = self._written  # every event counted here is completely written
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)
                self._synced = upto
        return event


@dataclass(frozen=True)
class AuditReport:
    """What :func:`verify_log` found.

    Attributes
    ----------
    events : int
        Events read and verified before the first problem (all of them when ``ok``).
    ok : bool
        The chain is intact.
    line : int or None
        1-based line of the first problem.
    problem : str
        What is wrong there ("" when ok).
    """

    events: int
    ok: bool
    line: int | None = None
    problem: str = ""


def verify_log(path: str | os.PathLike[str], *, key: bytes | None = None) -> AuditReport:
    """Check every event's hash and link, in order; report the first break."""
    path = Path(path)
    if not path.exists():
        raise InputError("audit log not found", file=path)
    prev, count = GENESIS, 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return AuditReport(count, False, number, "incomplete last line (a crash "
                                   "during a write?)")  # fmt: skip
            try:
                event = json.loads(raw)
            except ValueError:
                return AuditReport(count, False, number, "not a JSON event")
            if not isinstance(event, dict) or set(event) != {*_FIELDS, "hash"}:
                return AuditReport(count, False, number, "fields missing or added")
            if event["seq"] != count + 1:
                return AuditReport(count, False, number, f"sequence {event['seq']}, expected "
                                   f"{count + 1} (an event removed or inserted)")  # fmt: skip
            if event["prev"] != prev:
                return AuditReport(count, False, number, "does not link to the event before")
            body = {k: event[k] for k in _FIELDS}
            if not hmac.compare_digest(event["hash"], _digest(key, prev, body)):
                return AuditReport(count, False, number, "hash does not match the event "
                                   "(changed, or the wrong key)")  # fmt: skip
            prev, count = event["hash"], count + 1
    return AuditReport(count, True)

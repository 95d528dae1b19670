"""The audit log: append-only, hash-chained, one JSON event per line, anchored in the store.

Every event carries its sequence number, the previous event's hash and its own:
``hash = HMAC-SHA256(key, prev || canonical JSON of the event without its hash)`` with the
site's key (the pseudonym key, kept outside the database). Changing, removing, inserting or
reordering any event breaks the chain from that line on, and nobody without the key can
rebuild the chain after tampering. Only keyed verification certifies a log: a chain of plain
SHA-256 digests (what :func:`append_event` writes without a key) can be rebuilt by anyone,
so :func:`verify_log` without a key reports the log as not verifiable.

Removing the *last* events leaves a shorter chain that is still intact, so the store keeps
an **anchor** (:class:`AuditAnchor`, table ``audit_anchor``): the sequence number and hash
of the newest event on disk, with an HMAC of both under the key. :func:`verify_log` reports
a log that ends before its anchor (or holds another event at the anchor's place) as
truncated. The anchor is advanced in a transaction of its own once an event is on disk
(after its ``fdatasync``), never before: a crash cannot leave the anchor ahead of the log,
and the log may be ahead of the anchor only by the events whose sync was in flight. The
anchor only moves forward (``UPDATE ... WHERE seq < new``), so concurrent writers, in any
order, leave it at the newest event; the file lock orders the events themselves. Each
append compares the log's last event with the anchor under the file lock: a log found
shorter than its anchor, or forked from it, freezes the anchor with a description of the
mismatch and appends an ``audit_anchor_mismatch`` event; a person clears it with
``oncoresist audit reanchor`` after looking.

Appends take an exclusive file lock, so concurrent writers (server workers) keep one chain,
and end with ``fdatasync`` (after the lock is released, so concurrent appends share a
sync): an acknowledged event survives a crash. A half-written last line (a crash during the
write) is cut off by the next append, which keeps the torn bytes in ``<log>.torn`` beside the
log and records an ``audit_tail_recovered`` event naming how many bytes it dropped.

Events hold the actor, the action, the patient's pseudonym (never a raw identifier) and a
small ``detail`` dictionary, with the time in UTC.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from oncoresist.errors import InputError
from oncoresist.store import _schema as s
from oncoresist.store._engine import for_writing, retry
from oncoresist.store._errors import StoreError

__all__ = [
    "GENESIS",
    "AnchorState",
    "AuditAnchor",
    "AuditHealth",
    "AuditLog",
    "AuditReport",
    "AuditUnavailable",
    "append_event",
    "verify_log",
]

log = logging.getLogger("oncoresist.audit")
GENESIS = "0" * 64
_FIELDS = ("seq", "time", "actor", "action", "pseudonym", "detail", "prev")
#: the actor of the events the log writes about itself
SYSTEM = "oncoresist"
#: what :meth:`AuditLog.health` reports, worst first
AuditHealth = Literal["unwritable", "anchor-mismatch", "torn-tail", "torn-tail-recovered", "ok"]
NOT_VERIFIABLE = "not verifiable without the audit key"


class AuditUnavailable(StoreError):
    """The audit log cannot be written, or its chain cannot be continued.

    The message names no path (a service may show it to a client); :attr:`path` holds the
    log's path for the operator's log.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)


def _digest(key: bytes | None, prev: str, body: dict) -> str:
    text = prev + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if key is None:
        return hashlib.sha256(text.encode()).hexdigest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _last_line(handle, *, end: int | None = None) -> bytes:
    """The last line of an open binary file that ends by ``end`` (b"" when none)."""
    if end is None:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
    size = end
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


def _torn_from(handle) -> int | None:
    """Where a torn last line (no final newline) begins, or ``None`` when there is none."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return None
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return None
    pos = size
    while pos > 0:
        read = min(4096, pos)
        pos -= read
        handle.seek(pos)
        newline = handle.read(read).rfind(b"\n")
        if newline >= 0:
            return pos + newline + 1
    return 0


def _cut_torn_tail(handle, path: Path, start: int) -> int:
    """Move the bytes from ``start`` to ``<log>.torn`` and cut the log there; return them."""
    handle.seek(start)
    torn = handle.read()
    side = path.with_name(path.name + ".torn")
    fd = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, torn + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.ftruncate(handle.fileno(), start)
    handle.seek(0, os.SEEK_END)
    return len(torn)


def _head(last: bytes) -> tuple[int, str]:
    """The sequence number and hash of the log's last complete line."""
    if not last:
        return 0, GENESIS
    try:
        previous = json.loads(last)
        return int(previous["seq"]), str(previous["hash"])
    except (ValueError, KeyError, TypeError):
        raise AuditUnavailable("the last audit event cannot be read (the log was changed); "
                               "run 'oncoresist audit verify'") from None  # fmt: skip


@dataclass(frozen=True)
class AnchorState:
    """One audit log's anchor, as the store holds it.

    Attributes
    ----------
    seq, hash : int, str
        The newest event known to be on disk.
    signed : bool
        The row's HMAC matches under this key (``False``: written without the key).
    mismatch : str or None
        Why the anchor is frozen (the log was found shorter than it, or forked from it).
    recovered : int
        Torn tails recovered since a person last acknowledged (``audit reanchor``).
    """

    seq: int
    hash: str
    signed: bool
    mismatch: str | None
    recovered: int


class AuditAnchor:
    """The head of one audit log's chain, kept in the store's ``audit_anchor`` table.

    The row is named by an HMAC of the log's absolute path under the key, so one store may
    anchor several logs (and logs chained under other keys) and holds no path.

    Parameters
    ----------
    engine
        The store's engine (schema 0007 or newer).
    key
        The chain key (the same as the log's).
    log
        The log's path as the service writes it.
    """

    def __init__(self, engine: sa.Engine, *, key: bytes,
                 log: str | os.PathLike[str]) -> None:  # fmt: skip
        self.engine = engine
        self._key = key
        name = b"oncoresist-audit-log:" + str(Path(log).resolve()).encode()
        self.log_id = hmac.new(key, name, hashlib.sha256).hexdigest()
        #: (seq, hash) of the last event this object wrote, checked against the anchor
        self.written: tuple[int, str] | None = None

    def _mac(self, seq: int, hash_: str) -> str:
        text = f"{self.log_id}:{seq}:{hash_}".encode()
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()

    def _write(self, action, *, attempts: int = 5) -> None:
        def run() -> None:
            with for_writing(self.engine).begin() as connection:
                action(connection)

        try:
            retry(run, integrity=True, attempts=attempts)
        except (sa.exc.SQLAlchemyError, StoreError) as exc:
            raise AuditUnavailable(f"the audit anchor cannot be written to the store "
                                   f"({type(exc).__name__})") from exc  # fmt: skip

    def check(self, seq: int, hash_: str) -> AnchorState | None:
        """The anchor, to compare with a log whose last event is ``seq``/``hash_``.

        ``None`` (no read) when that event is the one this object wrote last: the log was
        checked before it was written, and anything removed since would have moved its
        end. Only another process's events, removed exactly back to this one's, escape
        until that process appends again or the log is verified.
        """
        return None if self.written == (seq, hash_) else self.read()

    def read(self) -> AnchorState | None:
        """The anchor, or ``None`` when this log has none yet."""
        t = s.audit_anchor
        try:
            with self.engine.connect() as connection:
                row = connection.execute(sa.select(t).where(t.c.log == self.log_id)).first()
        except sa.exc.SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit anchor cannot be read from the store "
                                   f"({type(exc).__name__})") from exc  # fmt: skip
        if row is None:
            return None
        signed = hmac.compare_digest(row.mac, self._mac(row.seq, row.hash))
        return AnchorState(row.seq, row.hash, signed, row.mismatch, row.recovered)

    def _insert(self, connection, seq: int, hash_: str, **extra) -> None:
        connection.execute(sa.insert(s.audit_anchor).values(
            log=self.log_id, seq=seq, hash=hash_, mac=self._mac(seq, hash_),
            updated_at=time.time(), mismatch=None, recovered=0, **extra))  # fmt: skip

    def _exists(self, connection) -> bool:
        t = s.audit_anchor
        return (
            connection.execute(sa.select(t.c.log).where(t.c.log == self.log_id)).first() is not None
        )

    def advance(self, seq: int, hash_: str, *, attempts: int = 5) -> None:
        """Move the anchor to event ``seq`` (on disk), unless it is newer or frozen.

        ``attempts``: transactions to try while the database is locked (see
        :func:`~oncoresist.store._engine.retry`).
        """
        t = s.audit_anchor

        def action(connection) -> None:
            moved = connection.execute(
                sa.update(t)
                .where(t.c.log == self.log_id, t.c.seq < seq, t.c.mismatch.is_(None))
                .values(seq=seq, hash=hash_, mac=self._mac(seq, hash_), updated_at=time.time())
            )
            if moved.rowcount == 0 and not self._exists(connection):
                self._insert(connection, seq, hash_)

        self._write(action, attempts=attempts)

    def freeze(self, mismatch: str) -> None:
        """Record that the log does not reach or match the anchor; it stops moving."""
        t = s.audit_anchor
        self._write(lambda connection: connection.execute(
            sa.update(t).where(t.c.log == self.log_id, t.c.mismatch.is_(None))
            .values(mismatch=mismatch[:400], updated_at=time.time())))  # fmt: skip

    def note_recovery(self, seq: int, hash_: str) -> None:
        """Count one recovered torn tail (event ``seq``, on disk, records it)."""
        t = s.audit_anchor

        def action(connection) -> None:
            counted = connection.execute(sa.update(t).where(t.c.log == self.log_id)
                                         .values(recovered=t.c.recovered + 1))  # fmt: skip
            if counted.rowcount == 0:
                self._insert(connection, seq, hash_, recovered=1)

        self._write(action)

    def reset(self, seq: int, hash_: str) -> None:
        """Anchor at event ``seq``, clearing a mismatch and the recovery count.

        A person's acknowledgement, after :func:`verify_log` of the whole log.
        """
        t = s.audit_anchor

        def action(connection) -> None:
            connection.execute(sa.delete(t).where(t.c.log == self.log_id))
            self._insert(connection, seq, hash_)

        self._write(action)


def _mismatch(state: AnchorState | None, seq: int, hash_: str) -> str | None:
    """Why a log whose last event is ``seq``/``hash_`` does not fit its anchor, if it does not."""
    if state is None:
        return None
    if state.mismatch:
        return state.mismatch
    if not state.signed:
        return "the store's anchor is not signed with this key (written without it)"
    if seq < state.seq:
        return (f"truncated: the log ends at event {seq} but the store's anchor records event "
                f"{state.seq} ({state.seq - seq} events missing)")  # fmt: skip
    if seq == state.seq and not hmac.compare_digest(hash_, state.hash):
        return (f"event {seq} is not the event the store anchored (the log was replaced or "
                "re-chained)")  # fmt: skip
    return None


def _write_events(
    path: Path,
    *,
    actor: str,
    action: str,
    pseudonym: str | None,
    detail: dict | None,
    key: bytes | None,
    now: dt.datetime | None,
    anchor: AuditAnchor | None,
    sync: bool,
) -> list[dict]:
    """Append the event (after any recovery and mismatch events); return what was written."""
    if not actor or not action:
        raise InputError("an audit event needs an actor and an action", field="actor")
    events: list[dict] = []
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                torn = _torn_from(handle)
                dropped = 0 if torn is None else _cut_torn_tail(handle, path, torn)
                seq, prev = _head(_last_line(handle))
                head = seq
                state = anchor.check(seq, prev) if anchor is not None else None
                mismatch = None if state is None or state.mismatch else _mismatch(state, seq, prev)
                when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)

                def emit(actor: str, action: str, pseudonym: str | None, detail: dict) -> dict:
                    nonlocal seq, prev
                    body = {"seq": seq + 1, "time": when.isoformat(timespec="microseconds"),
                            "actor": actor, "action": action, "pseudonym": pseudonym,
                            "detail": detail, "prev": prev}  # fmt: skip
                    event = {**body, "hash": _digest(key, prev, body)}
                    line = json.dumps(event, sort_keys=True, separators=(",", ":"),
                                      ensure_ascii=True)  # fmt: skip
                    handle.write(line.encode() + b"\n")
                    seq, prev = event["seq"], event["hash"]
                    events.append(event)
                    return event

                if dropped:
                    recovered = emit(SYSTEM, "audit_tail_recovered", None,
                                     {"bytes_dropped": dropped})  # fmt: skip
                    if anchor is not None:  # rare: sync under the lock, then count it
                        handle.flush()
                        os.fdatasync(handle.fileno())
                        anchor.note_recovery(recovered["seq"], recovered["hash"])
                if mismatch is not None and anchor is not None and state is not None:
                    anchor.freeze(mismatch)
                    emit(SYSTEM, "audit_anchor_mismatch", None,
                         {"anchor_seq": state.seq, "log_seq": head})  # fmt: skip
                emit(actor, action, pseudonym, detail or {})
                handle.flush()
                if anchor is not None:
                    anchor.written = (seq, prev)
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            if sync:  # outside the lock: concurrent writers' syncs overlap
                os.fdatasync(handle.fileno())
    except OSError as exc:
        raise AuditUnavailable(f"the audit log cannot be written ({exc.strerror or exc})",
                               path=path) from exc  # fmt: skip
    if sync and anchor is not None:
        anchor.advance(events[-1]["seq"], events[-1]["hash"])
    return events


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
    anchor: AuditAnchor | None = None,
) -> dict:
    """Append one event to the log at ``path`` (created if absent) and return it.

    A torn last line is cut off first (and an ``audit_tail_recovered`` event recorded); a
    log that does not reach or match ``anchor`` freezes it (and an
    ``audit_anchor_mismatch`` event is recorded). Neither stops the append.

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
        Chain key (HMAC); the same key must be given to :func:`verify_log`. Without one the
        chain is plain SHA-256, which no verification certifies.
    now : datetime, optional
        Event time (UTC; default now).
    sync : bool
        Return only once the event is on disk (``fdatasync``) and anchored. ``False``
        leaves both to the caller (see :class:`AuditLog`).
    anchor : AuditAnchor, optional
        The store's anchor of this log, advanced to the event once it is on disk.

    Raises
    ------
    AuditUnavailable
        The log (or its anchor) cannot be written, or its last complete event read.
    """
    return _write_events(Path(path), actor=actor, action=action, pseudonym=pseudonym,
                         detail=detail, key=key, now=now, anchor=anchor, sync=sync)[-1]  # fmt: skip


class AuditLog:
    """The audit log of one process that appends from many threads, syncing in groups.

    Each :meth:`append` returns once its event is on disk, as :func:`append_event` does,
    but one ``fdatasync`` covers every event written before it started: while one thread
    syncs, the events of the others queue up and the next sync takes them all (a group
    commit), and one anchor update follows each sync (one try: a database locked by a long
    write leaves the anchor behind, which the next sync makes up, rather than failing a
    request whose event is on disk). Other processes may append to the same file at the
    same time.

    Parameters
    ----------
    path
        The log file (created if absent).
    key
        Chain key (HMAC), as for :func:`append_event`.
    engine
        The store that anchors the log (:class:`AuditAnchor`; needs ``key``).
    """

    def __init__(self, path: str | os.PathLike[str], *, key: bytes | None = None,
                 engine: sa.Engine | None = None) -> None:  # fmt: skip
        self.path = Path(path)
        self.key = key
        self.anchor: AuditAnchor | None = None
        if engine is not None and key is not None:
            self.anchor = AuditAnchor(engine, key=key, log=self.path)
        self._write = threading.Lock()
        self._sync = threading.Lock()
        self._written = 0  # events this process has written (not necessarily synced)
        self._head: dict | None = None  # the newest of them
        self._synced = 0  # of those, how many are known to be on disk (and anchored)
        #: torn tails this process cut off (each recorded as an ``audit_tail_recovered`` event)
        self.recovered = 0

    def append(self, *, actor: str, action: str, pseudonym: str | None = None,
               detail: dict | None = None) -> dict:  # fmt: skip
        """Append one event (see :func:`append_event`) and return it once it is on disk.

        Raises
        ------
        AuditUnavailable
            The log or its anchor cannot be written.
        """
        with self._write:
            events = _write_events(self.path, actor=actor, action=action, pseudonym=pseudonym,
                                   detail=detail, key=self.key, now=None, anchor=self.anchor,
                                   sync=False)  # fmt: skip
            self.recovered += sum(e["action"] == "audit_tail_recovered" for e in events)
            self._written += 1
            self._head = events[-1]
            mine = self._written
        with self._sync:
            if self._synced < mine:  # nobody has synced since this event was written
                upto, head = self._written, self._head  # every event counted is written
                try:
                    fd = os.open(self.path, os.O_RDONLY)
                    try:
                        os.fdatasync(fd)
                    finally:
                        os.close(fd)
                except OSError as exc:
                    raise AuditUnavailable(f"the audit log cannot be synced ({exc.strerror})",
                                           path=self.path) from exc  # fmt: skip
                self._synced = upto  # on disk: a lagging anchor is safe, a lost event not
                if self.anchor is not None and head is not None:
                    try:
                        self.anchor.advance(head["seq"], head["hash"], attempts=1)
                    except AuditUnavailable as exc:  # the next sync advances it further
                        log.warning("audit anchor not advanced to event %d: %s", head["seq"], exc)
        return events[-1]

    def health(self) -> AuditHealth:
        """How the log stands, worst first (cheap: the last line and the anchor only).

        ``unwritable``: the log cannot be opened for appending (or created);
        ``anchor-mismatch``: the log ends before its anchor, holds another event there, or
        the anchor is frozen by an earlier mismatch; ``torn-tail``: the last line is
        partial (the next append recovers it); ``torn-tail-recovered``: a torn tail was cut
        off since a person last ran ``oncoresist audit reanchor``; else ``ok``.
        """
        try:
            if self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND))
            elif not os.access(self.path.parent, os.W_OK | os.X_OK):
                return "unwritable"
        except OSError:
            return "unwritable"
        try:
            torn, last = None, b""
            if self.path.exists():
                with self.path.open("rb") as handle:
                    torn = _torn_from(handle)
                    last = _last_line(handle, end=torn)
            seq, hash_ = _head(last)
            state = self.anchor.read() if self.anchor is not None else None
        except AuditUnavailable:
            return "anchor-mismatch"
        except OSError:
            return "unwritable"
        if _mismatch(state, seq, hash_) is not None:
            return "anchor-mismatch"
        if torn is not None:
            return "torn-tail"
        if self.recovered or (state is not None and state.recovered):
            return "torn-tail-recovered"
        return "ok"


@dataclass(frozen=True)
class AuditReport:
    """What :func:`verify_log` found.

    Attributes
    ----------
    events : int
        Events read and verified before the first problem (all of them when ``ok``).
    ok : bool
        The chain is intact under the key (and, when ``anchored``, reaches its anchor).
    line : int or None
        1-based line of the first problem (``None`` for a problem of the whole log).
    problem : str
        What is wrong ("" when ok).
    verifiable : bool
        ``False`` when the log could not be checked at all (no key).
    anchored : bool
        The log was checked against the store's anchor (truncation would be found).
    """

    events: int
    ok: bool
    line: int | None = None
    problem: str = ""
    verifiable: bool = True
    anchored: bool = False


def verify_log(
    path: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    anchor: AuditAnchor | None = None,
) -> AuditReport:
    """Check every event's HMAC and link, in order, then the end against the anchor.

    Parameters
    ----------
    path
        The log.
    key
        The chain key. Without it nothing is certified: the report says the log is not
        verifiable (a plain SHA-256 chain can be rebuilt by whoever edits the log).
    anchor
        The store's anchor of this log. Without it a log whose last events were removed
        still verifies (``anchored`` is ``False``).

    Returns
    -------
    AuditReport
        The first problem, or ``ok``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("audit log not found", file=path)
    if key is None:
        return AuditReport(0, False, None, NOT_VERIFIABLE, verifiable=False)
    prev, count = GENESIS, 0
    hashes: dict[int, str] = {}
    state = anchor.read() if anchor is not None else None
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return AuditReport(count, False, number, "incomplete last line (a crash "
                                   "during a write; the next append recovers it)")  # fmt: skip
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
            if state is not None and count == state.seq:
                hashes[count] = prev
    if anchor is None:
        return AuditReport(count, True)
    if state is None:
        if count == 0:
            return AuditReport(0, True, anchored=True)
        return AuditReport(count, False, None, "the store holds no anchor for this log (never "
                           "anchored, or the anchor was removed)", anchored=True)  # fmt: skip
    at_anchor = hashes.get(state.seq, GENESIS if state.seq == 0 else "")
    problem = _mismatch(state, min(count, state.seq), at_anchor)
    if problem is not None:
        return AuditReport(count, False, None, problem, anchored=True)
    return AuditReport(count, True, anchored=True)

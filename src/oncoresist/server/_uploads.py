"""Parse (and store) uploaded files in a separate worker process, with a time limit.

An upload is parsed by the same readers as the command line, but in a child process of a
fork server (started once, with the readers and the knowledge base loaded), so a file that
makes a reader slow or large cannot stall or exhaust the service: after ``timeout``
seconds the child is killed and the upload refused. The child may also store what it
parsed (``then``: the service ingests the table and rebuilds the patient pages there, in
one transaction that a kill rolls back).

Uploads are heavy (tens to hundreds of milliseconds of CPU each) and page reads are light,
so a tumour board's reads must not queue behind a burst of uploads: the service runs a few
uploads at once (:meth:`~oncoresist.server._app.ServiceState.in_upload_worker`), each child
at a lower scheduling priority (``nice``). Under overload, uploads wait; reads do not.

A reader's :class:`~oncoresist.errors.InputError` comes back with its line and field;
every identifier of the file (patient and sample columns, VCF sample names) is blanked out
of its message (and out of a store conflict's), so error responses carry no raw
identifier.

This module imports no web framework: the child imports only what parsing needs.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import multiprocessing
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from oncoresist.errors import InputError, OncoresistError
from oncoresist.store import StoreConflictError

__all__ = [
    "UploadFailed",
    "UploadKind",
    "UploadProblem",
    "UploadTimeout",
    "parse_upload",
    "run_job",
]

UploadKind = Literal["serial", "therapy", "events", "variants"]
KINDS: tuple[str, ...] = ("serial", "therapy", "events", "variants")
# imported once by the fork server, so each child starts with them (and the knowledge base)
# loaded: the command-line module too, because a child re-runs the parent's __main__, which
# for `oncoresist serve` is the console script that imports it
_PRELOAD = ["oncoresist.cli", "oncoresist.server._upload_preload"]
#: what a job may do after parsing: ``then(parsed, kb=knowledge_base)``
Then = Callable[..., Any]
_CONTEXT: Any = None
_IDENTIFIER_COLUMNS = {"patient_id", "patient", "sample_id", "sample", "tumor_sample_barcode",
                       "matched_norm_sample_barcode"}  # fmt: skip
REDACTED = "[identifier]"


class UploadTimeout(OncoresistError):
    """The upload took longer to parse than allowed."""


@dataclass(frozen=True)
class UploadProblem:
    """Where a rejected upload is wrong: line (1-based) and field, and what was expected."""

    file: str
    line: int | None
    field: str | None
    message: str


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        _CONTEXT = ctx
    return _CONTEXT


def _text_head(path: Path, limit: int = 64 * 1024 * 1024) -> str:
    raw = path.read_bytes()[:limit]
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return ""
    return raw.decode("utf-8", errors="replace")


def identifiers_in(path: Path) -> set[str]:
    """Identifier values of a text table or VCF: patient and sample columns, VCF samples."""
    text = _text_head(path)
    found: set[str] = set()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("##")]
    if not lines:
        return found
    if lines[0].startswith("#CHROM"):
        return {name for name in lines[0].split("\t")[9:] if name}
    lines = [ln for ln in lines if not ln.startswith("#")]
    if not lines:
        return found
    delimiter = "\t" if lines[0].count("\t") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    wanted = [i for i, h in enumerate(header) if h in _IDENTIFIER_COLUMNS]
    for row in reader:
        for i in wanted:
            if i < len(row) and row[i].strip():
                found.add(row[i].strip())
    return found


def redact(message: str, identifiers: set[str]) -> str:
    """``message`` with every identifier (longest first, as whole words) blanked out."""
    for name in sorted(identifiers, key=len, reverse=True):
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", REDACTED, message)
    return message


_KB: list = []


def warm() -> None:
    """Load the readers and the knowledge base (in the fork server, before any child)."""
    if not _KB:
        import oncoresist.monitor._inputs
        import oncoresist.variants  # noqa: F401
        from oncoresist.kb import load_kb

        _KB.append(load_kb())


def _read(kind: str, path: str, options: dict[str, Any]) -> Any:
    warm()
    kb = _KB[0]
    if kind == "serial":
        from oncoresist.monitor._inputs import read_serial

        return read_serial(path, kb=kb)
    if kind == "therapy":
        from oncoresist.monitor._inputs import read_therapy

        return read_therapy(path, kb=kb)
    if kind == "events":
        from oncoresist.monitor._inputs import read_events

        return read_events(path)
    from oncoresist.variants import read_variants

    return list(read_variants(path, build=options.get("build"), sample=options.get("sample"),
                              kb=kb))  # fmt: skip


def _job(kind: str | None, path: str | None, options: dict[str, Any], conn, then: Then | None,
         nice: int) -> None:  # fmt: skip
    if nice:
        os.nice(nice)
    started = time.perf_counter()
    try:
        parsed = _read(kind, path, options) if kind is not None else None  # type: ignore[arg-type]
    except InputError as exc:
        record = exc.record if isinstance(exc.record, int) else None
        result: tuple = ("input", (record, exc.field,
                                   exc.message if record is not None else str(exc)))  # fmt: skip
    except Exception as exc:
        result = ("input", (None, None, f"the file could not be read ({type(exc).__name__})"))
    else:
        parse_s = time.perf_counter() - started
        try:
            result = ("ok", parsed if then is None else then(parsed, kb=_KB[0]), parse_s)
        except StoreConflictError as exc:
            result = ("conflict", str(exc))
        except InputError as exc:  # what was parsed does not fit (e.g. the panel's unit)
            result = ("input", (None, exc.field, str(exc)))
        except Exception as exc:  # reported to the service as its own unexpected error
            result = ("failed", type(exc).__name__)
    conn.send(result)
    conn.close()


class UploadFailed(OncoresistError):
    """The upload worker failed on something that is not the file's fault."""


def parse_upload(
    kind: UploadKind, path: Path, *, display_name: str, timeout: float,
    options: dict[str, Any] | None = None, then: Then | None = None, nice: int = 0,
    timings: dict[str, float] | None = None,
) -> Any:  # fmt: skip
    """Parse ``path`` with the reader of ``kind`` in a worker process (and store it).

    Parameters
    ----------
    kind
        ``serial``, ``therapy``, ``events`` (monitoring tables) or ``variants`` (VCF, MAF or
        alteration table).
    path
        The uploaded bytes, saved to a private temporary file.
    display_name
        The name the user gave the file, used in error messages instead of ``path``.
    timeout
        Seconds before the worker is killed (:class:`UploadTimeout`).
    options
        ``build`` and ``sample`` for variant files.
    then
        Run in the worker on what the reader returned, as ``then(parsed, kb=kb)`` (a
        picklable callable, e.g. a :func:`functools.partial` of a module function); its
        result is returned instead. It is killed with the worker at ``timeout``.
    nice
        Added to the worker's scheduling niceness (0: as the service).
    timings
        If given, receives ``parse_s``: the seconds the reader took in the worker.

    Returns
    -------
    pandas.DataFrame or list of Alteration or object
        What the reader returns, or what ``then`` returns.

    Raises
    ------
    InputError
        The file is not valid; file is ``display_name``, record the line, and the message
        holds no identifier from the file.
    UploadTimeout
        Parsing (and ``then``) took longer than ``timeout`` seconds.
    StoreConflictError
        ``then`` met stored values that differ (message without identifiers).
    InputError
        ``then`` found the parsed table unfit (e.g. reads only where the panel of normals
        counts molecules).
    UploadFailed
        ``then`` failed otherwise (its exception's type is named).
    """
    if kind not in KINDS:
        raise InputError(f"kind {kind!r}; expected one of {', '.join(KINDS)}", field="kind")
    status, payload, *spent = _run(kind, path, options or {}, then, nice, timeout, display_name)
    if status == "ok":
        if timings is not None:
            timings["parse_s"] = spent[0]
        return payload
    if status == "failed":
        raise UploadFailed(f"the upload worker failed ({payload})")
    if status == "conflict":
        raise StoreConflictError(redact(payload, identifiers_in(path)))
    line, field, message = payload
    message = redact(message.replace(str(path), display_name), identifiers_in(path))
    raise InputError(message, file=display_name, record=line, field=field)


def _without_input(_: None, *, kb: Any, action: Then) -> Any:
    return action(kb=kb)


def run_job(action: Then, *, timeout: float, nice: int = 0, name: str = "job") -> Any:
    """Run ``action(kb=knowledge_base)`` in a worker process of the upload fork server.

    For work on stored data that should neither hold up the service's reads nor run
    unbounded (the limits of detection of the patient pages).

    Raises
    ------
    UploadTimeout
        It took longer than ``timeout`` seconds (it is killed).
    UploadFailed
        It raised (its exception's type is named).
    """
    job = functools.partial(_without_input, action=action)
    status, payload, *_ = _run(None, None, {}, job, nice, timeout, name)
    if status == "failed":
        raise UploadFailed(f"the worker failed ({payload})")
    if status != "ok":  # an input error's text may hold stored pseudonyms: not repeated
        stopped = status == "input" and payload[2].endswith("(worker stopped)")
        raise UploadFailed(f"the worker {'stopped' if stopped else 'refused it (' + status + ')'}")
    return payload


def _run(kind: str | None, path: Path | None, options: dict[str, Any], then: Then | None, nice: int,
         timeout: float, display_name: str) -> tuple[str, Any]:  # fmt: skip
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_job, args=(kind, None if path is None else str(path), options,
                                            send, then, nice), daemon=True)  # fmt: skip
    worker.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise UploadTimeout(f"{display_name} took longer than {timeout:g} s to parse")
        return receive.recv()
    except EOFError:
        return "input", (None, None, "the file could not be read (worker stopped)")
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join(5)

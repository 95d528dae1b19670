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

Compressed uploads are checked in the child before any reader sees them: the gzip stream
is decompressed in chunks (constant memory) and refused (:class:`UploadTooLarge`) once it
grows past ``max_decompressed_bytes``, past ``max_decompression_ratio`` times its
compressed size (a decompression bomb; the ratio is enforced beyond the first 16 MiB, as
Apache POI does for zip entries), or holds a line longer than ``max_line_bytes``; a
Parquet file's uncompressed size is checked the same way from its metadata. The service
process never decompresses an upload.

A reader's :class:`~oncoresist.errors.InputError` comes back with its line and field;
every identifier of the file (patient and sample columns, VCF sample names, whatever the
format: CSV, TSV, gzipped or Parquet) is blanked out of its message (and out of a store
conflict's) in the child, so error responses carry no raw identifier. When the
identifiers cannot be collected, the message is withheld (line and field are kept).

This module imports no web framework: the child imports only what parsing needs.
"""

from __future__ import annotations

import csv
import functools
import gzip
import itertools
import multiprocessing
import os
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from oncoresist.errors import InputError, OncoresistError
from oncoresist.store import StoreConflictError

__all__ = [
    "ExpansionLimits",
    "UploadFailed",
    "UploadKind",
    "UploadProblem",
    "UploadTimeout",
    "UploadTooLarge",
    "parse_upload",
    "run_job",
]

UploadKind = Literal["serial", "therapy", "events", "measurements", "variants"]
KINDS: tuple[str, ...] = ("serial", "therapy", "events", "measurements", "variants")
# imported once by the fork server, so each child starts with them (and the knowledge base)
# loaded: the command-line module too, because a child re-runs the parent's __main__, which
# for `oncoresist serve` is the console script that imports it
_PRELOAD = ["oncoresist.cli", "oncoresist.server._upload_preload"]
#: what a job may do after parsing: ``then(parsed, kb=knowledge_base)``
Then = Callable[..., Any]
_CONTEXT: Any = None
_IDENTIFIER_COLUMNS = {"patient_id", "patient", "sample_id", "sample", "tumor_sample_barcode",
                       "matched_norm_sample_barcode", "mrn", "subject", "subject_id",
                       "case", "case_id", "specimen", "specimen_id", "barcode",
                       "normal_sample"}  # fmt: skip
REDACTED = "[identifier]"
WITHHELD = "details withheld: the file's identifiers could not be collected to blank them out"
MIB = 1024 * 1024
#: output below which the decompression ratio is not enforced (small files compress well)
RATIO_GRACE_BYTES = 16 * MIB
_CHUNK = 1 << 16


class UploadTimeout(OncoresistError):
    """The upload took longer to parse than allowed."""


class UploadTooLarge(OncoresistError):
    """The upload expands past a limit (decompressed size, ratio or line length)."""


@dataclass(frozen=True)
class ExpansionLimits:
    """How far an upload may expand before a reader sees it.

    Attributes
    ----------
    max_bytes
        Largest decompressed content (bytes).
    max_ratio
        Largest ratio of decompressed to compressed size (enforced beyond
        :data:`RATIO_GRACE_BYTES` of output).
    max_line_bytes
        Longest line of a text file (bytes, after decompression).
    """

    max_bytes: int = 128 * MIB
    max_ratio: float = 100.0
    max_line_bytes: int = 1 * MIB


@dataclass(frozen=True)
class UploadProblem:
    """Where a rejected upload is wrong: line (1-based) and field, and what was expected."""

    file: str
    line: int | None
    field: str | None
    message: str


_DRIVERS: list[str] = []


def preload_store_driver(engine: Any) -> None:
    """Have the fork server import the modules ``engine``'s connections need.

    Each job opens its own connection to the store; without this, every job would import
    the database driver and its SQLAlchemy dialect again (psycopg alone costs ~0.1 CPU-s),
    since they load on the first connection. Only these are added, not a whole library, so
    that a worker's memory stays small (the decompression-bomb bound). Has no effect once
    the fork server runs.

    Parameters
    ----------
    engine
        The store's :class:`sqlalchemy.Engine`.
    """
    dbapi = getattr(engine.dialect, "loaded_dbapi", None) or engine.dialect.dbapi
    for module in (type(engine.dialect).__module__, getattr(dbapi, "__name__", None),
                   "pyarrow.pandas_compat", "pyarrow.vendored.version",
                   "multiprocessing.popen_forkserver"):  # fmt: skip
        if module and module not in _DRIVERS:
            _DRIVERS.append(module)


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([*_DRIVERS, *_PRELOAD])
        _CONTEXT = ctx
    return _CONTEXT


def _too_large(limit: str, value: float, what: str) -> UploadTooLarge:
    shown = int(value) if float(value).is_integer() else value
    return UploadTooLarge(f"the file {what}; the limit is {shown} ({limit})")


class _Lines:
    """Running longest line of a byte stream fed in chunks (counted in C, not per line)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.current, self.number = limit, 0, 1

    def feed(self, chunk: bytes) -> None:
        first = chunk.find(b"\n")
        if first == -1:
            self._check(self.current + len(chunk))
            self.current += len(chunk)
            return
        self._check(self.current + first)
        last = chunk.rfind(b"\n")
        if last - first > self.limit:  # a whole line inside the chunk may be too long
            for line in chunk[first + 1 : last].split(b"\n"):
                self.number += 1
                self._check(len(line))
            self.number -= chunk.count(b"\n") - 1
        self.number += chunk.count(b"\n")
        self.current = len(chunk) - last - 1
        self._check(self.current)

    def _check(self, length: int) -> None:
        if length > self.limit:
            what = f"has a line (line {self.number}) longer than {self.limit} bytes"
            raise _too_large("max_line_bytes", self.limit, what)


def _is_text(head: bytes) -> bool:
    # zip (xlsx), BCF and Parquet are refused or read in blocks by their readers
    return not head.startswith((b"PK\x03\x04", b"BCF", b"PAR1"))


def check_expansion(path: Path, limits: ExpansionLimits) -> None:
    """Refuse a file that decompresses (or reads) past ``limits``, in constant memory.

    Raises
    ------
    UploadTooLarge
        Naming the limit (``max_decompressed_bytes``, ``max_decompression_ratio`` or
        ``max_line_bytes``) and its value. A corrupt stream is left to the reader to report.
    """
    size = max(1, path.stat().st_size)
    with open(path, "rb") as handle:
        magic = handle.read(4)
        handle.seek(0)
        if magic == b"PAR1":
            return _check_parquet(path, size, limits)
        if magic[:2] != b"\x1f\x8b":
            lines = _Lines(limits.max_line_bytes) if _is_text(magic) else None
            while lines is not None and (chunk := handle.read(_CHUNK)):
                lines.feed(chunk)
            return None
        ratio_cap = max(RATIO_GRACE_BYTES, limits.max_ratio * size)
        total, lines, decomp, pending = 0, None, zlib.decompressobj(wbits=31), b""
        while True:
            data = pending or handle.read(_CHUNK)
            if not data:
                return None
            try:
                out = decomp.decompress(data, _CHUNK)
            except zlib.error:
                return None  # the reader names the damage
            pending = decomp.unconsumed_tail
            if decomp.eof:  # next gzip member (BGZF is one per block); padding is ignored
                rest = decomp.unused_data
                pending = rest if rest[:2] == b"\x1f\x8b" else b""
                decomp = zlib.decompressobj(wbits=31)
                if not pending and rest.strip(b"\x00"):
                    return None
            if total == 0 and out:
                lines = _Lines(limits.max_line_bytes) if _is_text(out[:4]) else None
            total += len(out)
            if total > limits.max_bytes:
                raise _too_large("max_decompressed_bytes", limits.max_bytes,
                                 f"decompresses to more than {limits.max_bytes} bytes")  # fmt: skip
            if total > ratio_cap:
                raise _too_large("max_decompression_ratio", limits.max_ratio,
                                 f"decompresses to more than {limits.max_ratio:g} times its "
                                 f"size of {size} bytes (a decompression bomb?)")  # fmt: skip
            if lines is not None:
                lines.feed(out)


def _check_parquet(path: Path, size: int, limits: ExpansionLimits) -> None:
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except Exception:  # not readable: the reader says why
        return
    if total > limits.max_bytes:
        what = f"holds {total} bytes uncompressed, more than {limits.max_bytes}"
        raise _too_large("max_decompressed_bytes", limits.max_bytes, what)
    if total > max(RATIO_GRACE_BYTES, limits.max_ratio * size):
        raise _too_large("max_decompression_ratio", limits.max_ratio,
                         f"holds more than {limits.max_ratio:g} times its size of {size} "
                         "bytes uncompressed (a decompression bomb?)")  # fmt: skip


def _column(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().strip('"').strip().lower())


def _text_lines(path: Path):
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(path, "rb") as handle:  # lines were bounded by check_expansion
        for raw in handle:
            yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def identifiers_in(path: Path) -> set[str]:
    """Identifier values of a table or VCF: patient and sample columns, VCF samples.

    Reads CSV, TSV (gzipped or not), VCF and Parquet, streaming; runs in the upload worker,
    after :func:`check_expansion`.

    Raises
    ------
    Exception
        When the file cannot be read as a table (the caller withholds the message).
    """
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        names = [n for n in parquet.schema_arrow.names if _column(n) in _IDENTIFIER_COLUMNS]
        found: set[str] = set()
        for batch in parquet.iter_batches(columns=names) if names else []:
            for column in batch.columns:
                found.update(str(v).strip() for v in column.to_pylist() if v is not None)
        return found - {""}
    if not _is_text(magic):
        return set()
    lines = (ln for ln in _text_lines(path) if ln.strip() and not ln.startswith("##"))
    header = next(lines, None)
    if header is None:
        return set()
    if header.startswith("#CHROM"):
        return {name for name in header.split("\t")[9:] if name}
    while header.startswith("#"):  # MAF version lines and other comments
        header = next(lines, None)
        if header is None:
            return set()
    # as the readers tell them apart
    delimiter = ("\t" if "\t" in header else ";" if header.count(";") > header.count(",")
                 else ",")  # fmt: skip
    csv.field_size_limit(max(csv.field_size_limit(), 64 * MIB))
    reader = csv.reader(itertools.chain([header], lines), delimiter=delimiter)
    wanted = [i for i, h in enumerate(next(reader)) if _column(h) in _IDENTIFIER_COLUMNS]
    found = set()
    for row in reader:
        found.update(row[i].strip() for i in wanted if i < len(row))
    return found - {""}


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
    if kind == "measurements":
        from oncoresist.forecast._inputs import read_measurements

        return read_measurements(path)
    from oncoresist.variants import read_variants

    return list(read_variants(path, build=options.get("build"), sample=options.get("sample"),
                              kb=kb))  # fmt: skip


def _blanked(result: tuple, path: str, display_name: str) -> tuple:
    """An ``input`` or ``conflict`` result with the file's identifiers blanked out."""
    status, payload = result[0], result[1]
    try:
        found = identifiers_in(Path(path))
    except Exception:  # what cannot be collected cannot be blanked: say nothing of the file
        found = None

    def clean(message: str) -> str:
        message = message.replace(path, display_name)
        return WITHHELD if found is None else redact(message, found)

    if status == "conflict":
        return status, clean(payload)
    record, field, message = payload
    return status, (record, field, clean(message))


def _job(kind: str | None, path: str | None, options: dict[str, Any], conn, then: Then | None,
         nice: int, limits: ExpansionLimits | None = None,
         display_name: str = "upload") -> None:  # fmt: skip
    if nice:
        os.nice(nice)
    started = time.perf_counter()
    try:
        if path is not None and limits is not None:
            check_expansion(Path(path), limits)
        parsed = _read(kind, path, options) if kind is not None else None  # type: ignore[arg-type]
    except UploadTooLarge as exc:
        result: tuple = ("too_large", str(exc))
    except InputError as exc:
        record = exc.record if isinstance(exc.record, int) else None
        result = ("input", (record, exc.field,
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
    if result[0] in ("input", "conflict") and path is not None:
        result = _blanked(result, path, display_name)
    conn.send(result)
    conn.close()


class UploadFailed(OncoresistError):
    """The upload worker failed on something that is not the file's fault."""


def parse_upload(
    kind: UploadKind, path: Path, *, display_name: str, timeout: float,
    options: dict[str, Any] | None = None, then: Then | None = None, nice: int = 0,
    timings: dict[str, float] | None = None, limits: ExpansionLimits | None = None,
) -> Any:  # fmt: skip
    """Parse ``path`` with the reader of ``kind`` in a worker process (and store it).

    Parameters
    ----------
    kind
        ``serial``, ``therapy``, ``events`` (monitoring tables), ``measurements`` (serial
        marker measurements) or ``variants`` (VCF, MAF or alteration table).
    path
        The uploaded bytes, saved to a private spool file (:mod:`._spool`).
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
    limits
        How far the file may expand (:class:`ExpansionLimits`; default: its defaults),
        checked in the worker before the reader runs.

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
    UploadTooLarge
        The file decompresses past ``limits`` (the message names the limit).
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
    status, payload, *spent = _run(kind, path, options or {}, then, nice, timeout, display_name,
                                   limits or ExpansionLimits())  # fmt: skip
    if status == "ok":
        if timings is not None:
            timings["parse_s"] = spent[0]
        return payload
    if status == "failed":
        raise UploadFailed(f"the upload worker failed ({payload})")
    if status == "too_large":
        raise UploadTooLarge(f"{display_name}: {payload}")
    if status == "conflict":  # identifiers blanked out in the worker
        raise StoreConflictError(payload)
    line, field, message = payload
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
         timeout: float, display_name: str,
         limits: ExpansionLimits | None = None) -> tuple[str, Any]:  # fmt: skip
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_job, args=(kind, None if path is None else str(path), options,
                                            send, then, nice, limits, display_name),
                         daemon=True)  # fmt: skip
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

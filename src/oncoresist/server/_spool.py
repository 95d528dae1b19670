"""Where uploads wait while they are parsed: a private spool folder in the data directory.

An upload holds the site's raw identifiers, so its bytes never go to the system temporary
directory (shared, and not cleaned by the service). Each service process spools into a
folder of its own under ``<spool>/`` (mode 0700, files 0600) and removes every file when
the upload ends, however it ends. A process that dies (kill -9, power loss) leaves its
folder behind; the next service process to start on the same data directory removes every
folder whose owner is gone. A folder's owner holds an exclusive ``flock`` on its ``.lock``
file for as long as it lives, which the kernel releases when the process dies, so a
starting worker never removes the spool of a worker that is still running.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = ["UploadSpool", "remove_stale"]

log = logging.getLogger("oncoresist.server.uploads")
_LOCK = ".lock"


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is cut by the umask; an older folder is tightened


def remove_stale(root: Path) -> int:
    """Remove the spool folders (and stray files) under ``root`` whose process is gone.

    Returns
    -------
    int
        The number of folders and files removed.
    """
    removed = 0
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if not entry.is_dir() or entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed += 1
            continue
        try:
            fd = os.open(entry / _LOCK, os.O_RDONLY)
        except FileNotFoundError:
            fd = None  # died before it took its lock
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live service process's spool
        finally:
            if fd is not None:
                os.close(fd)
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        log.warning("removed %d upload spool folder(s) left by a stopped service", removed)
    return removed


class UploadSpool:
    """The spool folder of one service process.

    Parameters
    ----------
    root
        The spool directory (``ServerSettings.spool_dir``); created with mode 0700. Stale
        folders under it (of service processes that are gone) are removed first.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        _private_dir(self.root)
        self.removed = remove_stale(self.root)
        self.path = self.root / f"{os.getpid()}-{secrets.token_hex(8)}"
        _private_dir(self.path)
        self._lock = os.open(self.path / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    @contextlib.contextmanager
    def file(self, name: str) -> Iterator[Path]:
        """A new private file (mode 0600) named after ``name``, removed when the block ends."""
        path = self.path / f"{secrets.token_hex(8)}-{name}"
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove this process's folder (at shutdown)."""
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(self._lock)

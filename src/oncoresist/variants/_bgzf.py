"""BGZF: the blocked gzip that htslib reads (and the check that a file was not cut short).

Writing is used by the benchmark and the tests; reading is left to htslib (cyvcf2).
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import IO

#: The empty block that ends every complete BGZF file (SAM/BAM specification, 4.1.2).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")

_BLOCK_DATA = 0xFF00  # at most this many uncompressed bytes per block (as bgzip does)
_HEADER = struct.Struct("<4BI2BH2BHH")


def is_bgzf(head: bytes) -> bool:
    """Whether the first bytes of a file are a BGZF block header (gzip with a ``BC`` field)."""
    return (
        len(head) >= 16
        and head[:4] == b"\x1f\x8b\x08\x04"
        and head[12:14] == b"BC"
        and head[14:16] == b"\x02\x00"
    )


def has_bgzf_eof(path: str | os.PathLike[str]) -> bool:
    """Whether a BGZF file ends with the 28-byte end-of-file marker block."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() < len(BGZF_EOF):
            return False
        handle.seek(-len(BGZF_EOF), os.SEEK_END)
        return handle.read() == BGZF_EOF


def _block(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = compressor.compress(data) + compressor.flush()
    size = len(payload) + 25  # header 18 + trailer 8, minus 1
    header = _HEADER.pack(0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, ord("B"), ord("C"), 2, size)
    return header + payload + struct.pack("<II", zlib.crc32(data), len(data))


class BgzfWriter:
    """Write bytes as BGZF blocks, ending the file with the EOF marker on :meth:`close`.

    Parameters
    ----------
    handle
        A binary file opened for writing.
    level
        zlib compression level (1 is fast; 6 is bgzip's default).
    """

    def __init__(self, handle: IO[bytes], level: int = 6) -> None:
        self._handle = handle
        self._level = level
        self._buffer = bytearray()

    def write(self, data: bytes) -> None:
        """Buffer ``data`` and write every full block."""
        self._buffer += data
        while len(self._buffer) >= _BLOCK_DATA:
            self._handle.write(_block(bytes(self._buffer[:_BLOCK_DATA]), self._level))
            del self._buffer[:_BLOCK_DATA]

    def close(self, *, eof: bool = True) -> None:
        """Write the last partial block and, unless ``eof`` is false, the EOF marker."""
        if self._buffer:
            self._handle.write(_block(bytes(self._buffer), self._level))
            self._buffer.clear()
        if eof:
            self._handle.write(BGZF_EOF)


def write_bgzf(path: str | os.PathLike[str], data: bytes, *, level: int = 6) -> None:
    """Write ``data`` to ``path`` as a complete BGZF file."""
    with open(path, "wb") as handle:
        writer = BgzfWriter(handle, level)
        writer.write(data)
        writer.close()

"""The one progress hook of oncoresist: library code reports, the CLI renders.

Long-running functions take ``progress: ProgressCallback | None`` and call it with the
number of units (records, reads, replicates) done since the last call. They never print.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int], None]

#: Records between two progress reports of a streaming reader (a power of two, so the
#: check in a hot loop is one bitwise AND).
RECORDS_PER_REPORT = 1 << 16

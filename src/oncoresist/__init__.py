"""oncoresist: targeted-therapy resistance in cancer.

A cited knowledge base of resistance mechanisms (:mod:`oncoresist.kb`), readers for the
alterations people write and the files they hold (:mod:`oncoresist.variants`), and a
per-drug interpretation that reasons about allele phase, compound mutations, the primary
driver, disease context and drug classes (:mod:`oncoresist.interpret`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("oncoresist")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"


def interpret(*args, **kwargs):
    """Interpret alterations per drug; see :func:`oncoresist.interpret.interpret`."""
    from oncoresist.interpret import interpret as _interpret

    return _interpret(*args, **kwargs)


__all__ = ["__version__", "interpret"]

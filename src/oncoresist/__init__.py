"""oncoresist: targeted-therapy resistance in cancer.

A cited knowledge base of resistance mechanisms (:mod:`oncoresist.kb`), readers for the
alterations people write and the files they hold (:mod:`oncoresist.variants`), and a
per-drug interpretation that reasons about allele phase, compound mutations, the primary
driver, disease context and drug classes (:mod:`oncoresist.interpret`).
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # ``__version__`` is looked up when asked for: importing importlib.metadata costs
    # tens of milliseconds on every command otherwise (PEP 562).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("oncoresist")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def interpret(*args, **kwargs):
    """Interpret alterations per drug; see :func:`oncoresist.interpret.interpret`."""
    from oncoresist.interpret import interpret as _interpret

    return _interpret(*args, **kwargs)


__all__ = ["__version__", "interpret"]

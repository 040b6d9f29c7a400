"""briefwatch: ingest briefing pages, keep every version, flag changed statements.

``briefwatch.__version__`` is the installed distribution's version (read from its metadata
when first asked for: ``importlib.metadata`` costs ~30 ms, which a command that does not
print the version should not pay)."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'briefwatch' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("briefwatch")
    except PackageNotFoundError:  # run from a checkout that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found

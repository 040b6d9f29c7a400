"""Named exceptions. Every failure path raises one of these; nothing returns a silent None."""

from __future__ import annotations


class BriefwatchError(Exception):
    """Base class for every error briefwatch raises on purpose."""


class SourceError(BriefwatchError):
    """A SOURCE argument cannot be used (missing path, unsupported scheme)."""


class ReadError(BriefwatchError):
    """A page's bytes could not be read (unreadable file, too large)."""


class FetchError(ReadError):
    """A page could not be fetched over HTTP."""


class ParseError(BriefwatchError):
    """A page's bytes could not be turned into a document (empty, binary, no text)."""


class StoreError(BriefwatchError):
    """The SQLite store cannot be opened or written."""


class StoreBusyError(StoreError):
    """Another run holds the store's write lock."""


class RawDroppedError(StoreError):
    """A version's raw bytes were dropped by retention (its statements and changes stay)."""


class RunNotFoundError(StoreError):
    """A report was asked for a run id the store does not have."""


class PageNotFoundError(StoreError):
    """A history was asked for a page the store does not track."""


class VersionNotFoundError(StoreError):
    """A page was asked for a version number it does not have."""


class ChangeNotFoundError(StoreError):
    """A review or lookup named a change id the store does not have."""


class OptionError(BriefwatchError):
    """An option's value makes no sense (a chunk of 0 pages, a negative wait or age)."""


class OutputError(BriefwatchError):
    """A report could not be written where it was asked to go."""


class NetworkPolicyError(FetchError):
    """A fetch was refused because its address is not a public one (issue 15)."""

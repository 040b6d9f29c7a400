"""Local sources: which pages a SOURCE argument names, and reading their bytes.

A SOURCE is a file or a directory (searched recursively for ``.html``, ``.htm``, ``.txt``,
``.md``). Every page is identified on disk by its absolute ``file://`` URI (its *location*);
the SOURCE it was found under (its *source root*) lets the store notice pages that vanished
from a directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from briefwatch.errors import ReadError, SourceError

PAGE_SUFFIXES = frozenset({".html", ".htm", ".txt", ".md"})


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One page to read: where it is and which SOURCE argument it came from."""

    location: str  # file:// URI (the page's identity on disk)
    path: str  # filesystem path to read
    source_root: str  # file:// URI of the SOURCE argument (a directory or the file itself)


def resolve_sources(sources: Sequence[str]) -> list[Path]:
    """Check SOURCE arguments before a run; raise SourceError naming the first unusable one."""
    if not sources:
        raise SourceError("no SOURCE given")
    resolved: list[Path] = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            raise SourceError(
                f"{source}: fetching URLs is not supported yet; give a file or directory"
            )
        path = Path(source.removeprefix("file://")).expanduser()
        if not path.exists():
            raise SourceError(f"{source}: no such file or directory")
        if not (path.is_file() or path.is_dir()):
            raise SourceError(f"{source}: not a regular file or directory")
        if not os.access(path, os.R_OK):
            raise SourceError(f"{source}: permission denied")
        resolved.append(path.resolve())
    return resolved


def discover(sources: Sequence[str]) -> list[SourceItem]:
    """Every page the SOURCE arguments name, in a stable order, each location once."""
    items: list[SourceItem] = []
    seen: set[str] = set()
    for root in resolve_sources(sources):
        root_uri = root.as_uri()
        for path in _walk(root):
            uri = path.as_uri()
            if uri not in seen:
                seen.add(uri)
                items.append(SourceItem(uri, str(path), root_uri))
    return items


def _walk(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(
            Path(dirpath, name)
            for name in filenames
            if Path(name).suffix.lower() in PAGE_SUFFIXES and not name.startswith(".")
        )
    yield from sorted(found)


def read_page(item: SourceItem, max_bytes: int) -> bytes:
    """The bytes of one page; ReadError when unreadable or larger than ``max_bytes``."""
    try:
        with open(item.path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise ReadError(f"file vanished before it could be read: {item.path}") from exc
    except IsADirectoryError as exc:
        raise ReadError(f"not a file: {item.path}") from exc
    except PermissionError as exc:
        raise ReadError(f"permission denied: {item.path}") from exc
    except OSError as exc:
        raise ReadError(f"cannot read {item.path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise ReadError(f"page too large: over {max_bytes:,} bytes (limit), not read")
    return data

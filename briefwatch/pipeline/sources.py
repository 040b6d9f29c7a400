"""Local sources: which pages a SOURCE argument names, and reading their bytes.

A SOURCE is a file or a directory (searched recursively for ``.html``, ``.htm``, ``.txt``,
``.md``). Every page is identified on disk by its absolute ``file://`` URI (its *location*);
the SOURCE it was found under (its *source root*) lets the store notice pages that vanished
from a directory.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

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


def without_pages(sources: Sequence[str], items: Sequence[SourceItem]) -> list[str]:
    """One line for each directory among ``sources`` in which :func:`discover` (which gave
    ``items``) found no page, saying what it holds instead (a run over it reads nothing, and
    must not look like one that read pages and found them unchanged). A directory whose pages
    an earlier SOURCE named already is not one of them."""
    found = {item.source_root for item in items}
    lines = []
    for source, root in zip(sources, resolve_sources(sources), strict=True):
        if root.is_dir() and root.as_uri() not in found and next(iter(_walk(root)), None) is None:
            found.add(root.as_uri())  # the same directory twice: said once
            lines.append(f"SOURCE {source} has no pages ({_other_files(root)}; a page is a "
                         f"{_SUFFIX_LIST} file): nothing read from it")
    return lines


_SUFFIX_LIST = ", ".join(sorted(PAGE_SUFFIXES)[:-1]) + " or " + sorted(PAGE_SUFFIXES)[-1]


def _other_files(root: Path, shown: int = 5) -> str:
    """What a directory without pages holds: ``it is empty`` / ``it holds 3 other files:
    .bin, .csv``."""
    suffixes: Counter[str] = Counter()
    for _dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        suffixes.update(Path(name).suffix.lower() or "no suffix" for name in filenames)
    if not suffixes:
        return "it is empty"
    kinds = sorted(suffixes)
    more = f" and {len(kinds) - shown} more kinds" if len(kinds) > shown else ""
    count = sum(suffixes.values())
    return (f"it holds {count} other file{'s' if count != 1 else ''}: "
            f"{', '.join(kinds[:shown])}{more}")


def _walk(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        kept: list[str] = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            if not Path(dirpath, name).is_symlink():
                kept.append(name)
            elif not _inside(os.path.realpath(Path(dirpath, name)), str(root)):
                # listed so that the run reports it (read_page refuses it); a symbolic link
                # to a directory inside the source is not followed: its pages are read
                # where they really are
                found.append(Path(dirpath, name))
        dirnames[:] = kept
        found.extend(
            Path(dirpath, name)
            for name in filenames
            if Path(name).suffix.lower() in PAGE_SUFFIXES and not name.startswith(".")
        )
    yield from sorted(found)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _check_inside_root(item: SourceItem) -> str:
    """The real path of a local page; ReadError when it (a symbolic link, or a link on the
    way) leads outside its source directory, or is a broken link."""
    real = os.path.realpath(item.path)
    if not item.source_root.startswith("file://"):
        return real
    root = os.path.realpath(url2pathname(urlsplit(item.source_root).path))
    if not _inside(real, root):
        raise ReadError(f"refused: {item.path} is a symbolic link to {real}, outside the "
                        f"source directory {root} (give that path as a SOURCE of its own "
                        "to read it)")
    if os.path.islink(item.path) and not os.path.exists(item.path):
        try:
            os.stat(item.path)
        except OSError as exc:
            what = "symbolic link loop" if exc.errno == errno.ELOOP else "broken symbolic link"
            raise ReadError(f"{what}: {item.path} -> {os.readlink(item.path)}") from exc
    return real


def _read_regular(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file (a FIFO or device named like a page would
    block or never end: ReadError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", closefd=True) as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ReadError(f"not a regular file: {path} (a FIFO, socket or device)")
        return handle.read(limit)


def read_page(item: SourceItem, max_bytes: int) -> bytes:
    """The bytes of one page; ReadError when unreadable, larger than ``max_bytes``, or a
    symbolic link leading outside the source directory it was found in."""
    try:
        data = _read_regular(_check_inside_root(item), max_bytes + 1)
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

"""Compression of raw input bytes kept per version (so every version can be re-parsed)."""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Callable
from typing import Literal

from briefwatch.errors import StoreError

Compression = Literal["zlib", "lzma"]

# ``blobs.compression`` of a blob whose raw bytes retention dropped
# (``briefwatch.store.maintenance``):
# its ``data`` is empty, its ``size`` still the raw size, ``dropped_at`` says when.
DROPPED = "dropped"

# zlib level 6 compresses raw briefing HTML about as well as level 9 in two thirds of the
# time; lzma shrinks it ~10% more for ~6x the CPU. zlib is the default on the ingest path.
_COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": lambda data: zlib.compress(data, 6),
    "lzma": lambda data: lzma.compress(data, preset=6),
}
_DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": zlib.decompress,
    "lzma": lzma.decompress,
}


def compress(data: bytes, compression: Compression) -> bytes:
    return _COMPRESS[compression](data)


def decompress(data: bytes, compression: str, *, blob_hash: str) -> bytes:
    try:
        return _DECOMPRESS[compression](data)
    except KeyError:
        raise StoreError(f"blob {blob_hash}: unknown compression {compression!r}") from None
    except (zlib.error, lzma.LZMAError) as exc:
        raise StoreError(f"blob {blob_hash} is corrupt: {exc}") from exc

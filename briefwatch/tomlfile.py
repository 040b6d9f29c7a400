"""Reading the TOML files briefwatch is configured by (sources.toml, briefwatch.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from briefwatch.errors import BriefwatchError


def read_toml(path: Path, error: type[BriefwatchError]) -> dict[str, Any]:
    """The parsed file; ``error`` naming the file and the problem when it cannot be read or
    is not valid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc

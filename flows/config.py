"""Configuration of served deployments (``deploy/briefwatch.toml``), read without Prefect.

One ``[[deployment]]`` table per scheduled ingest: which SOURCEs go into which store, on which
cron schedule in which time zone. ``briefwatch serve`` / ``python deploy/serve.py`` turn each
into a Prefect deployment of the ``ingest`` flow (see :mod:`briefwatch.flows.serve`)::

    root = ".."                      # relative paths start here (relative to this file)

    [[deployment]]
    name = "examples"                # the deployment is ingest/examples
    sources = ["briefwatch/examples/v2"]
    db = "briefwatch-serve.db"
    cron = "0 * * * *"
    timezone = "America/New_York"    # IANA name; default UTC
    lock_wait = 900                  # seconds a run waits for a store another run holds
    raw_retention_days = 365         # optional: drop raw bytes of versions older than this

Relative ``sources`` and ``db`` are made absolute against ``root`` when the file is read, so
runs do not depend on the directory the server process was started in. Unknown keys are an
error (a misspelt ``timezone`` must not silently mean UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefwatch.errors import BriefwatchError
from briefwatch.tomlfile import read_toml

DEFAULT_CONFIG = Path("deploy") / "briefwatch.toml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SUFFIX = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,\-?LW#]+")
_TOP_KEYS = {"root", "limit", "deployment"}


class ConfigError(BriefwatchError):
    """The deployments configuration cannot be used (unreadable, unknown key, bad value)."""


@dataclass(frozen=True)
class DeploymentConfig:
    """One scheduled ingest: the flow's parameters plus its schedule."""

    name: str
    sources: tuple[str, ...]
    db_path: str
    cron: str
    timezone: str = "UTC"
    lock_wait: float = 900.0
    chunk_size: int = 64
    artifact_suffix: str = ""
    description: str = ""
    tags: tuple[str, ...] = ("briefwatch",)
    active: bool = True
    raw_retention_days: float | None = None  # None: keep every raw payload

    def parameters(self) -> dict[str, Any]:
        """The ``ingest`` flow's parameters for this deployment."""
        retention = {} if self.raw_retention_days is None else {
            "raw_retention_days": self.raw_retention_days}
        return {
            "sources": list(self.sources),
            "db_path": self.db_path,
            "chunk_size": self.chunk_size,
            "lock_wait": self.lock_wait,
            "artifact_suffix": self.artifact_suffix,
            **retention,
        }


@dataclass(frozen=True)
class ServeConfig:
    """Every deployment of one configuration file; ``limit`` caps concurrent runs of the
    serving process (None: no cap)."""

    path: Path
    deployments: tuple[DeploymentConfig, ...] = field(default_factory=tuple)
    limit: int | None = None


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "sources": list, "db": str, "cron": str, "timezone": str,
    "lock_wait": (int, float), "chunk_size": int, "artifact_suffix": str,
    "description": str, "tags": list, "active": bool, "raw_retention_days": (int, float),
}
_REQUIRED = ("name", "sources", "db", "cron")


def load_config(path: str | Path) -> ServeConfig:
    """Read and check a deployments file; ConfigError naming the file and the problem."""
    path = Path(path)
    return parse_config(read_toml(path, ConfigError), path)


def parse_config(data: dict[str, Any], path: Path) -> ServeConfig:
    """Check already-parsed TOML ``data`` that was read from ``path``."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(_TOP_KEYS))})")
    root = (path.parent / str(data.get("root", "."))).resolve()
    tables = data.get("deployment", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path}: no [[deployment]] tables")
    deployments = tuple(_deployment(t, root, f"{path}: deployment {i + 1}")
                        for i, t in enumerate(tables))
    names = [d.name for d in deployments]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: deployment name(s) used twice: {', '.join(duplicates)}")
    limit = data.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ConfigError(f"{path}: limit must be a positive integer, not {limit!r}")
    return ServeConfig(path=path, deployments=deployments, limit=limit)


def _deployment(table: Any, root: Path, where: str) -> DeploymentConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: not a table")
    _check_keys(table, where)
    name = table["name"]
    where = f"{where} ({name!r})"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: name must be letters, digits, '.', '_' or '-'")
    sources = table["sources"]
    if not sources or not all(isinstance(s, str) and s for s in sources):
        raise ConfigError(f"{where}: sources must be a non-empty list of paths")
    suffix = table.get("artifact_suffix", "")
    if suffix and not _SUFFIX.fullmatch(suffix):
        raise ConfigError(f"{where}: artifact_suffix must be lowercase letters, digits and "
                          "single dashes")
    timezone = table.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {timezone!r} (an IANA name such as "
                          "'UTC' or 'America/New_York')") from None
    lock_wait = float(table.get("lock_wait", 900.0))
    chunk_size = table.get("chunk_size", 64)
    if lock_wait < 0 or chunk_size < 1:
        raise ConfigError(f"{where}: lock_wait must be >= 0 and chunk_size >= 1")
    retention = table.get("raw_retention_days")
    if retention is not None and not 0 <= retention < float("inf"):
        raise ConfigError(f"{where}: raw_retention_days must be a number of days >= 0")
    return DeploymentConfig(
        name=name,
        sources=tuple(_absolute(s, root) for s in sources),
        db_path=_absolute(table["db"], root),
        cron=_cron(table["cron"], where),
        timezone=timezone,
        lock_wait=lock_wait,
        chunk_size=chunk_size,
        artifact_suffix=suffix,
        description=table.get("description", ""),
        tags=tuple(str(t) for t in table.get("tags", ["briefwatch"])),
        active=table.get("active", True),
        raw_retention_days=None if retention is None else float(retention),
    )


def _check_keys(table: dict[str, Any], where: str) -> None:
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(_FIELDS))})")
    missing = [k for k in _REQUIRED if k not in table]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    for key, value in table.items():
        expected = _FIELDS[key]
        wrong_bool = isinstance(value, bool) and expected is not bool
        if wrong_bool or not isinstance(value, expected):
            raise ConfigError(f"{where}: {key} has the wrong type ({type(value).__name__})")


def _cron(cron: str, where: str) -> str:
    """A five-field cron expression (minute hour day month weekday), checked for shape;
    Prefect checks the values when the deployment is created."""
    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise ConfigError(f"{where}: cron {cron!r} is not five fields "
                          "(minute hour day-of-month month day-of-week)")
    return " ".join(fields)


def _absolute(value: str, root: Path) -> str:
    if "://" in value and not value.startswith("file://"):
        return value  # a URL: not a path
    path = Path(value.removeprefix("file://")).expanduser()
    return str(path if path.is_absolute() else (root / path).resolve())

"""The store's exclusive writer lock: ``fcntl.flock`` on ``<store path>.lock``.

The lock belongs to the open file description, so the OS drops it when the holder exits
(even on SIGKILL) and a second ``open`` of the file, in any process, conflicts. The file's
content (JSON: pid, run, since) only describes the holder for the error message; it is never
used to decide who holds the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from briefwatch.errors import StoreBusyError, StoreError
from briefwatch.store.rows import now_iso

_POLL_SECONDS = 0.05


class WriterLock:
    """One holder of the writer lock; ``acquire`` once, ``release`` once."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        self.path = Path(f"{store_path}.lock")
        self._fd: int | None = None
        self._info: dict[str, Any] = {}

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, wait: float = 0.0) -> None:
        """Take the lock, polling for up to ``wait`` seconds; StoreBusyError if not taken."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot lock store {self.store_path}: {exc}") from exc
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    os.close(fd)
                    raise StoreBusyError(self._busy_message()) from None
                time.sleep(min(_POLL_SECONDS, remaining))
        self._fd = fd
        self._info = {"pid": os.getpid(), "run": None, "since": now_iso()}
        self._write_info()

    def set_run(self, run_id: int) -> None:
        """Record the run the holder is writing (shown to anyone refused the lock)."""
        if self._fd is not None:
            self._info["run"] = run_id
            self._write_info()

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _write_info(self) -> None:
        assert self._fd is not None
        data = json.dumps(self._info).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def _busy_message(self) -> str:
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        pid = info.get("pid", "unknown")
        run = info.get("run") or "not started"
        since = info.get("since", "unknown")
        return (
            f"store {self.store_path} is in use by another run "
            f"(pid {pid}, run {run}, since {since})"
        )

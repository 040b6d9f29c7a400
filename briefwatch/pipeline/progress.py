"""Progress of a long run, for whoever watches it.

The ingest flow calls :func:`report` after each batch; nothing happens unless a sink is
installed. ``briefwatch ingest`` installs a :class:`TerminalProgress` when stderr is a
terminal: one line, redrawn in place (``fetch  340/1000 ███████░░░░░░░░░ 34%``), ended
when the run is done. The flow also logs the same counts through Prefect (visible on a
server), so a scheduled run's progress is in its log.

:func:`notice` carries one-off messages for the person watching (the store is busy and the
run waits for it): ``briefwatch ingest`` installs a sink that prints them on stderr.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from briefwatch.pipeline.hooks import Hook

Sink = Callable[[str, int, int], None]
NoticeSink = Callable[[str], None]
progress_hook: Hook[Sink] = Hook()
notice_hook: Hook[NoticeSink] = Hook()


def install(sink: Sink | None) -> Sink | None:
    """Send progress to ``sink`` (None: nowhere); returns the sink it replaces."""
    return progress_hook.install(sink)


def report(stage: str, done: int, total: int) -> None:
    """``done`` of ``total`` items of ``stage`` (e.g. "fetch", "read") are through."""
    sink = progress_hook.current
    if sink is not None:
        sink(stage, done, total)


def notice(message: str) -> bool:
    """Tell whoever watches ``message``; whether a sink took it (False: none installed)."""
    sink = notice_hook.current
    if sink is None:
        return False
    sink(message)
    return True


class TerminalProgress:
    """A one-line progress bar on a terminal stream (redrawn at most 10 times a second)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._last = 0.0
        self._shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - 40))
        share = done / total if total else 1.0
        filled = int(share * width)
        bar = "█" * filled + "░" * (width - filled)
        self.stream.write(f"\r{stage:6} {done:>6}/{total:<6} {bar} {share:4.0%}")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the line (the report printed next starts on its own line)."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False

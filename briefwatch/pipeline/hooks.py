"""A process-wide slot for one callable that the CLI installs and the flow calls.

The ingest flow reports progress, notices and its finished report to whoever watches the
run (:mod:`briefwatch.pipeline.progress`, :mod:`briefwatch.pipeline.delivery`); ``briefwatch
ingest`` installs
the terminal's receivers for the length of one run. Nothing is called while a slot is empty.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Hook(Generic[F]):
    """One slot: :meth:`install` a callable (or None), read it back with :attr:`current`."""

    def __init__(self) -> None:
        self._value: F | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> F | None:
        return self._value

    def install(self, value: F | None) -> F | None:
        """Put ``value`` in the slot (None: empty it); returns the one it replaces."""
        with self._lock:
            previous, self._value = self._value, value
        return previous

    @contextmanager
    def installed(self, value: F | None) -> Iterator[None]:
        """``value`` in the slot for the body; the previous one back afterwards."""
        previous = self.install(value)
        try:
            yield
        finally:
            self.install(previous)

"""Run-level guards of the ingest flow: the store's writer lock as a flow sees it, and the
Prefect artifact keys a run publishes under.

The lock is the store's own (:meth:`briefwatch.store.Store.writer_lock`, an advisory ``flock`` next
to
the SQLite file), so it holds between any two writers — two deployments, a deployment and
``briefwatch ingest``, two workers on one host — not only between runs Prefect knows about.
A run that finds the store busy either waits for it (``lock_wait`` seconds) or stops before
writing anything, with one plain log line naming the holder.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from prefect import get_run_logger

from briefwatch.errors import StoreBusyError
from briefwatch.pipeline import progress
from briefwatch.store import Store

REPORT_ARTIFACT_KEY = "briefwatch-report"
CHANGED_PAGES_ARTIFACT_KEY = "briefwatch-changed-pages"
_SUFFIX = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def artifact_keys(suffix: str = "") -> tuple[str, str]:
    """The (report, changed-pages) artifact keys of a run: the stable defaults, or with
    ``-<suffix>`` appended (one history per store/deployment). Prefect allows lowercase
    letters, digits and dashes in keys; anything else is a ValueError, raised before the
    run writes anything."""
    if not suffix:
        return REPORT_ARTIFACT_KEY, CHANGED_PAGES_ARTIFACT_KEY
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"artifact_suffix {suffix!r}: use lowercase letters, digits and "
                         "single dashes (e.g. 'whitehouse' or 'dod-2017')")
    return f"{REPORT_ARTIFACT_KEY}-{suffix}", f"{CHANGED_PAGES_ARTIFACT_KEY}-{suffix}"


@contextmanager
def store_writer_lock(store: Store, wait: float) -> Iterator[None]:
    """Hold ``store``'s writer lock for the body. If another run holds it, wait up to
    ``wait`` seconds (0: not at all); log that the run waits and, when it gives up, who
    holds the store, then raise StoreBusyError (the run has written nothing)."""
    logger = get_run_logger()
    with ExitStack() as held:
        try:
            held.enter_context(store.writer_lock())
        except StoreBusyError as busy:
            if wait <= 0:
                logger.error("%s; this run stops without writing (lock_wait is 0)", busy)
                raise
            waiting = f"{busy}; this run waits up to {wait:g} s for it"
            # a watching terminal (`briefwatch ingest --wait`) prints it itself: logged at
            # INFO then, so Prefect's console handler does not print it a second time
            logger.log(logging.INFO if progress.notice(waiting) else logging.WARNING, waiting)
            try:
                held.enter_context(store.writer_lock(wait=wait))
            except StoreBusyError as still_busy:
                logger.error("%s; this run waited %g s and stops without writing",
                             still_busy, wait)
                raise still_busy from None
            logger.info("store %s is free; this run goes on", store.path)
        yield

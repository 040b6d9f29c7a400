"""Delivering a run's report, before the run counts as reported.

A run's changes count as reported once its report was delivered (``runs.reported_at``; see
:mod:`briefwatch.store.carryover`): the ingest flow publishes its artifacts, hands the report to the
installed deliverer, and only then marks the run reported — all still under the store's
writer lock, so no other run can start in between and carry the same changes over a
second time. ``briefwatch ingest`` installs a deliverer that writes the report to stdout
and flushes it; a run killed before that finished is not reported, and the next run's
report carries its changes (at least once: a reader who kept the output of a killed run
sees those changes again, flagged by ``carried_from_runs``).
"""

from __future__ import annotations

from collections.abc import Callable

from briefwatch.contract import Report
from briefwatch.pipeline.hooks import Hook

Deliverer = Callable[[Report], None]
deliverer_hook: Hook[Deliverer] = Hook()


def deliver(report: Report) -> bool:
    """Give ``report`` to the installed deliverer (its errors propagate: the run is then
    not marked reported); whether one was installed."""
    deliverer = deliverer_hook.current
    if deliverer is None:
        return False
    deliverer(report)
    return True

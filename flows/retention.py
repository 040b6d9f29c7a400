"""Standing retention of raw payloads: the ``ingest`` flow's ``raw_retention_days`` parameter
(a deployment's ``raw_retention_days`` key in ``deploy/briefwatch.toml``).

At the end of a run, still under the store's writer lock, the raw bytes of versions older
than that many days are dropped (:func:`briefwatch.store.maintenance.drop_raw`; current versions'
bytes are kept). The space is reused by later runs; ``briefwatch vacuum`` gives it back to
the file system. A failing retention is logged as an error and leaves the run completed:
its pages are stored and its report delivered by then.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from briefwatch.flows.fetch_tasks import FetchTaskSteps


@task(name="raw-retention", cache_policy=NO_CACHE)
def raw_retention_task(db_path: str, days: float) -> None:
    """Drop raw payloads older than ``days`` days (the plain run's step,
    :meth:`briefwatch.pipeline.ingest.IngestSteps.retention`, logging to the flow run's log);
    the caller holds the writer lock. A refusal is an error in the run's log."""
    FetchTaskSteps().retention(db_path, days)

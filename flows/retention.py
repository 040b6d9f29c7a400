"""Standing retention of raw payloads: the ``ingest`` flow's ``raw_retention_days`` parameter
(a deployment's ``raw_retention_days`` key in ``deploy/briefwatch.toml``).

At the end of a run, still under the store's writer lock, the raw bytes of versions older
than that many days are dropped (:func:`briefwatch.store.maintenance.drop_raw`; current versions'
bytes are kept). The space is reused by later runs; ``briefwatch vacuum`` gives it back to
the file system. A failing retention is logged as an error and leaves the run completed:
its pages are stored and its report delivered by then.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from briefwatch.errors import StoreError
from briefwatch.store import Store
from briefwatch.store.maintenance import RetentionPolicy, RetentionResult, drop_raw


@task(name="raw-retention", cache_policy=NO_CACHE)
def raw_retention_task(db_path: str, days: float) -> RetentionResult | None:
    """Drop raw payloads older than ``days`` days; the caller holds the writer lock. None
    (and an error in the run's log) if the store refused."""
    logger = get_run_logger()
    try:
        store = Store(db_path)
        try:
            result = drop_raw(store, RetentionPolicy(days))
        finally:
            store.close()
    except StoreError as exc:
        logger.error("raw retention (%g days) failed, nothing dropped: %s", days, exc)
        return None
    logger.info("raw retention (%g days): dropped the raw bytes of %d blob(s), %d bytes "
                "raw, %d bytes stored", days, result.blobs_dropped, result.raw_bytes_dropped,
                result.stored_bytes_dropped)
    return result

"""The Prefect artifact keys an ingest run publishes under (the store's writer lock is taken
by :func:`briefwatch.pipeline.ingest.run_ingest`, for the flow and in-process runs alike)."""

from __future__ import annotations

import re

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

"""Serve briefwatch's ingest deployments on their cron schedules: ``python deploy/serve.py``.

Reads ``briefwatch.toml`` beside this script (or ``--config FILE``), registers one deployment of the
``ingest`` flow per entry with the Prefect server at ``PREFECT_API_URL``, and runs scheduled
and hand-triggered runs until stopped. The same as ``briefwatch serve``; see
``flows/serve.py`` and the README's "Scheduled runs (Prefect server)".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# before prefect is imported anywhere: nothing phones home
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from briefwatch.flows.serve import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], default_config=Path(__file__).with_name("briefwatch.toml")))

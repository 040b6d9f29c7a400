"""``bench/fetch.py`` works end to end on a few pages (no timing is looked at: the runs must
see what they should — every page new, then every page answered 304 and unchanged — and
every figure must come out)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.support.paths import REPO

ROOT = REPO

pytestmark = pytest.mark.bench


def test_fetch_bench_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.fetch import main

    out = tmp_path / "fetch.json"
    assert main(["--pages", "24", "--hosts", "3", "--latency", "0.01", "--concurrency", "6",
                 "--per-host", "2", "--sequential", "6", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["counts"]["first"]["new"] == 24
    assert figures["counts"]["second"]["unchanged"] == 24
    assert figures["concurrency"] == 6
    for key in ("fetcher_s", "sequential_s", "host_by_host_s", "ingest_first_s",
                "ingest_second_s", "fetcher_share_of_ideal", "second_over_first"):
        assert math.isfinite(figures[key]) and figures[key] > 0, key
    assert "of ideal" in capsys.readouterr().out

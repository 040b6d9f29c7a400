"""The benchmark machinery (``python -m bench.run_all``) works end to end on a few pages.

Benchmarks are not tests: nothing here looks at a timing. What is checked is that the
bench builds distinct pages, that its runs see what they should (all new, then all
unchanged, then exactly the edited pages changed by one statement each) and that every
figure comes out. Runs the real Prefect flow in child processes (~30 s); deselect with
``-m "not bench"``.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.support.paths import REPO

ROOT = REPO

from bench.corpus import GOVUK_DIR, WH_DIR  # noqa: E402

PAGES, EDITS = 30, 3

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not (GOVUK_DIR.is_dir() and WH_DIR.is_dir()),
                       reason="needs the reference corpora in ../shared"),
]


@pytest.fixture(scope="module")
def bench_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from bench.run_all import main

    work = tmp_path_factory.mktemp("bench")
    out = work / "bench.json"
    code = main(["--pages", str(PAGES), "--edits", str(EDITS), "--diff-small", "50",
                 "--diff-repeat", "1", "--workdir", str(work / "run"), "--json", str(out)])
    assert code == 0
    data: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_scaled_copies_are_distinct_pages_and_runs_see_what_they_should(
    bench_output: dict[str, object],
) -> None:
    scaled = bench_output["raw"]["flow"]["scaled"]  # type: ignore[index]
    first = scaled["flow_first"]["counts"]
    # every page has an outcome; one new page per distinct key, the rest are versions of it
    assert sum(first.values()) == PAGES
    assert first["new"] == scaled["corpus_keys"]
    assert first["failed"] == 0
    assert scaled["plain_first"]["counts"] == first
    assert scaled["flow_rerun"]["counts"]["unchanged"] == PAGES
    assert scaled["edited_pages"] == EDITS
    edit = scaled["flow_edit"]
    assert edit["counts"]["changed"] == EDITS
    assert edit["change_types"] == {"changed": EDITS}
    assert edit["changes_per_changed_page"] == [1]


def test_every_figure_is_reported_with_a_number(bench_output: dict[str, object]) -> None:
    figures = bench_output["figures"]
    assert isinstance(figures, list)
    names = {(f["section"].split(",")[0], f["name"]) for f in figures}
    for expected in [
        ("ingest throughput", "briefwatch flow / trafilatura.extract"),
        ("re-run with nothing changed", "first run / unchanged re-run"),
        ("Prefect's share of wall time", "first run: (flow - same work without Prefect) / flow"),
        ("memory and store size", "peak RSS of the flow process (first run)"),
        ("memory and store size", "store growth per one-sentence edit"),
        ("statement diff scaling (bench/diff_scaling.py)", "edit5: 500 / 50 statements"),
    ]:
        assert expected in names
    for figure in figures:
        assert isinstance(figure["value"], float | int)
        assert not math.isnan(figure["value"]), figure


def test_the_figures_render_as_markdown_tables(bench_output: dict[str, object]) -> None:
    from bench.run_all import Figure, render

    figures = [Figure(**f) for f in bench_output["figures"]]  # type: ignore[attr-defined]
    text = render(figures)
    assert text.count("| figure | value | context | goal |") == len({f.section for f in figures})
    assert "| briefwatch flow / trafilatura.extract |" in text

"""Quality regression gate: the quick evaluation subset must hold the measured figures.

Runs ``eval.run_all``'s quick subset in-process (fixed seeds, deterministic figures) and
checks every gated figure against the level measured when the gate was set (see
``docs/quality.md``): a change that makes a figure worse fails here. When the product gets
better, raise the level to the new measurement.

Skipped when ``../shared/corpora`` is not there; deselect with ``-m "not eval"``.
"""

from __future__ import annotations

import pytest

from tests.support.paths import REPO

ROOT = REPO
CORPORA = ROOT.parent / "shared" / "corpora"

from eval.common import EvalOptions, SectionResult  # noqa: E402
from eval.run_all import run_sections  # noqa: E402

pytestmark = [
    pytest.mark.eval,
    pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found: {CORPORA}"),
]

# (section, figure name, comparison, level measured on the quick subset; see docs/quality.md)
GATES: list[tuple[str, str, str, float]] = [
    ("1", "F1 briefwatch", ">=", 0.9729),
    ("1", "precision briefwatch", ">=", 0.9694),
    ("1", "recall briefwatch", ">=", 0.9763),
    ("1", "pages briefwatch failed on", "<=", 0),
    ("2", "(a) transcript turns recovered with their speaker", ">=", 0.9997),
    ("2", "(b) statements leaking page chrome", "<=", 0),
    ("2", "(c) statements not found in the transcript body (not in the goal)", "<=", 2),
    ("2", "pages that failed to parse", "<=", 0),
    ("3", "whitehouse boilerplate-only pairs reported unchanged", ">=", 1.0),
    ("3", "GOV.UK markup-only pairs reported unchanged", ">=", 1.0),
    ("3", "GOV.UK visible-text-changed pairs reported changed (not in the goal)", ">=", 0.875),
    ("3", "whitehouse different-document pairs not reported unchanged", ">=", 1.0),
    ("4", "(a) page-level recall", ">=", 1.0),
    ("4", "(a) page-level precision", ">=", 0.9859),
    ("4", "(b) text-changing hunks covered by a flagged statement", ">=", 0.9945),
    ("4", "(c) false flags (share of flagged statements)", "<=", 0.0414),
    ("4", "(d) label changes in the diffs found as re-attributions", ">=", 0.9166),
    ("5", "turns recovered with their speaker", ">=", 0.9997),
    ("5", "turns after a hard line break recovered (not in the goal)", ">=", 1.0),
    ("5", "transcripts that failed to parse", "<=", 0),
    ("6", "pairwise ranking accuracy (care above ignore)", ">=", 0.8333),
]


@pytest.fixture(scope="module")
def results() -> dict[str, SectionResult]:
    """The quick subset, run once for the module (about a minute on 2 cores)."""
    return {r.section: r for r in run_sections(EvalOptions(corpora=CORPORA, quick=True))}


@pytest.mark.parametrize(("section", "name", "comparison", "level"), GATES,
                         ids=[f"{s}:{n}" for s, n, _c, _l in GATES])
def test_figure_holds_its_measured_level(
    results: dict[str, SectionResult], section: str, name: str, comparison: str, level: float
) -> None:
    value = results[section].figure(name).value
    if comparison == ">=":
        assert value >= level, f"{name}: {value:.4f} fell below {level}"
    else:
        assert value <= level, f"{name}: {value:.4f} rose above {level}"


def test_extraction_beats_trafilatura_on_the_same_pages(
    results: dict[str, SectionResult],
) -> None:
    ours = results["1"].figure("F1 briefwatch")
    assert ours.goal is not None and ours.passed, (
        f"briefwatch F1 {ours.value:.3f} < trafilatura {ours.goal:.3f}"
    )


def test_every_gated_figure_exists(results: dict[str, SectionResult]) -> None:
    """A renamed or dropped figure must not silently disable its gate."""
    names = {(r.section, f.name) for r in results.values() for f in r.figures}
    assert {(s, n) for s, n, _c, _l in GATES} <= names

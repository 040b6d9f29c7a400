"""The JSON report contract (``briefwatch.contract``): the published schema is the one the
types give, and real reports of every kind, made by the CLI on real stores, validate
against it (as does the README's example)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from briefwatch.cli.app import EXAMPLES, main
from briefwatch.contract import json_schema, schema_text
from briefwatch.pipeline.reparse import ReparseOptions, reparse
from briefwatch.store import Store
from tests.pipeline.test_reparse import MOSUL, build_store, ingest_page
from tests.support.paths import REPO

SCHEMA_FILE = REPO / "docs" / "report.schema.json"


def cli_json(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def validate(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(json_schema()).validate(report)


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/report.schema.json is stale: python -m briefwatch.contract > "
        "docs/report.schema.json")


def test_the_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def readme_example() -> dict[str, Any]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The JSON report", 1)[1]
    match = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README: no JSON example under 'The JSON report'"
    example: dict[str, Any] = json.loads(match.group(1))
    return example


def test_the_readme_example_validates() -> None:
    validate(readme_example())


def test_a_report_missing_a_field_or_of_the_wrong_type_fails() -> None:
    """The schema checks something: the README example broken two ways is rejected."""
    example = readme_example()
    del example["pages"][0]["changes"][0]["significance"]
    with pytest.raises(jsonschema.ValidationError, match="significance"):
        validate(example)
    example = readme_example()
    example["run"]["counts"]["changed"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        validate(example)


@pytest.mark.parametrize("run", ["1", "2"])  # 1: every page new; 2: changed, unchanged
def test_ingest_run_reports_validate(demo_db: Path, run: str) -> None:
    report = cli_json("report", "--db", str(demo_db), "--run", run, "--format", "json")
    assert report["pages"]
    validate(report)


def test_a_filtered_report_validates(demo_db: Path) -> None:
    report = cli_json("report", "--db", str(demo_db), "--run", "2", "--format", "json",
                      "--min-significance", "high")
    assert report["filter"]["hidden_changes"] > 0
    validate(report)


def test_the_ingest_command_prints_a_valid_report(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(EXAMPLES / "v1", pages)
    report = cli_json("ingest", str(pages), "--db", str(tmp_path / "b.db"), "--format", "json")
    assert {p["status"] for p in report["pages"]} == {"new"}
    validate(report)


def test_a_carried_over_report_validates(tmp_path: Path) -> None:
    """Run 1 (v1) is delivered; run 2 stores v2 and dies before its report was delivered;
    run 3 (``briefwatch ingest``, v2 again) carries run 2's changes over."""
    pages = tmp_path / "pages"
    shutil.copytree(EXAMPLES / "v1", pages)
    db = tmp_path / "briefwatch.db"
    cli_json("ingest", str(pages), "--db", str(db), "--format", "json")
    for path in sorted((EXAMPLES / "v2").iterdir()):
        shutil.copyfile(path, pages / path.name)
    with Store(db) as store:
        run = store.start_run([str(pages)])
        for path in sorted(pages.iterdir()):
            ingest_page(store, run, path.read_bytes(), path.as_uri())
        store.finish_run(run, reported=False)
    report = cli_json("ingest", str(pages), "--db", str(db), "--format", "json")
    assert report["run"]["carried_over"]["contributing_runs"] == [2]
    assert any(p["carried_from_runs"] == [2] and p["changes"] for p in report["pages"])
    validate(report)


def test_reparse_reports_validate(tmp_path: Path) -> None:
    """A store stored by an older parser (tests.pipeline.test_reparse): the dry run, the
    reparse command's report and the reparse run's stored report."""
    db = build_store(tmp_path)
    dry = cli_json("reparse", "--db", str(db), "--dry-run", "--format", "json")
    done = cli_json("reparse", "--db", str(db), "--format", "json")
    stored = cli_json("report", "--db", str(db), "--run", str(done["run"]["id"]),
                      "--format", "json")
    for report in (dry, done, stored):
        page = next(p for p in report["pages"] if p["key"].endswith(MOSUL))
        assert page["reparse"]["versions"] and page["reparse"]["superseded_changes"]
        validate(report)
    with Store(db) as store:  # the plain-Python entry point gives the same shape
        validate(reparse(store, ReparseOptions(dry_run=True)))

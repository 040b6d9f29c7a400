"""The review commands end to end through ``briefwatch.cli.app`` on real stores: report
--format html / --min-significance / --unreviewed, history in three formats, diff of any two
versions, said, search, review and feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli import main
from briefwatch.report.atom import ATOM
from tests.support.htmlcheck import assert_inert, parse

MOSUL = "defense-gov-mosul-raqqa.txt"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return json.loads(_run(capsys, *args, "--format", "json"))


def _mosul_key(db: Path, capsys: pytest.CaptureFixture[str]) -> str:
    pages = _json(capsys, "pages", "--db", str(db))
    return next(p["key"] for p in pages if p["key"].endswith(MOSUL))


def test_report_html_to_directory(demo_db: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    printed = _run(capsys, "report", "--db", str(demo_db), "--format", "html", "-o", str(out))
    index = out / "index.html"
    assert printed.strip() == f"wrote {index}"
    doc = assert_inert(index.read_text(encoding="utf-8"))
    assert "163 → 170" in doc.text_content()
    # a FILE.html target is written as is
    single = tmp_path / "nested" / "run.html"
    _run(capsys, "report", "--db", str(demo_db), "--format", "html", "-o", str(single))
    assert single.read_text(encoding="utf-8") == index.read_text(encoding="utf-8")


def test_report_filters(demo_db_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db_copy)
    full = _json(capsys, "report", "--db", db)
    changes = [c for p in full["pages"] for c in p["changes"]]
    assert {c["significance"] for c in changes} == {"high", "medium", "low"}
    high = _json(capsys, "report", "--db", db, "--min-significance", "high")
    kept = [c for p in high["pages"] for c in p["changes"]]
    assert kept and all(c["significance"] == "high" for c in kept)
    assert high["filter"]["hidden_changes"] == len(changes) - len(kept)
    # review two changes; --unreviewed leaves them out, and the text report shows their state
    first, second = kept[0]["id"], kept[1]["id"]
    out = _run(capsys, "review", "--db", db, str(first), str(second), "--status", "reviewed",
               "--note", "checked against the transcript", "--by", "tester")
    assert out.splitlines() == [f"change {first}: reviewed (checked against the transcript)",
                                f"change {second}: reviewed (checked against the transcript)"]
    unreviewed = _json(capsys, "report", "--db", db, "--unreviewed")
    ids = {c["id"] for p in unreviewed["pages"] for c in p["changes"]}
    assert first not in ids and second not in ids and len(ids) == len(changes) - 2
    text = _run(capsys, "report", "--db", db)
    assert f"change {first} reviewed" in text
    assert "review note: checked against the transcript" in text
    # JSON keeps the store's order and only adds fields
    reviewed = next(c for c in _json(capsys, "report", "--db", db)["pages"][0]["changes"]
                    if c["id"] == first)
    assert (reviewed["review_status"], reviewed["reviewer"]) == ("reviewed", "tester")


def test_review_show_and_errors(demo_db_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db_copy)
    _run(capsys, "review", "--db", db, "1", "--status", "flagged", "--note", "<b>why</b>")
    shown = _run(capsys, "review", "--db", db, "1")
    assert shown.startswith("change 1: ") and "review: flagged" in shown
    assert "flagged" in shown and "<b>why</b>" in shown
    detail = _json(capsys, "review", "--db", db, "1")
    assert [r["status"] for r in detail[0]["reviews"]] == ["flagged"]
    assert main(["review", "--db", db, "424242", "--status", "reviewed"]) == 2
    assert "no change 424242" in capsys.readouterr().err
    assert main(["review", "--db", db, "1", "--note", "x"]) == 2
    assert "--note and --by need --status" in capsys.readouterr().err
    # a failing id among several: nothing is recorded
    assert main(["review", "--db", db, "2", "424242", "--status", "dismissed"]) == 2
    assert _json(capsys, "review", "--db", db, "2")[0]["review_status"] == "unreviewed"


def test_history_formats(demo_db: Path, capsys: pytest.CaptureFixture[str],
                         tmp_path: Path) -> None:
    db, key = str(demo_db), _mosul_key(demo_db, capsys)
    versions = _json(capsys, "history", "--db", db, key)
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["changes"] == {"added": 1, "changed": 2, "reattributed": 2, "removed": 1}
    assert len(versions[0]["change_details"]) == 6 and versions[0]["significance"] == "high"
    text = _run(capsys, "history", "--db", db, key)
    assert text.splitlines()[4].startswith("v2 ")
    assert "6 changes (1 added, 2 changed, 2 reattributed, 1 removed)  high" in text
    assert "[-163-] {+170+}" in text and "first capture" in text
    high = _json(capsys, "history", "--db", db, key, "--min-significance", "high")
    assert len(high[0]["change_details"]) == 4
    out = tmp_path / "h.html"
    _run(capsys, "history", "--db", db, key, "--format", "html", "-o", str(out))
    doc = assert_inert(out.read_text(encoding="utf-8"))
    assert [a.get("id") for a in doc.xpath("//article")] == ["v2", "v1"]


def test_diff_any_two_versions(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, key = str(demo_db), _mosul_key(demo_db, capsys)
    forward = _json(capsys, "diff", "--db", db, key, "--from", "1", "--to", "2")
    assert (forward["previous_version"], forward["version"]) == (1, 2)
    bodies = next(c for c in forward["changes"] if c["numbers"])
    assert bodies["numbers"][0] == {"old": "163", "new": "170"}
    # the reverse direction mirrors it; defaults compare the current version with the one before
    backward = _json(capsys, "diff", "--db", db, key, "--from", "2", "--to", "1")
    assert {"old": "170", "new": "163"} in [n for c in backward["changes"] for n in c["numbers"]]
    assert _json(capsys, "diff", "--db", db, key) == forward
    same = _run(capsys, "diff", "--db", db, key, "--from", "2", "--to", "2")
    assert "have the same statements" in same
    md = _run(capsys, "diff", "--db", db, key, "--format", "markdown")
    assert "~~163~~ **170**" in md
    html = _run(capsys, "diff", "--db", db, key, "--format", "html")
    assert "170" in [i.text_content() for i in parse(html).xpath("//ins")]
    assert main(["diff", "--db", db, key, "--from", "1", "--to", "9"]) == 2
    assert "no version 9" in capsys.readouterr().err


def test_said(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db)
    view = _json(capsys, "said", "--db", db, "jean-pierre")
    assert view["speakers"] == ["MS. JEAN-PIERRE"]
    [page] = view["pages"]
    assert len(page["changes"]) == 8 and {c["type"] for c in page["changes"]} == {"reattributed"}
    text = _run(capsys, "said", "--db", db, "Dillon")
    assert text.startswith("speakers: Army Col. Ryan S. Dillon")
    assert "[-163-] {+170+}" in text and "says in v2" in text
    assert "no speaker's name contains" in _run(capsys, "said", "--db", db, "Nobody")
    html = _run(capsys, "said", "--db", db, "Dillon", "--format", "html")
    assert_inert(html, payloads=("Army Col. Ryan S. Dillon",))


def test_search(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(demo_db)
    hits = _json(capsys, "search", "--db", db, "casualties")
    assert len(hits) >= 3 and all("casualt" in h["text"].lower() for h in hits)
    assert any(not h["current"] for h in hits)  # Dillon's quote before re-attribution
    davis = _json(capsys, "search", "--db", db, "casualties", "--speaker", "Davis")
    assert [h["speaker"] for h in davis] == ["Pentagon spokesman Navy Capt. Jeff Davis"]
    assert "no statement matches" in _run(capsys, "search", "--db", db, "zebra")
    html = _run(capsys, "search", "--db", db, "casualties", "--format", "html")
    assert parse(html).xpath("//mark")
    assert main(["search", "--db", db, "   "]) == 2


def test_feed_command(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "changes.xml"
    _run(capsys, "feed", "--db", str(demo_db), "-o", str(out), "--feed-url",
         "https://example.gov/changes.xml", "--min-significance", "high")
    feed = ET.parse(out).getroot()
    assert feed.tag == f"{{{ATOM}}}feed"
    entries = feed.findall(f"{{{ATOM}}}entry")
    assert len(entries) == 6
    stdout = _run(capsys, "feed", "--db", str(demo_db), "--runs", "1")
    assert len(ET.fromstring(stdout).findall(f"{{{ATOM}}}entry")) == 3


def test_new_commands_exit_2_on_unusable_arguments(tmp_path: Path) -> None:
    from briefwatch.store import Store

    empty = tmp_path / "empty.db"
    Store(empty).close()
    cases = [
        (("history", "--db", str(empty), "https://nowhere.example/"), "no page"),
        (("diff", "--db", str(empty), "https://nowhere.example/"), "no page"),
        (("said", "--db", str(tmp_path / "missing.db"), "x"), "cannot open store"),
        (("report", "--db", str(empty), "--format", "html", "-o", "/proc/forbidden/x"),
         "the store has no runs"),
    ]
    for args, message in cases:
        result = subprocess.run([sys.executable, "-m", "briefwatch.cli", *args],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ})
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr


def test_unwritable_output_is_a_clean_error(demo_db: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["report", "--db", str(demo_db), "--format", "html", "-o",
                 str(blocker / "sub")]) == 2
    assert "cannot write" in capsys.readouterr().err

"""End to end: the CLI runs the real Prefect ingest flow (ephemeral API) on real files into a
real SQLite store, then reports. v1 then an edited v2 of each bundled page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli.app import EXAMPLES, main

BOILERPLATE = ("official website of the United States", "Share sensitive information",
               "historical collection", "Photo By:", "VIRIN:", "VIDEO |", "Related Stories",
               "Follow Terri Moon Cronk", "Army photo by")


def _ingest(capsys: pytest.CaptureFixture[str], pages: Path, db: Path) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["ingest", str(pages), "--db", str(db), "--format", "json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _page(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in report["pages"] if name in p["key"] or name in (p.get("url") or "")
                or name in (p.get("title") or ""))


def _copy(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        shutil.copyfile(path, dest / path.name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """v1, then v2, then v2 again, through the CLI; each run's JSON report."""
    base = tmp_path_factory.mktemp("e2e")
    pages, db = base / "pages", base / "store.db"
    out: dict[str, Any] = {"pages": pages, "db": db}
    empty = base / "empty"  # a SOURCE without pages, in the last run: it says so
    empty.mkdir()
    for label, src in (("v1", "v1"), ("v2", "v2"), ("again", "v2")):
        _copy(EXAMPLES / src, pages)
        import io
        from contextlib import redirect_stderr, redirect_stdout

        buf, err = io.StringIO(), io.StringIO()
        extra = [str(empty)] if label == "again" else []
        with redirect_stdout(buf), redirect_stderr(err):
            assert main(["ingest", str(pages), *extra, "--db", str(db), "--format", "json",
                         "--flow"]) == 0
        out[label] = json.loads(buf.getvalue())
        out[f"{label}-stderr"] = err.getvalue()
    out["empty"] = empty
    return out


def test_first_run_all_new(runs: dict[str, Any]) -> None:
    report = runs["v1"]
    assert report["run"]["counts"] == {"new": 3, "changed": 0, "unchanged": 0, "gone": 0,
                                       "failed": 0, "blocked": 0}
    assert report["run"]["flow_run_id"]
    for page in report["pages"]:
        assert page["status"] == "new" and page["version"] == 1
        assert page["previous_version"] is None
        assert page["changes"] and all(c["type"] == "added" for c in page["changes"])
        for change in page["changes"]:
            assert not any(marker in change["new"] for marker in BOILERPLATE), change["new"]


def _summary(page: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(c["type"], c["old_speaker"], c["speaker"]) for c in page["changes"]]


def test_edited_seed_changes_exact(runs: dict[str, Any]) -> None:
    page = _page(runs["v2"], "defense-gov-mosul-raqqa")
    assert page["status"] == "changed" and (page["previous_version"], page["version"]) == (1, 2)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for change in page["changes"]:
        by_type.setdefault(change["type"], []).append(change)
    assert sorted(by_type) == ["added", "changed", "reattributed", "removed"], _summary(page)
    changed = {c["new"][:30]: c for c in by_type["changed"]}
    bodies = next(c for c in by_type["changed"] if "bodies" in c["new"])
    assert bodies["numbers"] == [{"old": "163", "new": "170"}]
    assert bodies["speaker"] == "Army Col. Ryan S. Dillon"
    boats = next(c for c in by_type["changed"] if "boats" in c["new"])
    assert boats["numbers"] == [{"old": "20", "new": "25"}]
    assert len(changed) == 2
    # the quote now names another speaker; the next sentence's "he added" follows it, since a
    # pronoun resolves to the last named speaker
    quote, pronoun = by_type["reattributed"]
    for change in (quote, pronoun):
        assert change["old_speaker"] == "Army Col. Ryan S. Dillon"
        assert change["speaker"] == "Pentagon spokesman Navy Capt. Jeff Davis"
    assert quote["new"].startswith('"There are no coalition casualties')
    assert quote["kind"] == "quote" and quote["numbers"] == []
    assert ", he added, in addition" in pronoun["new"]
    [removed] = by_type["removed"]
    assert removed["old"].startswith("The SDF has moved to isolate Raqqa")
    assert removed["new"] is None and removed["speaker"] == "Army Col. Ryan S. Dillon"
    [added] = by_type["added"]
    assert "second deconfliction channel" in added["new"]


def test_edited_seed_numbers_and_move(runs: dict[str, Any]) -> None:
    page = _page(runs["v2"], "mattis-iraq-visit")
    assert page["status"] == "changed"
    kinds = sorted(c["type"] for c in page["changes"])
    assert kinds == ["changed", "changed", "moved"], _summary(page)
    numbers = sorted(n["old"] + "->" + n["new"] for c in page["changes"] for n in c["numbers"])
    assert numbers == ["37->40", "42->45"]
    moved = next(c for c in page["changes"] if c["type"] == "moved")
    assert moved["new"].startswith("Mattis's trip")  # typography-only edit: moved, not changed


def test_real_transcript_reattribution(runs: dict[str, Any]) -> None:
    page = _page(runs["v2"], "press-gaggle")
    assert page["status"] == "changed"
    assert {c["type"] for c in page["changes"]} == {"reattributed"}
    for change in page["changes"]:
        assert (change["old_speaker"], change["speaker"]) == ("THE PRESIDENT", "MS. JEAN-PIERRE")
    assert page["changes"][0]["new"].startswith("So, I mean, just to reiterate, Jonathan")


def test_rerun_unchanged(runs: dict[str, Any]) -> None:
    counts = runs["again"]["run"]["counts"]
    assert counts == {"new": 0, "changed": 0, "unchanged": 3, "gone": 0, "failed": 0,
                      "blocked": 0}
    assert all(p["changes"] == [] for p in runs["again"]["pages"])


def test_a_flow_run_says_a_source_has_no_pages(runs: dict[str, Any]) -> None:
    notice = (f"briefwatch: SOURCE {runs['empty']} has no pages (it is empty; a page is a "
              ".htm, .html, .md or .txt file): nothing read from it")
    assert runs["again-stderr"].splitlines().count(notice) == 1
    assert "no pages" not in runs["v1-stderr"] + runs["v2-stderr"]


def test_report_history_pages_commands(runs: dict[str, Any], capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    db = str(runs["db"])
    assert main(["report", "--db", db, "--run", str(runs["v2"]["run"]["id"]),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == runs["v2"]
    out = tmp_path / "r.md"
    assert main(["report", "--db", db, "--format", "markdown", "-o", str(out)]) == 0
    assert out.read_text().startswith(f"# briefwatch run {runs['again']['run']['id']}")
    assert main(["report", "--db", db, "--run", str(runs["v2"]["run"]["id"])]) == 0
    text = capsys.readouterr().out
    assert "163 → 170" in text and "[CHANGED]" in text
    mosul = runs["pages"] / "defense-gov-mosul-raqqa.txt"
    assert main(["history", "--db", db, str(mosul), "--format", "json"]) == 0
    versions = json.loads(capsys.readouterr().out)
    assert [v["number"] for v in versions] == [2, 1]
    assert main(["pages", "--db", db, "--format", "json"]) == 0
    pages = json.loads(capsys.readouterr().out)
    assert len(pages) == 3 and {p["status"] for p in pages} == {"active"}


def test_bad_input_fails_page_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages, db = tmp_path / "pages", tmp_path / "s.db"
    pages.mkdir()
    good = pages / "good.txt"
    shutil.copyfile(EXAMPLES / "v1" / "mattis-iraq-visit.txt", good)
    first = _ingest(capsys, pages, db)
    assert first["run"]["counts"]["new"] == 1
    # now every kind of bad input, and the good page's bytes replaced by garbage
    (pages / "empty.txt").write_bytes(b"")
    (pages / "binary.html").write_bytes(bytes(range(256)) * 40)
    (pages / "big.txt").write_bytes(b"word " * (10 * 1024 * 1024 + 1))  # 50 MB
    (pages / "malformed.html").write_bytes(b"<html><body><p>Unclosed <b>tags <div><p>Real text "
                                           b"survives here. It does.</table></html>")
    (pages / "invalid-utf8.txt").write_bytes("Caf\xe9 owners said prices rose 5 percent."
                                            .encode("latin-1"))
    os.symlink("loop.txt", pages / "loop.txt")  # unreadable: a symlink loop
    good.write_bytes(b"\x00\x00\x00\x00" * 1000)
    report = _ingest(capsys, pages, db)
    statuses = {Path(p["key"]).name: (p["status"], p["error"]) for p in report["pages"]}
    assert statuses["good.txt"][0] == "failed" and "binary" in statuses["good.txt"][1]
    assert statuses["empty.txt"][0] == "failed" and "empty" in statuses["empty.txt"][1]
    assert statuses["binary.html"][0] == "failed"
    assert statuses["big.txt"][0] == "failed" and "too large" in statuses["big.txt"][1]
    assert statuses["loop.txt"][0] == "failed" and statuses["loop.txt"][1]
    assert statuses["malformed.html"][0] == "new"  # recovered, not lost
    assert statuses["invalid-utf8.txt"][0] == "new"  # decoded by detection, not garbled
    assert report["run"]["finished_at"]
    # the good page's earlier version is intact and still current
    assert main(["history", "--db", str(db), str(good), "--format", "json"]) == 0
    versions = json.loads(capsys.readouterr().out)
    assert [v["number"] for v in versions] == [1]
    assert main(["report", "--db", str(db), "--run", str(first["run"]["id"]),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["pages"] == first["pages"]


def test_gone_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages, db = tmp_path / "pages", tmp_path / "s.db"
    _copy(EXAMPLES / "v1", pages)
    _ingest(capsys, pages, db)
    (pages / "mattis-iraq-visit.txt").unlink()
    report = _ingest(capsys, pages, db)
    assert report["run"]["counts"]["gone"] == 1
    gone = _page(report, "mattis-iraq-visit")
    assert gone["status"] == "gone"
    assert main(["history", "--db", str(db), gone["key"], "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1  # history kept


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefwatch.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "/nonexistent/pages"), "no such file or directory"),
        (("report", "--db", "/nonexistent/dir/x.db"), "cannot open store"),
        (("pages", "--db", "__NOT_SQLITE__"), "cannot open store"),
        (("report", "--db", "__EMPTY_DB__", "--run", "99"), "run 99"),
    ],
)
def test_unusable_arguments_exit_nonzero(args: tuple[str, ...], message: str,
                                         tmp_path: Path) -> None:
    not_sqlite = tmp_path / "garbage.db"
    not_sqlite.write_bytes(b"this is not a database" * 100)
    empty_db = tmp_path / "empty.db"
    from briefwatch.store import Store

    Store(empty_db).close()
    args = tuple(str(not_sqlite) if a == "__NOT_SQLITE__" else
                 str(empty_db) if a == "__EMPTY_DB__" else a for a in args)
    result = _cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_db_defaults_and_env_override(runs: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIEFWATCH_DB", raising=False)
    assert main(["pages"]) == 2  # ./briefwatch.db does not exist yet: a clear error
    assert "briefwatch.db" in capsys.readouterr().err
    monkeypatch.setenv("BRIEFWATCH_DB", str(runs["db"]))
    assert main(["pages", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3

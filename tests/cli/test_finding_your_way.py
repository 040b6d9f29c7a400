"""Issue 12, points 6-7, through the real CLI on real store files: no silent no-ops (a
source without pages says so, nonsense option values are exit 2, a whitespace-only page has
no text), ``briefwatch runs``, ``report`` defaulting to the latest ingest run, ``--version``,
the corrected messages of ``diff`` and ``search``, and help text on every option."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import TypeAdapter

from briefwatch.cli.app import EXAMPLES, build_parser, main
from briefwatch.contract import RunRow
from briefwatch.store import Store
from tests.support.webserver import Reply, Site
from tests.web.test_fetch_web import FAST_TOML, rss

MATTIS = "mattis-iraq-visit.txt"


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> tuple[str, str]:
    capsys.readouterr()
    assert main(list(args)) == code
    captured = capsys.readouterr()
    return captured.out, captured.err


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one error line argparse gives (exit 2) for ``args``."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(list(args))
    assert stop.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """v1 then v2 of the bundled pages ingested in-process (runs 1, 2), then a reparse
    (run 3)."""
    base = tmp_path_factory.mktemp("findings")
    pages, db = base / "pages", base / "briefwatch.db"
    shutil.copytree(EXAMPLES / "v1", pages)
    assert main(["ingest", str(pages), "--db", str(db), "--quiet", "--no-flow"]) == 0
    for path in (EXAMPLES / "v2").iterdir():
        shutil.copyfile(path, pages / path.name)
    assert main(["ingest", str(pages), "--db", str(db), "--quiet", "--no-flow"]) == 0
    assert main(["reparse", "--db", str(db)]) == 0
    return {"db": str(db), "pages": pages}


# ---------------------------------------------------------------- no silent no-op


def test_a_directory_without_pages_says_so_once_per_source(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty, other, pages = tmp_path / "empty", tmp_path / "other", tmp_path / "pages"
    empty.mkdir()
    other.mkdir()
    (other / "table.csv").write_text("a,b\n1,2\n")
    (other / "blob.bin").write_bytes(b"\x00\x01")
    shutil.copytree(EXAMPLES / "v1", pages)
    db = str(tmp_path / "b.db")
    out, err = run(capsys, "ingest", str(empty), str(other), str(empty), str(pages),
                   "--db", db, "--format", "json", "--no-flow")
    lines = err.splitlines()
    assert lines == [
        f"briefwatch: SOURCE {empty} has no pages (it is empty; a page is a .htm, .html, .md "
        "or .txt file): nothing read from it",
        f"briefwatch: SOURCE {other} has no pages (it holds 2 other files: .bin, .csv; a page "
        "is a .htm, .html, .md or .txt file): nothing read from it",
    ]
    assert json.loads(out)["run"]["counts"]["new"] == 3  # the source with pages was read
    # a directory whose pages were all read, once or twice, is not one without pages
    _, err = run(capsys, "ingest", str(pages), str(pages), "--db", db, "--quiet", "--no-flow")
    assert "no pages" not in err


def test_a_feed_that_lists_nothing_says_so(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with Site() as site:
        feed = site.route("/feed.xml", Reply(200, rss(), {"Content-Type": "application/rss+xml"}))
        config = tmp_path / "sources.toml"
        config.write_text(FAST_TOML + f'\n[[source]]\nname = "quiet"\nkind = "feed"\n'
                                      f'url = "{feed}"\n')
        _, err = run(capsys, "ingest", "--config", str(config), "--db",
                     str(tmp_path / "b.db"), "--quiet", "--no-flow")
    assert (f"briefwatch: source quiet: its feed {feed} lists no pages; 0 page(s) tracked "
            "before are read") in err.splitlines()


CHUNK = "argument --chunk-size: the chunk size must be at least 1"
WAIT = "must be a number of seconds >= 0"


@pytest.mark.parametrize(("args", "message"), [
    (["ingest", ".", "--chunk-size", "0"], CHUNK + ", not 0"),
    (["ingest", ".", "--chunk-size", "-5"], CHUNK + ", not -5"),
    (["ingest", ".", "--chunk-size", "2.5"], "argument --chunk-size: not a whole number"),
    (["ingest", ".", "--wait", "-1"], "argument --wait/--lock-wait: " + WAIT),
    (["ingest", ".", "--wait", "nan"], WAIT),
    (["ingest", ".", "--wait", "inf"], WAIT),
    (["check", "--wait", "-2"], WAIT),
    (["reparse", "--wait", "-2"], WAIT),
    (["vacuum", "--wait", "-2"], WAIT),
    (["vacuum", "--drop-raw-older-than", "-1"], "must be a number of days >= 0, not -1"),
    (["search", "x", "--limit", "0"], "the number of statements must be at least 1, not 0"),
    (["feed", "--runs", "0"], "the number of runs must be at least 1, not 0"),
    (["runs", "--limit", "-1"], "the number of runs must be at least 1, not -1"),
    (["diff", "P", "--from", "0"], "argument --from: a version number must be at least 1"),
    (["diff", "P", "--to", "-1"], "argument --to: a version number must be at least 1"),
    (["review", "0"], "a change id must be at least 1, not 0"),
])
def test_nonsense_option_values_are_exit_2_with_the_reason(
        args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in refused(capsys, *args)


def _actions(parser: argparse.ArgumentParser, path: str = "briefwatch"
             ) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        found.append((path, action))
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _actions(sub, f"{path} {name}")
    return found


def test_every_numeric_option_checks_its_value() -> None:
    """A plain ``type=int`` / ``float`` accepts 0 and negatives: every number goes through a
    type of ``briefwatch.cli.argtypes`` (or a check of its own, listed here)."""
    actions = _actions(build_parser())
    plain = [f"{path} {'/'.join(a.option_strings) or a.dest}" for path, a in actions
             if a.type in (int, float)]
    assert plain == []
    assert len([a for _, a in actions if getattr(a.type, "__module__", "")
                == "briefwatch.cli.argtypes"]) >= 12


def test_every_option_of_every_command_has_help() -> None:
    missing = [f"{path} {'/'.join(a.option_strings) or a.dest}"
               for path, a in _actions(build_parser())
               if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []


def test_output_help_says_dir_where_a_folder_works() -> None:
    for path, action in _actions(build_parser()):
        if "--output" not in action.option_strings:
            continue
        formats = next((a.choices for p, a in _actions(build_parser())
                        if p == path and "--format" in a.option_strings), ())
        assert ("DIR" in (action.help or "")) == ("html" in (formats or ())), path


def test_a_whitespace_only_page_has_no_text_an_empty_one_no_bytes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "blank.txt").write_bytes(b"  \n\t\r\n   \n")
    (tmp_path / "empty.html").write_bytes(b"")
    out, _ = run(capsys, "ingest", str(tmp_path), "--db", str(tmp_path / "b.db"),
                 "--format", "json", "--no-flow")
    errors = {Path(p["location"]).name: p["error"] for p in json.loads(out)["pages"]}
    assert errors == {"blank.txt": "empty document: no text (only white space)",
                      "empty.html": "empty document: no bytes"}


# ----------------------------------------------------------------- briefwatch runs


def _validate_rows(rows: list[dict[str, Any]]) -> None:
    schema = TypeAdapter(list[RunRow]).json_schema()
    jsonschema.Draft202012Validator(schema).validate(rows)


def test_runs_lists_newest_first_with_kind_counts_and_delivery(
        store: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(capsys, "runs", "--db", store["db"], "--format", "json")
    rows = json.loads(out)
    _validate_rows(rows)
    assert [(r["id"], r["kind"], r["status"], r["delivered"]) for r in rows] == [
        (3, "reparse", "completed", True), (2, "ingest", "completed", True),
        (1, "ingest", "completed", True)]
    assert rows[1]["counts"]["changed"] == 3
    assert rows[2]["counts"]["new"] == 3
    assert rows[1]["runner"] == "in-process" and rows[1]["flow_run_id"] is None
    assert rows[1]["reported_in"] == 2 and rows[1]["finished_at"] >= rows[1]["started_at"]
    out, _ = run(capsys, "runs", "--db", store["db"], "--kind", "ingest", "--limit", "1",
                 "--format", "json")
    assert [r["id"] for r in json.loads(out)] == [2]
    text, _ = run(capsys, "runs", "--db", store["db"])
    header, *lines = text.splitlines()
    assert header.split() == ["RUN", "KIND", "STATUS", "STARTED", "FINISHED", "COUNTS",
                              "RUNNER", "FLOW", "RUN", "DELIVERED"]
    assert [line.split()[:3] for line in lines] == [
        ["3", "reparse", "completed"], ["2", "ingest", "completed"],
        ["1", "ingest", "completed"]]
    assert "0 new, 3 changed, 0 unchanged, 0 gone, 0 failed" in lines[1]
    assert "0 re-parsed, 3 unchanged, 0 failed" in lines[0]


def test_runs_shows_a_run_not_delivered_and_the_run_that_carried_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages, db = tmp_path / "pages", tmp_path / "b.db"
    shutil.copytree(EXAMPLES / "v1", pages)
    with Store(db) as st:  # run 1: died after it stored, before its report went out
        st.finish_run(st.start_run([str(pages)]), reported=False)
        running = st.start_run([str(pages)])  # run 2: still running (or killed)
    out, _ = run(capsys, "runs", "--db", str(db), "--format", "json")
    rows = json.loads(out)
    _validate_rows(rows)
    assert [(r["id"], r["status"], r["delivered"], r["finished_at"]) for r in rows] == [
        (running, "running", False, None), (1, "completed", False, rows[1]["finished_at"])]
    run(capsys, "ingest", str(pages), "--db", str(db), "--quiet", "--no-flow")
    text, _ = run(capsys, "runs", "--db", str(db))
    delivered = {line.split()[0]: line.split()[-1] for line in text.splitlines()[1:]}
    assert delivered == {"3": "yes", "2": "3", "1": "3"}  # "in run 3"
    assert "in run 3" in text


def test_runs_on_a_store_without_runs_and_a_missing_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(tmp_path / "b.db").close()
    out, _ = run(capsys, "runs", "--db", str(tmp_path / "b.db"), "--kind", "reparse")
    assert out == "no reparse runs in this store yet\n"
    _, err = run(capsys, "runs", "--db", str(tmp_path / "none.db"), code=2)
    assert "none.db" in err


# ------------------------------------------------------- report, version, messages


def test_report_defaults_to_the_latest_ingest_run(store: dict[str, Any],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = run(capsys, "report", "--db", store["db"], "--format", "json")
    assert json.loads(out)["run"]["id"] == 2
    out, _ = run(capsys, "report", "--db", store["db"], "--run", "3", "--format", "json")
    assert json.loads(out)["run"]["kind"] == "reparse"


def test_version_is_the_installed_one() -> None:
    done = subprocess.run([sys.executable, "-m", "briefwatch", "--version"],
                          capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout == f"briefwatch {importlib.metadata.version('briefwatch')}\n"
    import briefwatch

    assert briefwatch.__version__ == importlib.metadata.version("briefwatch")


def test_diff_messages_name_the_version_asked_for(store: dict[str, Any],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    page = str(store["pages"] / MATTIS)
    _, err = run(capsys, "diff", page, "--db", store["db"], "--to", "5", code=2)
    assert err == f"briefwatch: page {(store['pages'] / MATTIS).as_uri()!r} has no version 5: " \
                  "it has only v1 to v2\n"
    _, err = run(capsys, "diff", page, "--db", store["db"], "--to", "1", code=2)
    assert "v1 is its first version, there is none before it" in err
    out, _ = run(capsys, "diff", page, "--db", store["db"], "--from", "1", "--format", "json")
    assert (json.loads(out)["previous_version"], json.loads(out)["version"]) == (1, 2)


def test_search_takes_several_words_unquoted(store: dict[str, Any],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    unquoted, _ = run(capsys, "search", "Tal", "Afar", "--db", store["db"], "--format", "json")
    quoted, _ = run(capsys, "search", "Tal Afar", "--db", store["db"], "--format", "json")
    assert json.loads(unquoted) == json.loads(quoted)
    assert json.loads(unquoted) and all("Tal Afar" in h["text"] for h in json.loads(unquoted))


def test_backup_to_a_missing_folder_blames_the_folder(
        store: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "missing" / "dir" / "b.db"
    _, err = run(capsys, "backup", str(dest), "--db", store["db"], code=2)
    assert err == (f"briefwatch: backup: cannot write {dest}: the folder {dest.parent} does "
                   "not exist\n")
    with sqlite3.connect(store["db"]) as conn:  # the store was not touched
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

"""Store maintenance on real stores built by real ingests (the CLI runs the Prefect flow):
``briefwatch vacuum`` with and without retention of old raw payloads, ``Store.load_raw`` on
dropped bytes, and ``briefwatch backup`` — also taken while another process ingests.

The corpus: five real pages (two whitehouse.gov transcripts, two GOV.UK pages, an epa.gov
page; ``tests/fixtures/html``), each ingested in four revisions (round k inserts
"Revision k of this page added this sentence." into a middle paragraph), so every page has
versions 1-4 with ~20-200 KB of raw HTML each.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import inspect
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli.app import EXIT_BUSY, EXIT_OK, EXIT_USAGE, main
from briefwatch.errors import RawDroppedError
from briefwatch.store import Store
from briefwatch.store.maintenance import RetentionPolicy, drop_raw
from tests.support.paths import FIXTURES, REPO

FIXTURES = FIXTURES / "html"
NAMES = ("wh2020-briefing-2020-04-01-v2.html.gz", "wh2020-briefing-2020-04-20-v2.html.gz",
         "govuk-news-haulier-tests.html", "govuk-speech-uk-eu-ppa.html",
         "edgi-epa-federal-partners-a.html.gz")
ROUNDS = 4
_PARAGRAPH = re.compile(rb"(<p(?:\s[^>]*)?>)(?=[^<]{20})")


def _original(name: str) -> bytes:
    data = (FIXTURES / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def revision(name: str, k: int, marker: str = "Revision") -> bytes:
    """Page ``name`` with one sentence added to its middle paragraph."""
    data = _original(name)
    paragraphs = list(_PARAGRAPH.finditer(data))
    cut = paragraphs[len(paragraphs) // 2].end(1)
    return data[:cut] + f"{marker} {k} of this page added this sentence. ".encode() + data[cut:]


def write_round(pages: Path, k: int, names: tuple[str, ...] = NAMES) -> None:
    for name in names:
        (pages / name.removesuffix(".gz")).write_bytes(revision(name, k))


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def cli_json(*args: str) -> Any:
    code, out, err = cli(*args, "--format", "json")
    assert code == EXIT_OK, err
    return json.loads(out)


def ingest(pages: Path, db: Path) -> dict[str, Any]:
    report: dict[str, Any] = cli_json("ingest", str(pages), "--db", str(db))
    return report


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def assert_sound(db: Path) -> None:
    """SQLite's own checks, no dangling reference, no partial version, and
    ``briefwatch.store.integrity.check_store`` where it exists; opens as a Store."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        partial = conn.execute(
            "SELECT v.id FROM versions v WHERE v.statement_count != "
            "(SELECT count(*) FROM version_statements vs WHERE vs.version_id = v.id)"
        ).fetchall()
        assert partial == []
    Store(db, create=False).close()
    try:
        from briefwatch.store.integrity import check_store
    except ImportError:  # written alongside; used once it is there
        return
    report = check_store(db)
    assert report.ok, report.as_dict()


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(pages dir, store): four ingest runs, one per revision. Read-only: use ``store``."""
    base = tmp_path_factory.mktemp("maintenance")
    pages, db = base / "pages", base / "briefwatch.db"
    pages.mkdir()
    for k in range(1, ROUNDS + 1):
        write_round(pages, k)
        report = ingest(pages, db)
        assert report["run"]["counts"]["new" if k == 1 else "changed"] == len(NAMES)
    return pages, db


@pytest.fixture
def pages(built: tuple[Path, Path]) -> Iterator[Path]:
    """The pages directory the store's locations point at, at the last round; reset after a
    test that writes other revisions into it."""
    yield built[0]
    write_round(built[0], ROUNDS)


def copy_store(source: Path, copy: Path) -> Path:
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(Path(f"{source}{suffix}"), Path(f"{copy}{suffix}"))
    return copy


@pytest.fixture
def db(built: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the built store."""
    return copy_store(built[1], tmp_path / "briefwatch.db")


def views(db: Path) -> dict[str, Any]:
    """Everything the review commands show of the store, as JSON."""
    keys = [key for (key,) in rows(db, "SELECT key FROM pages ORDER BY key")]
    out: dict[str, Any] = {f"report {run}": cli_json("report", "--db", str(db), "--run", str(run))
                           for run in range(1, ROUNDS + 1)}
    for key in keys:
        out[f"history {key}"] = cli_json("history", "--db", str(db), key)
        out[f"diff {key}"] = cli_json("diff", "--db", str(db), key, "--from", "1", "--to", "4")
    out["search"] = cli_json("search", "--db", str(db), "revision sentence")
    out["pages"] = cli_json("pages", "--db", str(db))
    return out


def blob_states(db: Path) -> dict[int, str]:
    """Version id -> its blob's compression ('dropped' when retention dropped it)."""
    return dict(rows(db, "SELECT v.id, b.compression FROM versions v "
                         "JOIN blobs b ON b.hash = v.raw_hash"))


def current_ids(db: Path) -> set[int]:
    return {v for (v,) in rows(db, "SELECT current_version_id FROM pages")}


# --------------------------------------------------------------------- vacuum


def test_retention_drops_old_raw_and_the_file_shrinks(db: Path) -> None:
    compacted = cli_json("vacuum", "--db", str(db))  # a compact baseline first
    assert compacted["retention"] is None
    size = db.stat().st_size
    assert compacted["file_bytes_after"] == size
    stored = sum(n for (n,) in rows(db, "SELECT length(data) FROM blobs"))

    result = cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0")
    retention = result["retention"]
    old = len(NAMES) * (ROUNDS - 1)
    assert (retention["blobs_dropped"], retention["versions_affected"]) == (old, old)
    assert retention["blobs_kept_as_current"] == len(NAMES)
    dropped_rows = rows(db, "SELECT sum(size), count(*) FROM blobs WHERE compression = "
                            "'dropped' AND data = x'' AND dropped_at IS NOT NULL")
    assert dropped_rows == [(retention["raw_bytes_dropped"], old)]
    # the payloads are really gone from the file: it shrank by at least 90% of their size,
    # and they were most of what the old versions added (statements are shared)
    after = db.stat().st_size
    assert result["file_bytes_after"] == after
    assert size - after >= 0.9 * retention["stored_bytes_dropped"]
    assert retention["stored_bytes_dropped"] >= 0.6 * stored
    assert after / size < 0.9
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    assert_sound(db)


def test_text_output_names_what_was_dropped(db: Path) -> None:
    code, out, err = cli("vacuum", "--db", str(db), "--drop-raw-older-than", "0")
    assert code == EXIT_OK, err
    assert f"dropped the raw bytes of {len(NAMES) * (ROUNDS - 1)} blob(s)" in out
    assert f"kept {len(NAMES)} old blob(s) of current versions" in out
    assert re.search(r"vacuum: .* -> .* \(\d+\.\d% of before\)", out)


def test_reports_history_diff_search_unchanged_by_retention(db: Path) -> None:
    before = views(db)
    cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0", "--no-keep-current")
    assert set(blob_states(db).values()) == {"dropped"}
    assert views(db) == before


def test_current_raw_kept_old_raw_refused_with_a_clear_error(db: Path) -> None:
    cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0")
    states, current = blob_states(db), current_ids(db)
    assert {v for v, c in states.items() if c != "dropped"} == current
    with Store(db, create=False) as store:
        for version_id in current:
            raw = store.load_raw(version_id)
            assert b"Revision 4 of this page" in raw
        old = min(set(states) - current)
        number, key = rows(db, "SELECT v.number, p.key FROM versions v JOIN pages p "
                               "ON p.id = v.page_id WHERE v.id = ?", old)[0]
        with pytest.raises(RawDroppedError) as caught:
            store.load_raw(old)
    dropped_on = rows(db, "SELECT substr(dropped_at, 1, 10) FROM blobs b JOIN versions v "
                          "ON v.raw_hash = b.hash WHERE v.id = ?", old)[0][0]
    assert str(caught.value).startswith(
        f"raw bytes of version {number} of {key} were dropped on {dropped_on} by retention")


@pytest.mark.parametrize("keep_current", [True, False])
def test_unchanged_bytes_still_skip_parsing(db: Path, pages: Path, keep_current: bool) -> None:
    flags = [] if keep_current else ["--no-keep-current"]
    cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0", *flags)
    report = ingest(pages, db)
    assert report["run"]["counts"]["unchanged"] == len(NAMES)
    skipped = rows(db, "SELECT count(*) FROM page_runs WHERE run_id = ? AND skipped_parse = 1",
                   report["run"]["id"])
    assert skipped == [(len(NAMES),)]


def _changes(report: dict[str, Any]) -> list[Any]:
    return sorted(
        (p["key"], p["status"], p["previous_version"], p["version"],
         [(c["type"], c["old"], c["new"], c["numbers"], c["speaker"]) for c in p["changes"]])
        for p in report["pages"])


def test_new_version_diffs_against_a_version_whose_raw_was_dropped(
        db: Path, pages: Path, tmp_path: Path) -> None:
    control = copy_store(db, tmp_path / "control.db")
    cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0", "--no-keep-current")
    write_round(pages, 5)
    dropped, kept = ingest(pages, db), ingest(pages, control)
    assert _changes(dropped) == _changes(kept)
    for page in dropped["pages"]:
        assert (page["status"], page["previous_version"], page["version"]) == ("changed", 4, 5)
        assert [c["numbers"] for c in page["changes"]] == [[{"old": "4", "new": "5"}]]
    assert cli_json("diff", "--db", str(db), dropped["pages"][0]["key"], "--from", "1",
                    "--to", "5") == cli_json("diff", "--db", str(control),
                                             dropped["pages"][0]["key"], "--from", "1",
                                             "--to", "5")
    assert_sound(db)


def test_bytes_that_come_back_are_stored_again(db: Path, pages: Path) -> None:
    cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0", "--no-keep-current")
    write_round(pages, 1)  # every page reverts to its first text: the bytes of version 1
    report = ingest(pages, db)
    assert {(p["status"], p["version"]) for p in report["pages"]} == {("changed", 5)}
    with Store(db, create=False) as store:
        for version_id in current_ids(db):
            assert b"Revision 1 of this page" in store.load_raw(version_id)
        first = rows(db, "SELECT id FROM versions WHERE number = 1")
        for (version_id,) in first:  # the same blob: version 1's raw is back too
            assert b"Revision 1 of this page" in store.load_raw(version_id)
    assert rows(db, "SELECT count(*) FROM blobs WHERE compression = 'dropped'") == [
        (len(NAMES) * (ROUNDS - 1),)]


def test_only_versions_older_than_the_cutoff(db: Path) -> None:
    # runs 1 and 2 happened 40 days ago, runs 3 and 4 today
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE versions SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
                     "created_at, '-40 days') WHERE run_id IN (1, 2)")
    result = cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "30")
    assert result["retention"]["blobs_dropped"] == 2 * len(NAMES)
    dropped_runs = rows(db, "SELECT DISTINCT v.run_id FROM versions v JOIN blobs b "
                            "ON b.hash = v.raw_hash WHERE b.compression = 'dropped'")
    assert sorted(dropped_runs) == [(1,), (2,)]
    again = cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "30")
    assert again["retention"]["blobs_dropped"] == 0


def test_a_blob_shared_with_a_kept_version_is_kept(tmp_path: Path) -> None:
    """Two pages with the same bytes share one blob: page a's old version and page b's
    recent one. Retention of a's old version must not drop what b still needs."""
    name = "govuk-speech-uk-eu-ppa.html"
    pages, db = tmp_path / "pages", tmp_path / "shared.db"
    pages.mkdir()
    (pages / "a.html").write_bytes(revision(name, 1))
    ingest(pages, db)
    (pages / "a.html").write_bytes(revision(name, 2))
    (pages / "b.html").write_bytes(revision(name, 1))  # no canonical URL: its own page
    ingest(pages, db)
    shared = rows(db, "SELECT raw_hash, count(*) FROM versions GROUP BY raw_hash "
                      "HAVING count(*) = 2")
    assert len(shared) == 1
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE versions SET created_at = '2000-01-01T00:00:00.000Z' "
                     "WHERE run_id = 1")
    with Store(db, create=False) as store, store.writer_lock():
        policy = RetentionPolicy(30, keep_current=False)
        assert drop_raw(store, policy).blobs_dropped == 0
        assert drop_raw(store, RetentionPolicy(0, keep_current=False)).blobs_dropped == 2


def test_dry_run_writes_nothing(db: Path) -> None:
    cli_json("vacuum", "--db", str(db))
    digest = sha256(db)
    result = cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0", "--dry-run",
                      "--no-keep-current")
    assert result["dry_run"] and result["retention"]["dry_run"]
    assert result["retention"]["blobs_dropped"] == len(NAMES) * ROUNDS
    assert result["file_bytes_after"] == result["file_bytes_before"]
    assert sha256(db) == digest
    assert "dropped" not in set(blob_states(db).values())
    code, out, _ = cli("vacuum", "--db", str(db), "--drop-raw-older-than", "0", "--dry-run")
    assert code == EXIT_OK and "would drop" in out and "nothing written" in out
    assert sha256(db) == digest


_HOLD_LOCK = """
import sys
from briefwatch.store import Store
store = Store(sys.argv[1], create=False)
with store.writer_lock():
    store.start_run(["held by a test"])
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def lock_held_by_another_process(db: Path) -> Iterator[int]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(db)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0


def test_busy_store_refused_with_the_holder(db: Path) -> None:
    with lock_held_by_another_process(db) as pid:
        digest = sha256(db)
        for flags in ([], ["--drop-raw-older-than", "0"]):
            code, out, err = cli("vacuum", "--db", str(db), *flags)
            assert code == EXIT_BUSY and out == ""
            assert f"is in use by another run (pid {pid}, run {ROUNDS + 1}," in err
        assert sha256(db) == digest
    assert cli_json("vacuum", "--db", str(db), "--drop-raw-older-than", "0")[
        "retention"]["blobs_dropped"] == len(NAMES) * (ROUNDS - 1)


def test_a_reader_keeps_the_log_until_it_is_done(db: Path) -> None:
    """VACUUM goes through while a reader (Datasette, a report) holds a read transaction,
    which still sees its snapshot; the file shrinks at the first checkpoint after it."""
    from briefwatch.store.maintenance import file_bytes, vacuum

    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        versions = reader.execute("SELECT count(*) FROM versions").fetchone()
        with Store(db, create=False, busy_timeout=0.2) as store:
            result = vacuum(store, RetentionPolicy(0))
        assert not result.checkpoint_complete
        assert result.file_bytes_after > result.file_bytes_before  # the log holds the copy
        assert reader.execute("SELECT count(*) FROM versions").fetchone() == versions
        reader.execute("COMMIT")
    with Store(db, create=False) as store:
        again = vacuum(store)
    assert again.checkpoint_complete
    assert file_bytes(db) < result.file_bytes_before
    assert_sound(db)


def test_usage_errors(db: Path, tmp_path: Path) -> None:
    assert cli("vacuum", "--db", str(tmp_path / "missing.db"))[0] == EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        cli("vacuum", "--db", str(db), "--drop-raw-older-than", "-1")
    assert exc.value.code == EXIT_USAGE


# ------------------------------------------------ standing retention (deployments)

_DEPLOYMENT = {"name": "d", "sources": ["pages"], "db": "s.db", "cron": "0 * * * *"}


def test_deployment_key_becomes_a_flow_parameter(tmp_path: Path) -> None:
    from briefwatch.flows.config import parse_config
    from briefwatch.flows.ingest import ingest_flow

    config = parse_config({"deployment": [{**_DEPLOYMENT, "raw_retention_days": 30},
                                          {**_DEPLOYMENT, "name": "e"}]}, tmp_path / "x.toml")
    kept, plain = config.deployments
    assert kept.parameters()["raw_retention_days"] == 30.0
    assert "raw_retention_days" not in plain.parameters()  # absent: the flow keeps all
    assert set(kept.parameters()) <= set(inspect.signature(ingest_flow.fn).parameters)


@pytest.mark.parametrize(("value", "message"), [
    (-1, "raw_retention_days must be a number of days >= 0"),
    (float("nan"), "raw_retention_days must be a number of days >= 0"),
    ("30", "raw_retention_days has the wrong type"),
    (True, "raw_retention_days has the wrong type"),
])
def test_deployment_key_checked(value: Any, message: str, tmp_path: Path) -> None:
    from briefwatch.flows.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config({"deployment": [{**_DEPLOYMENT, "raw_retention_days": value}]},
                     tmp_path / "x.toml")


def test_flow_applies_retention_at_the_end_of_a_run(db: Path, pages: Path) -> None:
    from briefwatch.flows.ingest import ingest as run_flow

    write_round(pages, ROUNDS + 1)
    report = run_flow([str(pages)], db_path=str(db), publish_artifacts=False,
                      raw_retention_days=0)
    assert report["run"]["counts"]["changed"] == len(NAMES)
    states, current = blob_states(db), current_ids(db)
    assert len(states) == len(NAMES) * (ROUNDS + 1)
    assert {v for v, c in states.items() if c != "dropped"} == current
    assert_sound(db)


# --------------------------------------------------------------------- backup


def test_backup_is_a_consistent_store(db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup" / "copy.db"
    dest.parent.mkdir()
    result = cli_json("backup", str(dest), "--db", str(db))
    assert result["integrity"] == "ok"
    assert result["bytes"] == dest.stat().st_size == result["pages"] * result["page_size"]
    assert not Path(f"{dest}-wal").exists()  # one self-contained file
    assert rows(dest, "PRAGMA journal_mode") == [("delete",)]
    assert_sound(dest)
    assert views(dest) == views(db)


def test_backup_refuses_to_overwrite_unless_forced(db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"precious")
    code, _, err = cli("backup", str(dest), "--db", str(db))
    assert code == EXIT_USAGE and "exists (--force to overwrite it)" in err
    assert dest.read_bytes() == b"precious"
    stale = Path(f"{dest}-wal")
    stale.write_bytes(b"a log of another database")
    assert cli("backup", str(dest), "--db", str(db), "--force")[0] == EXIT_OK
    assert not stale.exists()
    assert_sound(dest)
    code, _, err = cli("backup", str(db), "--db", str(db), "--force")
    assert code == EXIT_USAGE and "is the store itself" in err
    assert cli("backup", str(tmp_path / "x.db"), "--db", str(tmp_path / "none.db"))[0] == 2
    code, _, err = cli("backup", str(tmp_path), "--db", str(db), "--force")  # a directory
    assert code == EXIT_USAGE and "cannot write" in err
    code, _, err = cli("backup", str(tmp_path / "no" / "dir.db"), "--db", str(db))
    # the destination's missing folder is to blame, not the store
    assert code == EXIT_USAGE and f"the folder {tmp_path / 'no'} does not exist" in err
    assert str(db) not in err
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database\n" * 100)
    code, _, err = cli("backup", str(tmp_path / "y.db"), "--db", str(not_sqlite))
    assert code == EXIT_USAGE and "not a database" in err
    assert not list(tmp_path.glob(".*partial*"))  # nothing half-written left behind


def _lock_holder(db: Path) -> str:
    path = Path(f"{db}.lock")
    return path.read_text() if path.exists() else ""


# The ingest flow's own steps (read and parse, store a chunk per transaction, finish the
# run) under the writer lock, without Prefect: a Prefect server starting in the subprocess
# would cost more time than the whole test.
_WRITER = """
import sys
from briefwatch.pipeline.steps import IngestOptions, read_and_parse, store_results
from briefwatch.pipeline.sources import discover
from briefwatch.store import Store

pages, db = sys.argv[1], sys.argv[2]
store = Store(db)
with store.writer_lock():
    run = store.start_run([pages])
    items = discover([pages])
    for start in range(0, len(items), 4):
        results = read_and_parse(items[start:start + 4], {}, IngestOptions())
        with store.batch():
            store_results(store, run, results)
    summary = store.finish_run(run)
print(summary.counts["new"], flush=True)
"""


def test_backup_while_another_process_ingests(tmp_path: Path) -> None:
    """Backups taken while a subprocess holds the writer lock and commits chunk after chunk
    of an ingest are each a sound store holding whole versions only."""
    pages, db = tmp_path / "pages", tmp_path / "live.db"
    pages.mkdir()
    for i in range(120):
        name = NAMES[2 + i % 2]  # the GOV.UK pages: no canonical URL, so one page per file
        (pages / f"p{i:03}.html").write_bytes(revision(name, i, marker="Copy"))
    Store(db).close()  # created and migrated before the writer starts
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(pages), str(db)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    during: list[tuple[Path, int]] = []
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if '"run": 1' not in _lock_holder(db):
                time.sleep(0.005)
                continue
            dest = tmp_path / f"backup-{len(during)}.db"
            assert cli("backup", str(dest), "--db", str(db))[0] == EXIT_OK
            if '"run": 1' in _lock_holder(db):  # the run still held the store afterwards
                during.append((dest, rows(dest, "SELECT count(*) FROM versions")[0][0]))
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.split() == ["120"]
    assert len(during) >= 3
    counts = [n for _, n in during]
    assert counts == sorted(counts) and counts[-1] > counts[0]  # taken as the run wrote
    statuses = []
    for dest, _ in during:
        assert_sound(dest)
        statuses += [status for (status,) in rows(dest, "SELECT status FROM runs")]
    assert statuses.count("running") >= 3
    assert_sound(db)

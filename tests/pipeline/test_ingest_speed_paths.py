"""The ingest's speed paths give exactly what the plain paths give.

Each optimisation of the hot path (docs/performance.md) is checked against the plain way of
doing the same thing: the parse worker processes against parsing in the flow's process,
pickled documents against the originals, statements restored from the store against
constructed ones, the store's multi-row inserts against sqlite-utils', and the parser
shortcuts against the code they replaced.
"""

from __future__ import annotations

import pickle
import re
import shutil
import sqlite3
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefwatch.cli.app import EXAMPLES
from briefwatch.model import Statement, StatementKind
from briefwatch.parsers.boilerplate import CAPTION_TAIL, _may_be_caption
from briefwatch.parsers.sentences import _word_before
from briefwatch.parsers.statements import QuoteSpan, _blank_quotes, find_quotes
from briefwatch.pipeline.sources import discover
from briefwatch.pipeline.steps import IngestOptions, ParsePool, read_and_parse
from briefwatch.store import Store
from briefwatch.store import db as store_db
from briefwatch.store.blobs import compress
from tests.support.paths import FIXTURES

# ------------------------------------------------------------ flow, parse pool


def _pages(tmp_path: Path, version: str) -> Path:
    pages = tmp_path / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    for src in (EXAMPLES / version).iterdir():
        shutil.copyfile(src, pages / src.name)
    for src in sorted((FIXTURES / "html").glob("*.html")):
        shutil.copyfile(src, pages / src.name)
    return pages


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    run = {k: v for k, v in report["run"].items()
           if k not in ("started_at", "finished_at", "flow_run_id", "sources")}
    return {"run": run, "pages": report["pages"]}


def test_flow_parsing_on_worker_processes_reports_what_in_process_parsing_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefwatch.flows import ingest as flow_module
    from briefwatch.pipeline import ingest as run_module

    reports: dict[bool, list[dict[str, Any]]] = {}
    for pool in (True, False):  # the same page files (same keys), a store each
        monkeypatch.setattr(run_module, "uses_process_pool", lambda pages, options, p=pool: p)
        shutil.rmtree(tmp_path / "pages", ignore_errors=True)
        pages = _pages(tmp_path, "v1")
        db = str(tmp_path / f"pool-{pool}.db")
        first = flow_module.ingest([str(pages)], db_path=db, chunk_size=2,
                                   publish_artifacts=False)
        _pages(tmp_path, "v2")
        second = flow_module.ingest([str(pages)], db_path=db, chunk_size=2,
                                    publish_artifacts=False)
        reports[pool] = [_comparable(first), _comparable(second)]
    assert reports[True] == reports[False]
    assert reports[True][1]["run"]["counts"]["changed"] == 3


def test_parse_pool_falls_back_to_this_process_when_its_workers_die(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = discover([str(EXAMPLES / "v1")])
    options = IngestOptions()
    with ParsePool(1) as pool:
        executor = pool._executor
        assert executor is not None

        def broken(*args: object, **kwargs: object) -> None:
            raise BrokenProcessPool("a worker died")

        monkeypatch.setattr(executor, "submit", broken)
        results = pool.read_and_parse(items, {}, options)
        assert pool._executor is None  # later chunks go straight to this process
    expected = read_and_parse(items, {}, options)
    assert [r.document for r in results] == [r.document for r in expected]


def test_parse_results_survive_pickling_with_derived_fields() -> None:
    results = read_and_parse(discover([str(EXAMPLES / "v1")]), {}, IngestOptions())
    back = pickle.loads(pickle.dumps(results))
    assert back == results
    for result, copy in zip(results, back, strict=True):
        assert result.document is not None and copy.document is not None
        assert [(s.key, s.sid) for s in copy.document.statements] == [
            (s.key, s.sid) for s in result.document.statements
        ]
        assert copy.compressed_raw == ("zlib", compress(result.raw or b"", "zlib"))


# ---------------------------------------------------------------------- store


def test_stored_versions_load_the_statements_the_constructor_builds(tmp_path: Path) -> None:
    with Store(tmp_path / "store.db") as store:
        run = store.start_run(["x"])
        from briefwatch.pipeline.steps import store_results

        results = read_and_parse(discover([str(EXAMPLES / "v1")]), {}, IngestOptions())
        with store.batch():
            store_results(store, run, results)
        for result in results:
            assert result.document is not None
            loaded = store.latest_document(result.document.key)
            assert loaded is not None
            rebuilt = [Statement(s.text, s.speaker, s.kind, s.paragraph, s.position, s.section)
                       for s in loaded.document.statements]
            assert list(loaded.document.statements) == rebuilt == list(
                result.document.statements)
            assert [(s.key, s.sid) for s in loaded.document.statements] == [
                (s.key, s.sid) for s in rebuilt
            ]


def _table(db: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    return db.execute(f"SELECT rowid, * FROM [{table}] ORDER BY rowid").fetchall()


@pytest.mark.parametrize("rows", [0, 1, 166, 167, 1200])
def test_multi_row_inserts_store_what_sqlite_utils_stores(tmp_path: Path, rows: int) -> None:
    written = []
    for variant in ("ours", "sqlite-utils"):
        with Store(tmp_path / f"{variant}.db") as store:
            stmts = [Statement(f"Sentence {i} said “{i % 7}”.", "MR. X" if i % 3 else None,
                               StatementKind.ANSWER, i // 4, i) for i in range(rows)]
            data = [{"id": s.sid, "text": s.text, "key": None if s.key == s.text else s.key,
                     "speaker": s.speaker, "kind": s.kind.value} for s in stmts]
            with store.batch():
                if variant == "ours":
                    store_db._insert_rows(store.db, "statements", data)
                    store_db._insert_rows(store.db, "statements", data[:10], ignore=True)
                else:
                    store.db.table("statements").insert_all(data, batch_size=500)
                    store.db.table("statements").insert_all(data[:10], ignore=True)
        with sqlite3.connect(tmp_path / f"{variant}.db") as db:
            written.append((_table(db, "statements"),
                            db.execute("SELECT rowid, text FROM statements_fts").fetchall()))
    assert written[0] == written[1]
    assert len(written[0][0]) == rows


# -------------------------------------------------------------------- parsers

_OLD_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.'’-]*)$")


@settings(max_examples=400)
@given(st.text(alphabet="aZq.'’-\n 7(é", max_size=12), st.data())
def test_word_before_is_the_old_regex(text: str, data: st.DataObject) -> None:
    end = data.draw(st.integers(min_value=0, max_value=len(text)))
    match = _OLD_WORD_BEFORE.search(text[:end])
    assert _word_before(text, end) == (match.group(1) if match else "")


_CAPTION_WORDS = ["photo", "PHOTO", "Video", "by", "BY", "vİdeo", "ıllustratıon",
                  "ılluſtration", "graphic", "army", "U.S.", "John", "Smith", " ", "\t", "é"]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_CAPTION_WORDS), min_size=1, max_size=8))
def test_caption_prefilter_never_hides_a_caption(words: list[str]) -> None:
    text = " ".join(words)
    if CAPTION_TAIL.search(text):
        assert _may_be_caption(text)


def _old_find_quotes(text: str, open_at_start: bool = False) -> list[QuoteSpan]:
    spans: list[QuoteSpan] = []
    start: int | None = 0 if open_at_start else None
    continued = open_at_start
    for i, ch in enumerate(text):
        if ch == "“" or (ch == '"' and start is None):
            if start is not None and i > start:
                if continued and i <= 1:
                    continue
                spans.append(QuoteSpan(start, i, False, continued))
                continued = False
            start = i
        elif (ch == "”" or ch == '"') and start is not None:
            spans.append(QuoteSpan(start, i + 1, True, continued))
            start = None
            continued = False
    if start is not None:
        spans.append(QuoteSpan(start, len(text), False, continued))
    return spans


def _old_blank_quotes(text: str, quotes: list[QuoteSpan]) -> str:
    chars = list(text)
    for q in quotes:
        for i in range(q.start, q.end):
            chars[i] = " "
        if q.closed and q.end - 1 < len(chars):
            chars[q.end - 1] = "”"
    return "".join(chars)


@settings(max_examples=400)
@given(st.text(alphabet='ab “”"\'. ', max_size=20), st.booleans())
def test_quote_finding_is_the_old_character_loop(text: str, open_at_start: bool) -> None:
    quotes = find_quotes(text, open_at_start)
    assert quotes == _old_find_quotes(text, open_at_start)
    assert _blank_quotes(text, quotes) == _old_blank_quotes(text, quotes)

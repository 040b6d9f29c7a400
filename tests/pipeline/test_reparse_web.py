"""``briefwatch reparse`` of pages fetched from the web reads their bytes as the ingest did.

The ingest told the parser what the HTTP answer said about the bytes: the charset of the
Content-Type, and the final URL after redirects (relative canonical URLs resolve against
it). Each version keeps that (``versions.parse_context``), so re-parsing a page whose text
decodes right only with the header's charset finds nothing different. Pages are served by a
real local HTTP server and ingested through the CLI.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli import main
from tests.support.webserver import Reply, Site

CONFIG = """
[fetch]
retries = 0
per_host_delay = 0
contact = "briefwatch-tests@example.org"
"""

# text in a legacy charset, given only in the Content-Type (no <meta charset>), that
# today's decoder reads wrongly without it (checked in the test)
CHARSET_PAGES = [
    pytest.param("windows-1251", "Министр заявил, что переговоры продолжатся на следующей "
                 "неделе в Москве.", id="windows-1251"),
    pytest.param("windows-1250", "Ministr řekl, že jednání budou pokračovat příští týden "
                 "v Brně.", id="windows-1250"),
    pytest.param("iso-8859-15", "The levy of 20 € per visitor starts in Zürich, the café "
                 "owners said.", id="iso-8859-15"),
    pytest.param("shift_jis", "大臣は来週も協議を続けると述べた。", id="shift_jis"),
]
OTHER = "Officials met on Tuesday to review the plan."


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as server:
        yield server


def briefing(text: str, head: str = "") -> str:
    return (f"<!doctype html><html><head><title>Briefing</title>{head}</head><body><main>"
            f"<article><h1>Briefing</h1><p>{text}</p><p>{OTHER}</p></article></main>"
            f"</body></html>")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main([*args, "--format", "json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str) -> Path:
    db, config = tmp_path / "store.db", tmp_path / "sources.toml"
    config.write_text(CONFIG)
    report = run_cli(capsys, "ingest", url, "--db", str(db), "--config", str(config))
    assert report["run"]["counts"]["new"] == 1, report
    return db


def statements(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [text for (text,) in conn.execute(
            "SELECT coalesce(vs.text, s.text) FROM version_statements vs JOIN statements s "
            "ON s.id = vs.statement_id ORDER BY vs.position")]


def stored_context(db: Path) -> dict[str, str] | None:
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute("SELECT parse_context FROM versions").fetchone()
    return None if value is None else dict(json.loads(value))


def reparse_counts(capsys: pytest.CaptureFixture[str], db: Path) -> dict[str, int]:
    counts: dict[str, int] = run_cli(capsys, "reparse", "--db", str(db))["run"]["counts"]
    return counts


def forget_context(db: Path) -> None:
    """The store as an ingest before ``versions.parse_context`` left it."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE versions SET parse_context = NULL")


@pytest.mark.parametrize(("charset", "text"), CHARSET_PAGES)
def test_header_charset_is_kept_and_reparse_reads_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], site: Site, charset: str, text: str,
) -> None:
    body = briefing(text).encode(charset)
    url = site.route("/briefing", Reply(200, body, {
        "Content-Type": f"text/html; charset={charset}"}))
    db = ingest(tmp_path, capsys, url)
    assert statements(db) == [text, OTHER]
    assert stored_context(db) == {"location": url, "format": "html",
                                  "declared_encoding": charset}

    counts = reparse_counts(capsys, db)
    assert (counts["versions"], counts["versions_identical"], counts["versions_reparsed"],
            counts["reparsed"]) == (1, 1, 0, 0)
    assert statements(db) == [text, OTHER]

    # the case is a real one: a version stored without the context (before the store
    # kept it) is re-parsed as before — the bytes alone, read differently
    forget_context(db)
    counts = reparse_counts(capsys, db)
    assert (counts["versions_reparsed"], counts["reparsed"]) == (1, 1)
    assert text not in statements(db)


def test_final_url_is_kept_for_relative_canonical_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], site: Site,
) -> None:
    """A page reached by a redirect was parsed at its final URL: its relative canonical URL
    resolves against that one, on a re-parse too."""
    final = site.route("/news/briefing", Reply(200, briefing(
        "The ministry said the talks would go on.", '<link rel="canonical" href="briefing">'
    ).encode(), {"Content-Type": "text/html; charset=utf-8"}))
    old = site.route("/old", Reply(301, b"", {"Location": "/news/briefing"}))
    db = ingest(tmp_path, capsys, old)
    assert stored_context(db) == {"location": final, "format": "html",
                                  "declared_encoding": "utf-8"}

    assert reparse_counts(capsys, db)["versions_reparsed"] == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT canonical_url FROM versions").fetchone() == (final,)

    forget_context(db)  # as before: parsed at the URL asked for, /briefing at the root
    assert reparse_counts(capsys, db)["versions_reparsed"] == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT canonical_url FROM versions").fetchone() == (
            site.url("/briefing"),)

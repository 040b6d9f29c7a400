"""The HTML report in a real browser (Debian's ``chromium``, headless): the highlighted
changes are in the rendered DOM, the hostile fixture's scripts never run, and screenshots
are kept as test artifacts (copied to $BRIEFWATCH_ARTIFACTS when it is set: a directory, or
``1`` for ``out/``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from briefwatch.report.html import render_history_html, render_said_html
from briefwatch.report.registry import render
from briefwatch.store import Store
from tests.support.browser import chromium_path, dump_dom, png_size, screenshot
from tests.support.htmlcheck import parse
from tests.support.paths import REPO

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
)

PAYLOAD_MARKER = "pwned-marker"  # the fixture's script would add this element
ATTACK = ("<script>document.title='PWNED';"
          "document.body.appendChild(document.createElement('pwned-marker'))</script>"
          "<img src=x onerror=\"document.title='PWNED'\">")


def _keep(path: Path) -> None:
    """Copy an artifact to $BRIEFWATCH_ARTIFACTS when it is set: a directory, or ``1`` for
    ``out/`` in the project."""
    target = os.environ.get("BRIEFWATCH_ARTIFACTS", "").strip()
    if not target:
        return
    directory = REPO / "out" if target == "1" else Path(target)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, directory / path.name)


def _assert_script_free(dom: str) -> None:
    doc = parse(dom)
    assert (doc.findtext(".//title") or "").startswith("briefwatch"), doc.findtext(".//title")
    assert not doc.xpath(f"//{PAYLOAD_MARKER}"), "the page's script ran"
    assert not doc.xpath("//script|//img|//iframe|//svg")


def test_harness_detects_a_script_that_runs(tmp_path: Path) -> None:
    """Control: the same payload, unescaped and without a CSP, does run — so the checks
    below would see it if a renderer let it through."""
    page = tmp_path / "unsafe.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>briefwatch</title></head>"
                    f"<body><p>x</p>{ATTACK}</body></html>", encoding="utf-8")
    doc = parse(dump_dom(page))
    assert doc.findtext(".//title") == "PWNED"
    assert doc.xpath(f"//{PAYLOAD_MARKER}")


def _hostile_pages(hostile_db: Path, tmp_path: Path) -> dict[str, Path]:
    with Store(hostile_db, create=False) as store:
        report = store.run_report("latest")
        page = next(p for p in report["pages"] if p["key"].startswith("javascript:"))
        timeline = store.page_timeline(page["key"])
        view = store.speaker_view("smith")
    pages = {"report": render(report, "html"), "history": render_history_html(timeline),
             "said": render_said_html(view)}
    out = {}
    for name, html in pages.items():
        out[name] = tmp_path / f"hostile-{name}.html"
        out[name].write_text(html, encoding="utf-8")
        # the same page without its Content-Security-Policy: escaping alone must hold
        bare = "\n".join(line for line in html.splitlines()
                         if "Content-Security-Policy" not in line)
        assert bare != html
        out[f"{name}-no-csp"] = tmp_path / f"hostile-{name}-no-csp.html"
        out[f"{name}-no-csp"].write_text(bare, encoding="utf-8")
    return out


def test_hostile_fixture_runs_no_script(hostile_db: Path, tmp_path: Path) -> None:
    for name, page in _hostile_pages(hostile_db, tmp_path).items():
        dom = dump_dom(page)
        _assert_script_free(dom)
        text = parse(dom).text_content()
        assert "document.title='PWNED'" in text, name  # shown, as text
    report = parse(dump_dom(tmp_path / "hostile-report.html"))
    assert {"12", "14"} <= {e.text_content() for e in report.xpath("//del|//ins")}
    shot = screenshot(tmp_path / "hostile-report.html", tmp_path / "hostile-report.png")
    assert png_size(shot) == (1200, 1500)
    _keep(shot)


def test_demo_report_in_the_browser(demo_db: Path, tmp_path: Path) -> None:
    with Store(demo_db, create=False) as store:
        report = store.run_report("latest")
    page = tmp_path / "report" / "index.html"
    page.parent.mkdir()
    page.write_text(render(report, "html"), encoding="utf-8")
    dom = dump_dom(page)
    _assert_script_free(dom)
    doc = parse(dom)
    deleted = [e.text_content() for e in doc.xpath("//li[contains(@class,'changed')]//del")]
    inserted = [e.text_content() for e in doc.xpath("//li[contains(@class,'changed')]//ins")]
    assert {"163", "20", "37", "42,"} <= set(deleted)
    assert {"170", "25", "40", "45,"} <= set(inserted)
    numbers = {e.text_content() for e in doc.xpath("//span[@class='num']")}
    assert {"163 → 170", "20 → 25"} <= numbers
    was = {e.text_content() for e in doc.xpath("//span[contains(@class,'speaker was')]")}
    now = {e.text_content() for e in doc.xpath("//span[contains(@class,'speaker now')]")}
    assert "THE PRESIDENT" in was and "MS. JEAN-PIERRE" in now
    # the first page shown is the most significant one, with its changes highlighted
    first = doc.xpath("//article")[0]
    assert "HIGH" in first.text_content().upper()
    shot = screenshot(page, tmp_path / "report-screenshot.png", height=1700)
    assert png_size(shot) == (1200, 1700) and shot.stat().st_size > 50_000
    _keep(shot)

"""Checks that rendered HTML is inert: page content came through as text, never as markup."""

from __future__ import annotations

import lxml.html

ACTIVE_TAGS = ("script", "img", "iframe", "svg", "object", "embed", "form", "input", "textarea",
               "base", "link", "meta[@http-equiv='refresh']", "audio", "video", "frame")
SAFE_HREF = ("http://", "https://", "file://", "#")


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def assert_inert(html: str, *, payloads: tuple[str, ...] = ()) -> lxml.html.HtmlElement:
    """No element a page's content could have smuggled in: no script or other active
    element, no event handler attribute, no link other than http(s)/file/#anchor, exactly one
    <style> and one <title>; each of ``payloads`` is present as visible text."""
    doc = parse(html)
    for tag in ACTIVE_TAGS:
        found = doc.xpath(f"//{tag}")
        assert not found, f"<{tag}> element in the output: {lxml.html.tostring(found[0])[:200]!r}"
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"event handler {name}={value!r}"
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href"):
                assert value.lower().startswith(SAFE_HREF), f"{name}={value!r}"
    assert len(doc.xpath("//style")) == 1 and len(doc.xpath("//title")) == 1
    assert (doc.findtext(".//title") or "").startswith("briefwatch")  # ours, not set by a page
    assert "PWNED" not in (doc.xpath("//style")[0].text or "")
    text = doc.text_content()
    for payload in payloads:
        assert payload in text, f"payload not shown as text: {payload!r}"
    return doc

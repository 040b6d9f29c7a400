"""Tree-level boilerplate removal: everything that is page chrome, not content.

Three strengths of removal:

- *junk* — never text content: scripts, styles, ``noscript``, templates, SVG/MathML,
  iframes and media embeds, form controls, ``figcaption``. Always removed.
- *known chrome* — exact class/id names of the USWDS ``.gov`` banner and identifier, skip
  links, and the GOV.UK header, footer, breadcrumbs, cookie banner and share links. Always
  removed; so are in-page links whose text starts "Skip to"/"Jump to".
- *soft chrome* (``CleanOptions.soft``):
  - landmarks: ``nav``, ``header``, ``footer``, ``aside``, ``menu`` and the matching ARIA
    roles (``navigation``, ``banner``, ``contentinfo``, ``complementary``, ``search``,
    ``dialog``, ...); elements hidden for every reader (``hidden`` attribute, inline
    ``display:none`` / ``visibility:hidden``). Always removed.
  - *weak* signs, which may sit on a misused wrapper: ``<form>`` (ASP.NET pages wrap the
    whole page in one), ``aria-hidden="true"``, screen-reader-only classes, and class/id
    names that say chrome (share/print tools, related links, newsletter sign-up, cookie
    consent, comments, ads, breadcrumbs, sidebars, menus, captions and credits; a content
    word such as ``article-body`` overrides the weaker ones). Such an element is kept when
    it holds at least ``protect_ratio`` of the page's ``<p>`` elements.

Removal keeps an element's tail text, so removing an inline element inside a paragraph
does not swallow the words after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from briefwatch.parsers.html.css import css_to_xpath
from briefwatch.parsers.html.tree import drop, text_of

__all__ = ["CleanOptions", "clean_tree", "remove_selectors"]

_JUNK_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "frame", "frameset",
    "object", "embed", "video", "audio", "canvas", "map", "button", "input", "select",
    "textarea", "option", "datalist", "dialog", "figcaption", "link", "meta", "title",
    "base", "source", "track", "picture", "head",
)

# Known chrome, by exact class or id (USWDS, GOV.UK design system, common skip links).
CHROME_CLASSES = frozenset(
    {
        "usa-banner", "usa-skipnav", "usa-identifier", "usa-overlay", "skip-link", "skip-links",
        "skiplink", "skip-to-content", "govuk-skip-link", "govuk-header", "govuk-footer",
        "govuk-breadcrumbs", "gem-c-breadcrumbs", "gem-c-cookie-banner", "govuk-phase-banner",
        "gem-c-layout-super-navigation-header", "gem-c-contextual-sidebar",
        "gem-c-contextual-footer", "gem-c-share-links", "gem-c-print-link",
        "gem-c-single-page-notification-button", "gem-c-related-navigation",
    }
)
CHROME_IDS = frozenset({"skip-link", "skiplinks", "global-cookie-message", "skip-to-content"})

_LANDMARK_TAGS = ("nav", "header", "footer", "aside", "form", "menu")
_LANDMARK_ROLES = (
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog",
    "alertdialog", "menu", "menubar", "toolbar", "alert",
)
_ATTRIBUTED = etree.XPath(
    "descendant::*[@class or @id or @role or @hidden or @aria-hidden or @style]"
)
_P_COUNT = etree.XPath("count(descendant::p)")

# Class/id words that mark chrome. Words are delimited by anything but letters and digits.
_CHROME_WORDS = (
    "share|sharing|sharebar|social|socials|print|printer|breadcrumb|breadcrumbs|cookie|cookies"
    "|consent|gdpr|newsletter|newsletters|signup|sign-up|subscribe|subscription|related"
    "|recommended|recommendations|recirc|promo|promos|advert|advertisement|adverts|ad|ads"
    "|adslot|adunit|sponsor|sponsored|comment|comments|disqus|popup|modal|outbrain|taboola"
    "|trending|popular|mostpopular|most-popular|skip|skiplink|skipnav|toolbar|tags|taglist"
    "|tag-list|nav|navbar|navigation|menu|megamenu|header|masthead|footer|sidebar|widget"
    "|widgets|banner|rail|pagination|pager|caption|credit|credits|byline|dateline|timestamp"
    "|author-bio|bio|login|signin|search|more-stories|read-more|readmore|jump|toc"
    "|breaking|alert|utility|topbar|subnav|subscribe-box|follow|supplemental|teaser"
    "|teasers|carousel|slider|ticker|overlay"
)
_CHROME_RE = re.compile(rf"(?<![a-z0-9])(?:{_CHROME_WORDS})(?![a-z0-9])")
# Words that make a class/id name content even if it also has a chrome word
# ("article-header" is the article's header block, dropped; "content-with-sidebar" is not).
_CONTENT_RE = re.compile(
    r"(?<![a-z0-9])(?:article|articlebody|article-body|story|story-body|post|entry"
    r"|entry-content|post-content|main|content|body|text|prose|govspeak|editor)(?![a-z0-9])"
)
# Words that are chrome even next to a content word ("article-share", "post-comments").
_STRONG_RE = re.compile(
    r"(?<![a-z0-9])(?:share|sharing|sharebar|social|cookie|cookies|consent|gdpr|newsletter"
    r"|newsletters|signup|subscribe|related|recommended|recommendations|recirc|promo|advert"
    r"|advertisement|ad|ads|adslot|adunit|sponsor|sponsored|comment|comments|disqus|popup"
    r"|modal|outbrain|taboola|breadcrumb|breadcrumbs|skip|skiplink|skipnav|byline|author-bio"
    r"|caption|credit|credits|toolbar|tags|taglist|tag-list|print|most-popular|mostpopular"
    r"|read-more|readmore|more-stories|trending|teaser|teasers|carousel|ticker|overlay)"
    r"(?![a-z0-9])"
)
_HIDDEN_CLASSES = frozenset(
    {
        "hidden", "hide", "d-none", "sr-only", "visually-hidden", "visuallyhidden",
        "screen-reader-text", "screen-reader-only", "govuk-visually-hidden", "usa-sr-only",
        "element-invisible", "is-hidden", "offscreen", "u-hidden", "invisible", "js-hidden",
        "hidden-xs-up", "a11y-hidden", "accessibility-hidden",
    }
)
_RESPONSIVE_SHOW = re.compile(r"^(?:d-\w+-(?:block|flex|inline|grid|table)|\w+:(?!hidden)\w+)")
_NEVER_CLASS_DROP = frozenset({"html", "body", "main", "article"})
# Text elements go only for the strong chrome words ("byline", "caption", "share", ...):
# a <p class="intro-header"> or <li class="menu-item"> inside content is kept.
_TEXT_TAGS = frozenset({"p", "li", "td", "th", "tr", "blockquote", "pre"})
_SKIP_TEXT = re.compile(r"^\s*(?:skip|jump) to\b", re.I)


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """Which removals :func:`clean_tree` performs."""

    soft: bool = True  # landmarks, hidden elements, chrome class/id names
    class_hints: bool = True  # class/id names (part of soft)
    protect_ratio: float = 0.5  # keep a soft-dropped element holding this share of <p>s
    protect_min: int = 3


def _drop(el: Any) -> None:
    drop(el)


def remove_selectors(root: Any, selectors: tuple[str, ...]) -> None:
    """Remove every element below ``root`` that matches one of the CSS selectors."""
    for selector in selectors:
        for el in etree.XPath(css_to_xpath(selector, prefix="descendant::"))(root):
            _drop(el)


def _attached(el: Any, root: Any) -> bool:
    """Whether ``el`` is still below ``root`` (not removed together with an ancestor)."""
    parent = el.getparent()
    while parent is not None:
        if parent is root:
            return True
        parent = parent.getparent()
    return False


def _class_words(el: Any) -> str:
    cls = el.get("class") or ""
    ident = el.get("id") or ""
    return f"{cls} {ident}".lower() if ident else cls.lower()


def _is_really_hidden(el: Any) -> bool:
    """Hidden for every reader: ``hidden`` or inline ``display:none``/``visibility:hidden``."""
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if style:
        compact = style.replace(" ", "").lower()
        if "display:none" in compact or "visibility:hidden" in compact:
            return True
    return False


def _is_hidden(el: Any) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style:
        compact = style.replace(" ", "").lower()
        if "display:none" in compact or "visibility:hidden" in compact:
            return True
    cls = el.get("class")
    if cls:
        tokens = cls.split()
        if _HIDDEN_CLASSES.intersection(tokens) and not any(
            _RESPONSIVE_SHOW.match(t) for t in tokens
        ):
            return True
    return False


def _chrome_kind(el: Any, tag: str, options: CleanOptions) -> str | None:
    """Why ``el`` is soft chrome: "landmark", "hidden", "weak" (may be a misused wrapper:
    ``<form>``, ``aria-hidden``, class/id names) or ``None`` when it is not chrome."""
    if tag in _LANDMARK_TAGS:
        return "weak" if tag == "form" else "landmark"
    role = el.get("role")
    if role and role.lower() in _LANDMARK_ROLES:
        return "landmark"
    if _is_really_hidden(el):
        return "hidden"
    if _is_hidden(el):
        return "weak"
    if not options.class_hints or tag in _NEVER_CLASS_DROP:
        return None
    if el.get("itemprop") == "articleBody":
        return None
    words = _class_words(el)
    if not words or _CHROME_RE.search(words) is None:
        return None
    if _STRONG_RE.search(words) is not None:
        return "weak"
    if tag not in _TEXT_TAGS and _CONTENT_RE.search(words) is None:
        return "weak"
    return None


def _is_known_chrome(el: Any) -> bool:
    cls = el.get("class")
    if cls and not CHROME_CLASSES.isdisjoint(cls.split()):
        return True
    ident = el.get("id")
    return ident is not None and ident in CHROME_IDS


def clean_tree(root: Any, options: CleanOptions = CleanOptions()) -> None:
    """Remove junk, known chrome and (optionally) soft chrome below ``root``, in place."""
    for el in list(root.iter(*_JUNK_TAGS)):
        if el is not root:
            _drop(el)
    attributed = [el for el in _ATTRIBUTED(root) if isinstance(el.tag, str)]
    for el in attributed:
        if _is_known_chrome(el):
            _drop(el)
    for a in list(root.iter("a")):
        href = a.get("href")
        if href and href.startswith("#") and _SKIP_TEXT.match(text_of(a)):
            _drop(a)
    if not options.soft:
        return
    total_p = float(_P_COUNT(root))
    protect_at = max(float(options.protect_min), total_p * options.protect_ratio)
    landmarks = [el for el in root.iter(*_LANDMARK_TAGS) if el is not root]
    for el in (*landmarks, *attributed):
        if el.getparent() is None:
            continue  # removed itself
        kind = _chrome_kind(el, el.tag, options)
        if kind is None or not _attached(el, root):
            continue  # not chrome, or already removed with an ancestor
        if kind == "weak" and float(_P_COUNT(el)) >= protect_at:
            continue  # a wrapper around most of the page's paragraphs
        _drop(el)

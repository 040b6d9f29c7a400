"""Declarative site profiles: where the main content of a known site layout lives.

A profile is data, not code: host names and/or a DOM signature say when it applies, CSS
selectors say where the content is and what to drop from it, and regex rules map the URL
path or the page's own category label to a :class:`~briefwatch.model.PageKind`.

Pages no profile knows go to the generic main-content heuristic
(:mod:`briefwatch.parsers.html.heuristic`). A profile whose content selectors find nothing usable
also
falls back to the heuristic, so a site redesign degrades to the generic path instead of an
empty page.

Profiles here:

- ``whitehouse.gov-2017`` — the 2017-2021 WordPress theme (``div.page-content__content``;
  the ``whitehouse-2020-html`` corpus).
- ``whitehouse.gov`` — the 2021+ WordPress themes (``section.body-content`` in 2021-2024,
  block-theme ``entry-content`` since 2025). No HTML sample was available; kept small.
- ``gov.uk`` — GOV.UK publishing components (``gem-c-lead-paragraph`` + ``gem-c-govspeak``);
  works on the ``<main>`` fragments of the ``govuk-versions`` corpus, which carry no URL.
- ``defense.gov`` — defense.gov / war.gov (DNN) news articles, transcripts and releases.
  Guessed from the site's public markup conventions (``div.body``); no HTML sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from briefwatch.model import PageKind
from briefwatch.parsers.html.css import compile_css

__all__ = ["PROFILES", "KindRule", "SiteProfile", "host_matches", "match_profile"]


@dataclass(frozen=True, slots=True)
class KindRule:
    """``pattern`` (a case-insensitive regex, searched) -> ``kind``."""

    pattern: str
    kind: PageKind

    def applies(self, text: str) -> bool:
        return re.search(self.pattern, text, re.I) is not None


@dataclass(frozen=True)
class SiteProfile:
    """Where a known site keeps its main content, and how it labels page kinds."""

    name: str
    hosts: tuple[str, ...] = ()  # host names; subdomains match too ("www.gov.uk")
    signature: str | None = None  # CSS selector the page must contain
    require_host: bool = False  # True: the host must match (generic markup signature)
    content: tuple[str, ...] = ()  # CSS selector groups, tried in order; matches in doc order
    drop: tuple[str, ...] = ()  # CSS selectors removed from the content
    drop_text: tuple[str, ...] = ()  # regexes: paragraphs that are chrome on this site
    label: str | None = None  # CSS: element whose text is the page's category label
    label_kinds: tuple[KindRule, ...] = ()  # applied to the label text
    title_kinds: tuple[KindRule, ...] = ()  # applied to the page title
    url_kinds: tuple[KindRule, ...] = ()  # applied to the URL path
    default_kind: PageKind | None = None
    published: str | None = None  # CSS: element with a datetime attribute or a written date
    byline: str | None = None  # CSS: element whose text is the byline (first match)
    byline_search: bool = True  # False: the layout has no bylines; skip the generic search

    @cached_property
    def drop_text_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.I) for p in self.drop_text)

    def matches(self, doc: Any, host: str | None) -> bool:
        """Whether this profile applies to a parsed document from ``host``."""
        host_ok = host is not None and host_matches(host, self.hosts)
        if self.require_host and not host_ok:
            return False
        if self.signature is None:
            return host_ok
        return bool(compile_css(self.signature)(doc))

    def kind_for(
        self, *, label: str | None, title: str | None, path: str | None, default: bool = True
    ) -> PageKind | None:
        """The page kind this profile's rules give (label, then title, then URL path, then
        the profile's default unless ``default`` is False)."""
        for rules, value in (
            (self.label_kinds, label),
            (self.title_kinds, title),
            (self.url_kinds, path),
        ):
            if value:
                for rule in rules:
                    if rule.applies(value):
                        return rule.kind
        return self.default_kind if default else None


def host_matches(host: str, hosts: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in hosts)


T, R, A = PageKind.TRANSCRIPT, PageKind.RELEASE, PageKind.ARTICLE
OTHER = PageKind.OTHER

_WH_TITLE_KINDS = (
    KindRule(
        r"^(remarks|press briefing|press gaggle|background press call|on-the-record press call"
        r"|press conference|interview|roundtable|transcript|briefing)\b",
        T,
    ),
    KindRule(r"^(statement|readout|fact sheet|joint statement|message)\b", R),
)

WHITEHOUSE_2017 = SiteProfile(
    name="whitehouse.gov-2017",
    hosts=("whitehouse.gov",),
    signature="div.page-content__content",
    content=("div.page-content__content", "main"),
    drop=("aside", ".share"),  # the share tools and "All News" button (also generic chrome)
    label="p.page-header__section",
    label_kinds=(
        KindRule(r"^(remarks|press briefings?|speeches)$", T),
        KindRule(r"statements?|releases?|fact sheets?", R),
        KindRule(r"^articles?$", A),
        KindRule(r"^presidential actions$", OTHER),
    ),
    title_kinds=_WH_TITLE_KINDS,
    published="p.meta__date time, p.meta__date",
    byline_search=False,
)

WHITEHOUSE = SiteProfile(
    name="whitehouse.gov",
    hosts=("whitehouse.gov",),
    require_host=True,
    content=(
        "section.body-content, div.entry-content, .wp-block-post-content",
        "main article",
        "main",
    ),
    drop=(
        ".wp-block-buttons", ".wp-block-social-links", ".share", ".social", ".post-navigation",
        ".wp-block-post-navigation-link", ".wp-block-query", ".related", ".jp-relatedposts",
    ),
    title_kinds=_WH_TITLE_KINDS,
    url_kinds=(
        KindRule(r"/(press-briefings|speeches-remarks|remarks|interviews)/", T),
        KindRule(r"/(statements-releases|releases|fact-sheets|briefings-statements)/", R),
        KindRule(r"/(articles|blog|research)/", A),
        KindRule(r"/presidential-actions/", OTHER),
    ),
    published="time.posted-on, time.entry-date, .wp-block-post-date time",
)

GOVUK = SiteProfile(
    name="gov.uk",
    hosts=("gov.uk",),
    signature=".gem-c-govspeak, .govuk-govspeak, .gem-c-title__text",
    content=(".gem-c-lead-paragraph, .gem-c-govspeak, .govuk-govspeak", "main"),
    drop=(
        ".contact", ".gem-c-share-links", ".app-c-published-dates", ".gem-c-print-link",
        ".gem-c-contextual-footer", ".gem-c-contents-list", ".app-c-figure",
        ".gem-c-attachment .gem-c-attachment__metadata",
    ),
    label=".gem-c-title__context",
    label_kinds=(
        KindRule(r"press release|written statement|government response|notice", R),
        KindRule(r"speech|oral statement|statement to parliament", T),
        KindRule(r"news story|authored article|world news|case study|blog", A),
    ),
    url_kinds=(
        KindRule(r"/government/speeches/", T),
        KindRule(r"/government/news/", A),
    ),
    published=".app-c-published-dates",
    byline="dd.gem-c-metadata__definition, dd.app-c-publisher-metadata__definition",
)

DEFENSE = SiteProfile(
    name="defense.gov",
    hosts=("defense.gov", "war.gov"),
    require_host=True,
    content=("div.body, .article-body, [itemprop=articleBody]", "article", "main"),
    drop=(
        ".media-inline", ".media-container", ".image-wrapper", ".photo", ".video", ".credit",
        ".media-credit", ".virin", ".historical-notice", ".share", ".related", ".tags",
    ),
    drop_text=(
        r"^you have accessed part of a historical collection on defense\.gov\b",
        r"^(photo|video) by:",
        r"^virin:",
    ),
    url_kinds=(
        KindRule(r"/news/(transcripts|speeches)/", T),
        KindRule(r"/news/(releases|advisories|statements)/", R),
        KindRule(r"/news/(news-stories|feature-stories|stories)/", A),
    ),
    published="time[datetime], .date, .dates",
)

PROFILES: tuple[SiteProfile, ...] = (WHITEHOUSE_2017, WHITEHOUSE, GOVUK, DEFENSE)


def match_profile(doc: Any, host: str | None) -> SiteProfile | None:
    """The first profile that applies to ``doc`` (from ``host``, when known)."""
    for profile in PROFILES:
        if profile.matches(doc, host):
            return profile
    return None

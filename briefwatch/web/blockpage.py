"""Recognise bot-block, WAF and captcha pages (pure: status, headers and bytes in).

Sites behind a CDN often answer a scraper with a page that is not the content asked for: a
403 "Access Denied" from Akamai (defense.gov does this), a Cloudflare "Just a moment..."
challenge, an Incapsula or F5 rejection, a captcha. Stored as a version, such a page would
look like every statement of the briefing was removed. :func:`block_reason` says when a
response is one, so the page is reported ``blocked`` and nothing is stored.

Rules, first match wins:

- a response header a WAF sets when it challenges (``cf-mitigated: challenge``,
  ``x-amzn-waf-action``);
- any 403 answer (a public page that forbids reading it is blocking this client);
- a 200 (or 429/503) answer whose ``<title>`` is a known block title, or whose body carries
  a known WAF signature; only bodies up to :data:`MAX_BLOCK_PAGE` bytes are looked at, since
  block pages are small and a long article that merely mentions "captcha" must stay an
  article.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_BLOCK_PAGE = 256 * 1024

_TITLES = re.compile(
    rb"<title[^>]*>\s*("
    rb"access denied|attention required!? \| cloudflare|just a moment\.*|"
    rb"request rejected|pardon our interruption|robot check|are you a (?:robot|human)\??|"
    rb"security check|web page blocked!?|access to this page has been denied\.?|"
    rb"403 forbidden|forbidden|captcha|human verification|bot verification|"
    rb"please verify you are a human|ddos-guard|one more step"
    rb")\s*</title>",
    re.IGNORECASE,
)

# (signature in the body, who sends it)
_SIGNATURES: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"errors\.edgesuite\.net|Reference&#32;&#35;|You don't have permission "
                rb"to access .{0,200} on this server", re.I | re.S), "Akamai"),
    (re.compile(rb"/cdn-cgi/challenge-platform/|cf-browser-verification|cf_chl_opt|"
                rb"cf-error-details", re.I), "Cloudflare"),
    (re.compile(rb"_Incapsula_Resource|Incapsula incident ID", re.I), "Imperva Incapsula"),
    (re.compile(rb"The requested URL was rejected\. Please consult with your administrator",
                re.I), "F5 BIG-IP ASM"),
    (re.compile(rb"AwsWafIntegration|awswaf\.com", re.I), "AWS WAF"),
    (re.compile(rb"px-captcha|perimeterx", re.I), "PerimeterX"),
    (re.compile(rb"ddos-guard", re.I), "DDoS-Guard"),
)
# a captcha widget counts only on a small page: a real article may carry a form with one
_CAPTCHA = re.compile(rb"class=[\"']?(?:g-recaptcha|h-captcha)|hcaptcha\.com/1/api\.js|"
                      rb"google\.com/recaptcha/api\.js", re.I)
SMALL_PAGE = 32 * 1024


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _title_or_signature(body: bytes) -> str | None:
    head = body[:MAX_BLOCK_PAGE]
    for pattern, sender in _SIGNATURES:
        if pattern.search(head):
            return f"{sender} block page"
    match = _TITLES.search(head)
    if match:
        title = match.group(1).decode("ascii", "replace")
        return f"block page titled {title!r}"
    if len(body) <= SMALL_PAGE and _CAPTCHA.search(body):
        return "captcha page"
    return None


def block_reason(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """Why this response is a bot-block / WAF / captcha page, or None if it is not one.

    ``body`` may be a prefix of the body (the first :data:`MAX_BLOCK_PAGE` bytes suffice).
    """
    if (_header(headers, "cf-mitigated") or "").lower() == "challenge":
        return f"HTTP {status}, Cloudflare challenge (cf-mitigated)"
    waf_action = _header(headers, "x-amzn-waf-action")
    if waf_action:
        return f"HTTP {status}, AWS WAF {waf_action.lower()}"
    if status == 403:
        what = _title_or_signature(body)
        return f"HTTP 403 Forbidden, {what}" if what else "HTTP 403 Forbidden"
    if status in (200, 429, 503) and len(body) <= MAX_BLOCK_PAGE:
        what = _title_or_signature(body)
        if what:
            return f"HTTP {status}, {what}"
    return None

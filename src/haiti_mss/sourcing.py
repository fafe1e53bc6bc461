"""How a source is described, and the rules that keep the description honest: who published
the page (its host) and who originated the text are separate; a page is only an ``original``
on its originator's own site; a link a reader should not follow says so.

The rules live here, in code, not in the data schema: validation applies them to every row of
``sources.csv`` and reports use them to label links."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlparse

# Where each kind of originator publishes its own texts. A wire story, a UN text or a
# government statement on any other host is a repost, a rewrite or a summary, not an original.
OWN_HOSTS = {
    "wire_service": (r"(^|\.)reuters\.com$", r"(^|\.)apnews\.com$", r"(^|\.)afp\.com$",
                     r"(^|\.)efe\.com$", r"(^|\.)xinhuanet\.com$", r"(^|\.)news\.cn$",
                     r"(^|\.)prensa-latina\.cu$", r"(^|\.)plenglish\.com$",
                     r"(^|\.)aa\.com\.tr$", r"(^|\.)cmc\.com$"),
    "un": (r"(^|\.)un\.org$", r"(^|\.)unric\.org$", r"(^|\.)ungeneva\.org$",
           r"(^|\.)iom\.int$", r"(^|\.)ohchr\.org$", r"(^|\.)unicef\.org$",
           r"(^|\.)securitycouncilreport\.org$", r"(^|\.)binuh\.unmissions\.org$"),
    "government": (r"\.gov$", r"\.gov\.[a-z]{2}$", r"\.go\.[a-z]{2}$", r"\.gob\.[a-z]{2}$",
                   r"\.gouv\.[a-z]{2}$", r"\.gc\.ca$", r"(^|\.)canada\.ca$", r"\.mil$",
                   r"(^|\.)archives\.gov$", r"(^|\.)europa\.eu$", r"\.gov\.jm$",
                   r"(^|\.)diplomatie\.gouv\.fr$"),
    "mission": (r"(^|\.)mssmhaiti\.com$",),
}
# Hosts a reader should not be sent to: test, staging and preview copies of a site.
UNFIT_HOST = re.compile(r"^(test|staging|stage|preview|pre|demo|dev|beta|cms|admin)\d*\.", re.I)
UNFIT_PATH = re.compile(r"/preview/|[?&]preview=true", re.I)
UNFIT_PAGE_KINDS = ("forum", "summary", "mirror")
# How directly a page carries its originator's text, for the conflict rule.
DIRECTNESS = {"original": 3, "verbatim_repost": 2}
RANKED_KINDS = ("un", "government", "mission", "wire_service")


def host(url: str) -> str:
    """The host name of a URL, lower case, without a leading www."""
    name = (urlparse(url).hostname or "").lower()
    return name[4:] if name.startswith("www.") else name


def is_bare_ip(url: str) -> bool:
    try:
        ipaddress.ip_address(urlparse(url).hostname or "")
    except ValueError:
        return False
    return True


def why_unfit(url: str, page_kind: str) -> str | None:
    """Why a reader should not be sent to this page, or None when the page itself is fine."""
    if is_bare_ip(url):
        return "a bare IP address"
    if UNFIT_HOST.match(host(url)):
        return "a test, staging or preview host"
    if UNFIT_PATH.search(urlparse(url).path + "?" + (urlparse(url).query or "")):
        return "a preview page"
    if page_kind in UNFIT_PAGE_KINDS:
        return {"forum": "a forum thread", "summary": "an automated summary",
                "mirror": "a copy on another host"}[page_kind]
    return None


def on_own_host(url: str, originator_kind: str) -> bool:
    """True when the page's host is one where that kind of originator publishes itself."""
    patterns = OWN_HOSTS.get(originator_kind)
    if patterns is None:
        return True  # a newspaper or a research body may publish anywhere
    name = host(url)
    return any(re.search(p, name) for p in patterns)


def problems(row: dict) -> list[tuple[str, str, str]]:
    """What is inconsistent in one source's description: (column, value, expected)."""
    out = []
    url, kind, page = row.get("url") or "", row.get("originator_kind") or "", row.get(
        "page_kind") or ""
    if page == "original" and not on_own_host(url, kind):
        out.append(("page_kind", page,
                    f"not original: a {kind.replace('_', ' ')} text on {host(url)} (not its own "
                    f"site) is a verbatim_repost, rewrite or summary"))
    reason = why_unfit(url, page)
    fit = row.get("link_fit") or ""
    if reason and not fit.startswith("no"):
        out.append(("link_fit", fit, f"'no: ...' for {reason}"))
    if row.get("date_published") and not row.get("date_basis"):
        out.append(("date_basis", "", "how the date was found (page, url or event)"))
    if not row.get("date_published") and row.get("date_basis"):
        out.append(("date_basis", row["date_basis"], "empty when the page is undated"))
    return out


# What a reader is told about a page not to rely on, by the kind of page (the curator's
# detailed reason stays in sources.csv, column link_fit).
UNFIT_LABELS = {
    "mirror": "a copy on another host, not the original page",
    "summary": "a machine-written summary, not the original",
    "aggregator": "an automated feed, not the original",
    "forum": "a forum or social-media post",
}


def link_label(row) -> str:
    """How a report labels a link: empty for a fine page, else what the page is, in words a
    reader can act on."""
    fit = str(getattr(row, "link_fit", "yes") or "yes")
    if not fit.startswith("no"):
        return ""
    kind = str(getattr(row, "page_kind", "") or "")
    return UNFIT_LABELS.get(kind, "a test, preview or back-end copy of the page, not the "
                                  "public one" if any(w in fit.lower() for w in (
                                      "staging", "cms", "preview", "test", "pre-production",
                                      "pre.")) else "a copy not to rely on")


def clean_title(title) -> str:
    """A title without the curator's bracketed markers ("[title from URL slug]")."""
    import re

    text = re.sub(r"\s*\[(?:title[^\]]*|descriptive title[^\]]*)\]", "", str(title or ""))
    return text.strip() or "(untitled page)"

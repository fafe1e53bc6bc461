"""What makes a shared HTML report safe to pass on: nothing loads from the network, and no
local path or traceback leaks into it. One place for the rule; the renderer refuses to write a
report that breaks it and the tests check every file under ``reports/``."""

from __future__ import annotations

import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

# Attributes through which a browser fetches something by itself (hyperlinks in <a> do not).
_FETCHING = {
    "script": ("src",), "img": ("src", "srcset"), "source": ("src", "srcset"),
    "iframe": ("src",), "embed": ("src",), "object": ("data",), "video": ("src", "poster"),
    "audio": ("src",), "track": ("src",), "input": ("src",), "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"), "link": ("href",),
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'");\s]+)""", re.I)


def _is_external(url: str) -> bool:
    """Anything but an inline ``data:`` URI or a fragment reaches outside the page."""
    url = url.strip()
    return bool(url) and not url.startswith(("data:", "#"))


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.active: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        wanted = _FETCHING.get(tag, ())
        if tag == "script":
            self.active.append("a <script> element")
        if tag == "meta" and any(n == "http-equiv" and (v or "").lower() == "refresh"
                                 for n, v in attrs):
            self.active.append("a meta refresh")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.active.append(f"an event handler <{tag} {name}=...>")
            if value is None:
                continue
            if name in ("href", "action", "formaction", "xlink:href") and re.match(
                    r"\s*(javascript|data|vbscript):", value, re.I) and tag != "link":
                self.active.append(f"a {value.split(':', 1)[0].strip().lower()}: link "
                                   f"<{tag} {name}>")
            if name in wanted:
                for part in value.split(",") if name == "srcset" else [value]:
                    url = part.strip().split(" ")[0]
                    if _is_external(url):
                        self.found.append(f"<{tag} {name}={url}>")
            if name == "style":
                self._css(value, f"<{tag} style>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data, "<style>")

    def _css(self, css, where):
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for pattern in (_CSS_URL, _CSS_IMPORT):
            for url in pattern.findall(css):
                if _is_external(url):
                    self.found.append(f"{where} {url}")


def external_resources(html: str) -> list[str]:
    """Every reference in ``html`` that a browser would fetch from outside the page."""
    collector = _Collector()
    collector.feed(html)
    return collector.found


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/-])/(?:home|root|tmp|var/folders|Users|work|private)/[\w.-]+")


def leaks(html: str, extra_paths: tuple[str, ...] = ()) -> list[str]:
    """Local paths and tracebacks in ``html``: things a shared report must not show."""
    found = []
    for marker in ("Traceback (most recent call last)", "ipykernel_", "site-packages"):
        if marker in html:
            found.append(f"contains {marker!r}")
    for path in (*extra_paths, str(Path.home()), tempfile.gettempdir()):
        if path and len(path) > 1 and (path + "/") in html:
            found.append(f"contains the local path {path}/")
    for match in sorted(set(_ABSOLUTE_PATH.findall(html))):
        found.append(f"contains an absolute path {match}")
    return found


def active_content(html: str) -> list[str]:
    """Anything in ``html`` that could run or move the reader on: scripts, event handlers,
    ``javascript:``/``data:`` links, meta refresh. A shared report carries none, whatever the
    data holds."""
    collector = _Collector()
    collector.feed(html)
    return collector.active


def problems(html: str, extra_paths: tuple[str, ...] = ()) -> list[str]:
    """Everything that stops ``html`` from being shared as it is."""
    return ([f"loads {r}" for r in external_resources(html)]
            + [f"holds {a}" for a in active_content(html)] + leaks(html, extra_paths))


def strip_css_comments(html: str) -> str:
    """Drop comments inside <style> blocks: they hold the only http(s) strings nbconvert's
    stylesheet carries, which confuse a reader grepping the file."""
    return re.sub(
        r"(<style[^>]*>)(.*?)(</style>)",
        lambda m: m.group(1) + re.sub(r"/\*.*?\*/", "", m.group(2), flags=re.S) + m.group(3),
        html, flags=re.S,
    )

"""The offline rule on hand-written pages (the rendered reports are checked in test_reports
and test_browser)."""

from __future__ import annotations

import pytest

from haiti_mss import offline, paths

GOOD = """<!DOCTYPE html><html><head><style>body{background:url(data:image/png;base64,AA)}
/* https://example.org/comment */</style></head><body>
<a href="https://press.un.org/2023/sc15432.doc.htm">a source</a>
<img src="data:image/png;base64,iVBORw0KGgo=" alt="chart"></body></html>"""


def test_a_self_contained_page_passes():
    assert offline.problems(GOOD) == []


@pytest.mark.parametrize("snippet,found", [
    ('<script src="https://cdnjs.cloudflare.com/x.js"></script>', "script src"),
    ('<link rel="stylesheet" href="//fonts.googleapis.com/css">', "link href"),
    ('<img src="http://example.org/a.png">', "img src"),
    ('<img srcset="data:image/png;base64,AA 1x, https://e.org/b.png 2x">', "img srcset"),
    ('<iframe src="https://e.org"></iframe>', "iframe src"),
    ('<source src="https://e.org/v.mp4">', "source src"),
    ("<style>@import url('https://fonts.googleapis.com/css2');</style>", "<style>"),
    ('<style>body{background:url("https://e.org/bg.png")}</style>', "<style>"),
    ('<div style="background-image:url(https://e.org/x.png)"></div>', "style"),
    ('<script src="figure.js"></script>', "script src"),
])
def test_anything_fetched_from_outside_is_found(snippet, found):
    problems = offline.problems(GOOD.replace("</body>", snippet + "</body>"))
    assert problems and found in problems[0], problems


@pytest.mark.parametrize("leak", [
    "Traceback (most recent call last):", "/home/alice/project/data/x.csv",
    "/tmp/ipykernel_123/456.py:3: UserWarning", "/work/main/src/haiti_mss/plots.py",
    "/usr/lib/python3/site-packages/pandas/core.py",
])
def test_local_paths_and_tracebacks_are_found(leak):
    assert offline.leaks(f"<p>{leak}</p>", extra_paths=(str(paths.ROOT),))

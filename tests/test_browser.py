"""Every rendered report in a real browser (Debian's chromium, driven by Playwright) with the
network blocked: no request leaves the page, every image decodes, the console shows no error,
and nothing is wider than a phone screen. A screenshot of each report's first screen is kept
under build/test-artifacts/screenshots/."""

from __future__ import annotations

import shutil

import pytest

from haiti_mss import paths

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = paths.BUILD_DIR / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium: install Debian's browser with `sudo apt-get install chromium` "
                    "(.ci/run does this in CI)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def _pages(checkout):
    return sorted((checkout / "reports").rglob("*.html"))


def test_every_report_loads_offline_in_a_browser(browser, rendered_checkout):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = _pages(rendered_checkout)
    assert pages
    for page_path in pages:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        external, failed, errors = [], [], []

        def block(route, external=external):
            url = route.request.url
            if url.startswith(("file:", "data:")):
                route.continue_()
            else:
                external.append(url)
                route.abort()

        context.route("**/*", block)
        page = context.new_page()
        page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(page_path.as_uri(), wait_until="load")
        images = page.evaluate("""() => Array.from(document.images).map(
            i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt}))""")
        name = page_path.relative_to(rendered_checkout / "reports").as_posix()
        page.screenshot(path=str(ARTIFACTS / (name.replace("/", "--").removesuffix(".html") + ".png")))
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        context.close()
        assert external == [], (name, external)
        assert failed == [], (name, failed)
        assert errors == [], (name, errors)
        assert all(i["ok"] for i in images), (name, images)
        assert all(i["alt"] for i in images), (name, "an image without alt text")
        if name != "index.html":
            assert images, (name, "a report without a chart")
        assert overflow <= 1, (name, f"{overflow}px wider than a phone screen")

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


PHONE = {"width": 390, "height": 844}
AXE = paths.ROOT / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def _offline_page(browser, path, viewport):
    context = browser.new_context(viewport=viewport)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("file:", "data:")) else route.abort())
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    return context, page


def test_chart_text_stays_readable_on_a_phone(browser, rendered_checkout):
    """The smallest type in every chart, as drawn at phone width, is at least 10 CSS px."""
    for path in _pages(rendered_checkout):
        context, page = _offline_page(browser, path, PHONE)
        sizes = page.evaluate("""() => Array.from(document.images)
            .filter(i => i.dataset.minTextPx)
            .map(i => ({alt: i.alt.slice(0, 60),
                        px: +i.dataset.minTextPx * i.clientWidth / +i.getAttribute('width')}))""")
        context.close()
        small = [s for s in sizes if s["px"] < 10]
        assert not small, (path.name, small)


def test_every_link_between_reports_and_downloads_resolves(browser, rendered_checkout):
    """Navigation, CSV and download links point at files that exist in the published site."""
    root = rendered_checkout / "reports"
    for path in _pages(rendered_checkout):
        context, page = _offline_page(browser, path, {"width": 1280, "height": 900})
        hrefs = page.evaluate("""() => Array.from(document.querySelectorAll('a[href]'))
            .map(a => a.getAttribute('href'))""")
        context.close()
        local = [h for h in hrefs if not h.startswith(("http:", "https:", "data:", "#",
                                                       "mailto:"))]
        for href in local:
            target = (path.parent / href.split("#")[0]).resolve()
            assert target.exists() and root in target.parents, (path.name, href)


def test_reports_pass_the_axe_accessibility_checks(browser, rendered_checkout):
    """axe-core (WCAG 2 A and AA rules) finds no violation of any impact, on a desktop screen
    and on a phone. axe-core comes from npm (``make axe`` / .ci/run)."""
    if not AXE.exists():
        pytest.skip(f"axe-core not installed: run `make axe` (npm install into {AXE.parents[2]})")
    script = AXE.read_text(encoding="utf-8")
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        for path in _pages(rendered_checkout):
            context, page = _offline_page(browser, path, viewport)
            page.add_script_tag(content=script)
            found = page.evaluate("""async () => (await axe.run(document, {runOnly:
                {type: 'tag', values: ['wcag2a', 'wcag2aa']}})).violations
                .map(v => v.id + ' x' + v.nodes.length + ': ' + v.nodes[0].target.join(' '))""")
            context.close()
            assert not found, (path.name, viewport["width"], found)

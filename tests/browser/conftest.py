"""The Studio in real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the local stack started
as `make run` starts it, which serves web/dist on the API's port (`make test` builds it first)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.conftest import REPO, launch, wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
WEB_DIST = REPO / "web" / "dist"
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "docs" / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def studio_url(tmp_path_factory) -> Iterator[str]:
    """A local stack of its own for the browser tests (the app needs web/dist built: `make test` does it)."""
    for needed, how in ((WEB_DIST / "index.html", "make web"), (AXE, "make web"), (CHROMIUM, "make chromium")):
        if not needed.is_file():
            pytest.fail(f"{needed} is missing: run `{how}` (make test does it)")
    stack = wait_until_up(launch(tmp_path_factory.mktemp("studio-stack"), name="studio"))
    yield stack.url
    stack.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Per test: Playwright's sync API keeps an asyncio loop running on this thread while it is open, which would
    break the tests that call Lambda handlers (Mangum) if xdist ran them on this worker in between."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def new_context(browser: Browser, base_url: str, **options) -> BrowserContext:
    """axe-core is injected as a script, which the app's CSP (script-src 'self') would refuse: tests bypass it."""
    context = browser.new_context(base_url=base_url, bypass_csp=True, accept_downloads=True,
                                  reduced_motion="reduce", **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser: Browser, studio_url: str) -> Iterator[Page]:
    context = new_context(browser, studio_url, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Page, name: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{name}: {json.dumps(violations, indent=1)}"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Every run takes the picture (a page that cannot be drawn fails the test); only `make screenshots`
    (UPDATE_SCREENSHOTS=1) writes it over the README's copy, so a test run leaves the checkout clean."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "nf-shots"
    folder.mkdir(parents=True, exist_ok=True)
    assert page.screenshot(path=str(folder / name), full_page=full_page)

"""Browser-test harness: one served app per session, headless system Chromium, strict pages.

Every test under ``tests/ui`` is marked ``ui``. A missing browser is a failure, never a skip.
Panel renders inside open shadow roots: locate elements with Playwright selectors
(``page.locator(...)``, which pierce them), not with ``document.querySelector`` in page JS.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.browser import (
    VISIBLE_PLOT,
    BrowserMissing,
    launch_chromium,
    save_screenshot,
    wait_for_bokeh,
)
from app.serve_process import REPO_ROOT, ServeError, ServeProcess

ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
_UI_DIR = Path(__file__).resolve().parent
#: Console errors that are network noise, checked per request instead (see ``page``).
_NETWORK_NOISE = re.compile(r"^Failed to load resource")


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselection sees the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected under tests/ui as ``ui``."""
    for item in items:
        if _UI_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.ui)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so ``page`` can screenshot failed tests."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    if report.failed:
        # what the server said while the test ran: a traceback there explains a timeout here
        lines = _server_problems()
        if lines:
            report.sections.append(("server log: warnings and errors", "\n".join(lines)))
    return report


def _server_problems(limit: int = 15) -> list[str]:
    """The last ``limit`` warning, error and traceback lines of the served app's log."""
    log = ARTIFACTS / "ui-server.log"
    if not log.exists():
        return []
    marks = ("WARNING", "ERROR", "Traceback", "Error:", "Exception")
    text = log.read_text(errors="replace").splitlines()
    return [line for line in text if any(mark in line for mark in marks)][-limit:]


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Base URL (``http://localhost:PORT/``) of ``noisescope serve`` on a free port."""
    # sweeps start from an empty replicate cache: every browser run computes on the cluster
    cache = ARTIFACTS / "sweep-cache"
    shutil.rmtree(cache, ignore_errors=True)
    server = ServeProcess(
        log_path=ARTIFACTS / "ui-server.log", env={"NOISESCOPE_SWEEP_CACHE": str(cache)}
    ).start()
    try:
        server.wait_live()
    except ServeError as error:
        server.stop()
        pytest.fail(f"noisescope serve did not become live: {error}", pytrace=False)
    yield server.base_url
    code = server.stop()
    assert code == 0, f"noisescope serve exited with {code} on Ctrl-C\n{server.log_tail()}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless system Chromium (``$NOISESCOPE_CHROMIUM``, default /usr/bin/chromium)."""
    with sync_playwright() as playwright:
        problem = ""
        try:
            chromium = launch_chromium(playwright)
        except BrowserMissing as error:
            problem = str(error)
        except Exception as error:  # Playwright raises its own Error on a broken binary
            problem = f"Chromium failed to launch: {error}"
        if problem:
            pytest.fail(problem, pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, app_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context. The test fails if the page throws an uncaught
    exception, logs a console error (Bokeh logs its errors there), a request to the app fails,
    or the page asks any host but the app's for anything (the app works offline)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    log: list[str] = []

    def on_console(message: Any) -> None:
        log.append(f"console.{message.type}: {message.text}")
        if message.type == "error" and not _NETWORK_NOISE.match(message.text):
            problems.append(f"console.error: {message.text}")

    def on_request_failed(req: Any) -> None:
        log.append(f"request failed: {req.url} ({req.failure})")
        if req.url.startswith(app_url):
            problems.append(f"request to the app failed: {req.url} ({req.failure})")

    def on_request(req: Any) -> None:
        if not req.url.startswith((app_url, "data:", "blob:", "about:")):
            problems.append(f"request to another host: {req.url}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.url.startswith(app_url):
            problems.append(f"HTTP {response.status} from the app: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("request", on_request)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    yield page

    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        save_screenshot(page, SCREENSHOTS / f"FAILED-{name}.png")
    (ARTIFACTS / "console").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "console" / f"{name}.log").write_text("\n".join(log) + "\n")
    context.close()
    if problems:
        pytest.fail("browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def open_app(page: Page, app_url: str) -> Callable[..., Page]:
    """``open_app("?tab=...", plot=VISIBLE_PLOT)``: load the app (optional query string), wait
    until Bokeh has rendered it and, unless ``plot`` is None, until that element is visible."""

    def load(query: str = "", plot: str | None = VISIBLE_PLOT) -> Page:
        page.goto(app_url + query)
        wait_for_bokeh(page, plot=plot)
        return page

    return load


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, name)`` saves ``test-artifacts/screenshots/<name>.png``."""

    def take(page: Page, name: str) -> Path:
        return save_screenshot(page, SCREENSHOTS / f"{name}.png")

    return take

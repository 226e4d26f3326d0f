"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Never downloads a browser (no ``playwright install``): it launches ``/usr/bin/chromium``.
Without it the tests skip with the reason, except under CI (``CI`` set), where they fail.

Fixtures:
- ``browser`` (per module): the Chromium instance.
- ``page``: a fresh context and tab whose relative URLs go to the live server
  (``page.goto("/login/")``); a failing test leaves a screenshot in var/screenshots/failed/.
- ``make_workspace``: ``make_workspace(name=..., email=...)`` creates a workspace and its
  administrator through ``services.workspace_create``; returns an ``Account``.
- ``workspace_admin``: one such ``Account`` ready to use.
- ``login``: ``login(page, email, password)`` signs in through the login form.
- ``screenshot``: ``screenshot(page, "name")`` saves var/screenshots/name.png.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "e2e-Passw0rd-2026"
TIMEOUT_MS = 15_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@dataclass(frozen=True)
class Account:
    workspace: object
    user: object
    email: str
    password: str


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def browser():
    """Chromium for the tests of one module.

    Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses
    ORM calls from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. It
    is set only while the browser is up (module scope, so no other module's tests run
    meanwhile) — set for the whole process it would leak into subprocesses the other tests
    start, and `check --deploy` there fails on it (async.E001).
    """
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: browser tests need Debian's chromium "
            "(apt-get install chromium fonts-noto-cjk); no browser is ever downloaded"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            target = SCREENSHOTS / "failed" / f"{_safe(request.node.nodeid)}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            # A screenshot that cannot be taken must not hide the test's own failure.
            with contextlib.suppress(Exception):
                tab.screenshot(path=str(target), full_page=True)
        context.close()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150]


@pytest.fixture
def screenshot():
    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{_safe(name)}.png"
        page.screenshot(path=str(target), full_page=True)
        return target

    return take


_numbers = itertools.count(1)


@pytest.fixture
def make_workspace(transactional_db):
    from guanxi.platform import services

    def make(
        *,
        name: str | None = None,
        email: str | None = None,
        full_name: str = "王伟",
        password: str = PASSWORD,
        language: str = "zh-hans",
    ) -> Account:
        n = next(_numbers)
        email = email or f"admin{n}@e2e.example.com"
        workspace, user = services.workspace_create(
            name=name or f"测试公司 {n}",
            admin_email=email,
            admin_name=full_name,
            admin_password=password,
            language=language,
            time_zone="Asia/Shanghai",
        )
        return Account(workspace=workspace, user=user, email=email, password=password)

    return make


@pytest.fixture
def workspace_admin(make_workspace) -> Account:
    return make_workspace()


def login(page, email: str, password: str) -> None:
    """Sign in through the login form and wait until the browser has left /login/.

    Raises AssertionError with the form's error messages when the sign-in is refused."""
    page.goto("/login/")
    form = page.locator("form", has=page.locator('input[name="password"]'))
    form.locator('input[name="username"], input[name="email"]').first.fill(email)
    form.locator('input[name="password"]').fill(password)
    form.locator('button[type="submit"], input[type="submit"]').first.click()
    try:
        # Leaving /login/ is success; /login/verify/ (the TOTP step) counts as left.
        page.wait_for_url(lambda url: urlsplit(url).path != "/login/", timeout=TIMEOUT_MS)
    except Exception as exc:
        errors = page.locator(".errorlist, [role=alert], .error").all_inner_texts()
        raise AssertionError(f"signing in as {email} failed; the page says: {errors}") from exc


@pytest.fixture(name="login")
def login_fixture():
    return login

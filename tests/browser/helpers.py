"""Helpers of the browser journeys (tests/browser/): Debian's Chromium, logging in as a demo account,
screenshots of each page at 1280 and 375 px, downloads and the page's JavaScript errors.

Screenshots go to ``tests/artifacts/screenshots/<journey>/`` (gitignored), every one the journey
takes. With ``GUIDE_SCREENSHOTS=1`` (``make guide-screenshots``) only the shots marked ``guide`` (at
the width marked) are written, palette-compressed, to ``docs/guide/img/<journey>/``: the selection the
user guide (docs/guide/*.md) shows, under the same file names.

``Journey`` is one role's journey on the demo (``DemoSite``, built by conftest.py's ``demo_site``):
the people taking part, each in a browser context of their own, and the journey's screenshots.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Download, Page
from playwright.sync_api import Error as PlaywrightError

from partygroup.demo.base import DEMO_PASSWORD, DemoContext
from partygroup.pdf import pdf_text

CHROMIUM = "/usr/bin/chromium"
# `playwright install` cannot download browsers here: Debian's Chromium, headless, no network of its own.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = 1280
PHONE = 375
WIDTHS = (DESKTOP, PHONE)
VIEWPORT_HEIGHT = 900
# A page waits at most this long for an element or a response (the CI machine has 2 busy cores).
TIMEOUT_MS = 20_000

GUIDE_ENV = "GUIDE_SCREENSHOTS"
ARTIFACTS_DIR = Path(settings.BASE_DIR) / "tests" / "artifacts" / "screenshots"
GUIDE_DIR = Path(settings.BASE_DIR) / "docs" / "guide" / "img"
NAME_PATTERN = re.compile(r"^\d{2}-[a-z0-9-]+$")
# The browser asks for a favicon the app does not have; nothing else may fail to load.
IGNORED_CONSOLE = ("favicon.ico",)
# socketserver names each request thread of a live server after its target.
REQUEST_THREAD = "(process_request_thread)"
# A closed browser context's keep-alive connections end within ~50 ms here; this is the ceiling.
REQUESTS_TIMEOUT_S = 15.0


def open_request_threads() -> list[threading.Thread]:
    """The live servers' request threads still running: one per connection the browser holds open
    (Chromium keeps up to six alive per context), each ending when Chromium closes its socket."""
    return [thread for thread in threading.enumerate() if thread.name.endswith(REQUEST_THREAD)]


def wait_for_requests(timeout: float = REQUESTS_TIMEOUT_S) -> list[threading.Thread]:
    """Wait (at most ``timeout`` seconds in all) until every request thread has ended — call it after
    closing the browser contexts, so that no request thread outlives the test or the server that
    started it. Returns the threads still running at the deadline (none, unless a page is open)."""
    deadline = time.monotonic() + timeout
    for thread in open_request_threads():
        thread.join(max(0.0, deadline - time.monotonic()))
    return open_request_threads()


def close_request_connections(server) -> None:
    """``ThreadedWSGIServer._close_connections`` for the test live servers (Django's hook "used for
    mocking in tests"): a request thread closes the connections it opened itself (PostgreSQL: its
    own), never the test's in-memory SQLite connection it was lent (``connections_override``).

    Closing the lent one does nothing (Django ignores ``close()`` on an in-memory database, which
    would otherwise be lost), but its thread-sharing check runs first, and raises once the fixture
    has stopped lending it; the request thread then dies inside ``close_request`` with its socket
    left open. CI once showed exactly that signature: six keep-alive request threads ending in an
    exception after the journeys, and six unclosed sockets of the live server."""
    lent = list((server.connections_override or {}).values())
    for connection in connections.all(initialized_only=True):
        if not any(connection is shared for shared in lent):
            connection.close()


def guide_mode() -> bool:
    return os.environ.get(GUIDE_ENV) == "1"


def new_context(browser, *, width: int = DESKTOP) -> BrowserContext:
    """A fresh browser profile (its own cookies: one per person), Chinese, in Beijing time."""
    context = browser.new_context(
        viewport={"width": width, "height": VIEWPORT_HEIGHT},
        locale="zh-CN",
        timezone_id=settings.TIME_ZONE,
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@dataclass
class JsErrors:
    """The JavaScript errors and failed resource loads a page reported (console errors included)."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.messages.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.messages.append(f"console: {msg.text} ({msg.location.get('url', '')})")
                if msg.type == "error" and not _ignored(msg)
                else None
            ),
        )
        return page


def _ignored(msg) -> bool:
    text = f"{msg.text} {msg.location.get('url', '')}"
    return any(part in text for part in IGNORED_CONSOLE)


def login(
    page: Page,
    base_url: str,
    username: str,
    *,
    password: str = DEMO_PASSWORD,
    before_submit: Callable[[Page], None] | None = None,
) -> None:
    """Log in through the login page as a demo account and land on the account's home page
    (``before_submit``, e.g. a screenshot, sees the filled form)."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    if before_submit is not None:
        before_submit(page)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} 登录失败：{page.url}"


@dataclass
class Shots:
    """Full-page screenshots of one journey at 1280 and at 375 px wide.

    Each call checks, at both widths, that the page does not overflow sideways (wide tables scroll
    inside their own box) and that no JavaScript error has occurred, so a screen that breaks on a
    phone fails the journey.
    """

    journey: str
    errors: JsErrors
    taken: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.directory.exists():
            shutil.rmtree(self.directory)  # no stale picture of an earlier run

    @property
    def directory(self) -> Path:
        return (GUIDE_DIR if guide_mode() else ARTIFACTS_DIR) / self.journey

    def __call__(self, page: Page, name: str, *, guide: bool | int = False) -> None:
        """Shoot ``page`` at both widths as ``<name>-<width>.png``; ``guide``: the user guide shows
        this page — at both widths (True) or at the one width given (``PHONE``, ``DESKTOP``)."""
        assert NAME_PATTERN.match(name), name
        in_guide = WIDTHS if guide is True else (guide,) if guide else ()
        assert set(in_guide) <= set(WIDTHS), guide
        page.wait_for_load_state()
        original = page.viewport_size or {"width": DESKTOP, "height": VIEWPORT_HEIGHT}
        try:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
                overflow = page.evaluate("document.documentElement.scrollWidth")
                assert overflow <= width, f"{name}: 页面在 {width}px 宽时横向溢出（{overflow}px）"
                # A viewport as tall as the page: sticky bars sit where they belong, not mid-page.
                height = page.evaluate("document.documentElement.scrollHeight")
                page.set_viewport_size({"width": width, "height": max(height, VIEWPORT_HEIGHT)})
                if guide_mode() and width in in_guide:
                    self._save(page.screenshot(full_page=True), f"{name}-{width}.png", compress=True)
                elif not guide_mode():
                    self._save(page.screenshot(full_page=True), f"{name}-{width}.png", compress=False)
        finally:
            page.set_viewport_size(original)
        assert not self.errors.messages, f"{name}: {self.errors.messages}"

    def _save(self, png: bytes, filename: str, *, compress: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / filename
        if compress:
            # A 256-colour palette keeps text sharp at a fraction of the size (docs/guide/img).
            image = Image.open(io.BytesIO(png)).convert("RGB")
            image.quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)
        else:
            path.write_bytes(png)
        self.taken.append(path)


def pdf_text_of(download: Download, directory: Path) -> str:
    """Save a downloaded file and return its text (poppler's pdftotext); fails unless it is a PDF."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), f"{download.suggested_filename} 不是PDF文件"
    return pdf_text(data)


@dataclass(frozen=True)
class DemoSite:
    """The demo organisation served at ``url`` (no trailing slash); ``ctx`` is what build_demo made."""

    url: str
    ctx: DemoContext


@dataclass
class Journey:
    """One role's journey: the people taking part (one browser context each) and its screenshots."""

    name: str
    site: DemoSite
    browser: Browser
    errors: JsErrors = field(default_factory=JsErrors)
    contexts: list[BrowserContext] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.shots = Shots(self.name, self.errors)

    def url(self, path: str) -> str:
        return f"{self.site.url}{path}"

    def open_as(self, username: str, *, login_shot: str | None = None, guide: bool | int = False) -> Page:
        """A new browser profile, logged in as ``username`` (demo password), on its home page;
        ``login_shot`` names a screenshot of the filled login form (``guide``: one the guide shows)."""
        context = new_context(self.browser)
        self.contexts.append(context)
        page = self.errors.watch(context.new_page())
        shoot = (lambda p: self.shoot(p, login_shot, guide=guide)) if login_shot else None
        login(page, self.site.url, username, before_submit=shoot)
        return page

    def shoot(self, page: Page, name: str, *, guide: bool | int = False) -> None:
        self.shots(page, name, guide=guide)

    def close(self) -> None:
        """Close the journey's browser contexts and let the server finish their connections, so
        that the next journey (or test) starts with no request of this one still running."""
        for context in self.contexts:
            context.close()
        wait_for_requests()

    def photograph_failure(self) -> None:
        """Every open page, as it is, to tests/artifacts/screenshots/<journey>/failure-<n>.png."""
        directory = ARTIFACTS_DIR / self.name
        directory.mkdir(parents=True, exist_ok=True)
        for number, context in enumerate(self.contexts, start=1):
            for page in context.pages:
                try:
                    page.screenshot(path=directory / f"failure-{number}.png", full_page=True)
                except PlaywrightError:
                    continue  # a crashed or closed page: the journey's own error tells the story

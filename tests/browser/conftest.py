"""Fixtures of the browser journeys: the demo data behind a live server, and Debian's Chromium.

The demo (``partygroup.demo.build_demo``, docs/demo.md) takes 30 s on SQLite and 50 s on PostgreSQL,
so a browser module builds it ONCE (``demo_site``, module scope) and every journey of the module uses
it. That rules out pytest-django's ``live_server``: it pulls in ``transactional_db``, which flushes
the database after every test. ``demo_site`` therefore
- builds the demo committed, outside any test transaction (``django_db_blocker.unblock()`` for the
  whole module);
- runs its own ``LiveServer`` on 127.0.0.1 (pytest-django's helper class: on in-memory SQLite the
  server thread shares the test's connection, on PostgreSQL it opens its own and sees the commits);
- empties the database when the module ends (``flush``, as a transactional test does, then the
  migrations' rows restored: ``_flush_database``), so the tests that run after it in the same
  worker start from the migrated, empty database.

A module using ``demo_site`` MUST mark its tests ``django_db`` (plain, not transactional):
pytest-django creates the test database only when a collected test asks for one, so a browser
module run on its own would otherwise build the demo in — and flush — the development database.
``demo_site`` refuses to start unless the connection points at the test database. The mark wraps
each test in a transaction that is rolled back: on SQLite (one shared connection) that also undoes
what the journey did through the browser; on PostgreSQL the server's own connection commits, and
the module's flush cleans up. Journeys sharing a demo therefore never depend on one another: each
works in its own branch and group, or only reads. xdist deals a module's tests to several workers
(each would build the demo again), so test_journeys.py runs its journeys as subtests of ONE test.

``chromium`` (module scope) starts Playwright's sync API and Debian's Chromium. Playwright's sync
API drives its asyncio event loop in the test's own thread, so Django's async-safety check sees a
running loop and refuses every database query from the test thread (SynchronousOnlyOperation),
including the demo's flush at the end of the module — although nothing runs concurrently: the
test code is plain synchronous code waiting for the browser. ``DJANGO_ALLOW_ASYNC_UNSAFE`` is
therefore set while (and only while) Playwright runs, and restored when the module ends. Only one
sync Playwright may run at a time in a thread: browser modules share this fixture.

``demo_site`` depends on ``chromium`` for a second reason: while an event loop runs in a thread,
Django's ``connections`` (asgiref ``Local``, thread-critical) hand out a DIFFERENT connection object
in that thread than before the loop started. The live server must share the very connection the
journeys' test transactions use (in-memory SQLite: two connections to the shared database lock
each other), so Playwright starts first and the demo, the server and the tests all see the same one.

Request threads: the live server answers each connection Chromium opens in a thread of its own,
which lives as long as the browser keeps the connection alive. ``Journey.close`` waits for them
after closing its contexts, ``demo_site`` stops its server only when none is left, and
``_request_threads_leave_the_lent_connection`` (session) keeps them from closing the test's shared
in-memory SQLite connection (``helpers.close_request_connections``).

``with start_journey(name) as journey:`` gives a ``Journey`` (tests/browser/helpers.py):
``open_as(username)`` logs a demo account in, in a browser context of its own (two people, two
cookie jars), and ``shoot(page, name)`` saves the screenshots. A failed journey leaves a picture
of every open page in tests/artifacts/screenshots/<journey>/failure-<n>.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dj_database_url
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections
from playwright.sync_api import Browser, sync_playwright
from pytest_django.live_server_helper import LiveServer

from members.models import Branch, RuleSet
from members.rule_set_defaults import ensure_rule_sets
from partygroup.demo import build_demo
from partygroup.summaries import refresh_summaries
from tests.browser.helpers import (
    CHROMIUM,
    LAUNCH_ARGS,
    DemoSite,
    Journey,
    close_request_connections,
    wait_for_requests,
)

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def _flush_database() -> None:
    """Empty every table, as a transactional test does after itself, and put back what the migrations made.

    Where the test database was serialized (a ``serialized_rollback`` test was collected), the rows the
    migrations created (content types, permissions, rule sets) are restored as they were, with their
    ids — as a serialized-rollback test does — so such a test running later in this worker finds them
    exactly as it expects (a plain flush would re-create the content types under new ids, and the later
    test's own restore would collide with them). Otherwise ``flush`` re-creates them (post_migrate)."""
    for alias in connections:
        connection = connections[alias]
        serialized = getattr(connection, "_test_serialized_contents", None)
        restore = serialized is not None
        call_command("flush", verbosity=0, interactive=False, database=alias, inhibit_post_migrate=restore)
        if restore:
            connection.creation.deserialize_db_from_string(serialized)


def _require_test_database() -> None:
    """Never seed or flush a real database: the connection must point at the test database, not at
    the one ``DATABASE_URL`` names (pytest-django renames it only when a test asks for a database)."""
    configured = dj_database_url.parse(settings.DATABASE_URL)["NAME"]
    in_use = connections["default"].settings_dict["NAME"]
    if in_use == configured:
        pytest.fail(f"数据库“{in_use}”不是测试数据库：使用 demo_site 的测试须标记 @pytest.mark.django_db。")


@pytest.fixture(scope="session", autouse=True)
def _request_threads_leave_the_lent_connection() -> Iterator[None]:
    """For the whole session (a request thread may end after its module): see
    ``helpers.close_request_connections``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ThreadedWSGIServer, "_close_connections", close_request_connections)
        yield


def _stop(server: LiveServer, browser: Browser) -> None:
    """Stop the live server once the browser holds no connection to it: every context closed and
    every request thread ended (a thread still running when the server stops its sharing of the
    test's connection would die mid-close)."""
    for context in browser.contexts:
        context.close()
    left = wait_for_requests()
    server._live_server_modified_settings.disable()
    server.stop()
    if left:
        pytest.fail(f"浏览器关闭后仍有请求线程未结束：{[thread.name for thread in left]}")


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker, chromium) -> Iterator[DemoSite]:
    with django_db_blocker.unblock():
        _require_test_database()
        ensure_rule_sets(RuleSet)  # an earlier transactional test in this worker may have flushed them
        try:
            ctx = build_demo(log=lambda _line: None)
            # As seed_demo does: the overview's finding counts (partygroup.summaries) are there at once.
            refresh_summaries(Branch.objects.values_list("pk", flat=True))
            server = LiveServer("127.0.0.1")
            server._live_server_modified_settings.enable()  # ALLOWED_HOSTS += the server's host
            try:
                yield DemoSite(url=server.url, ctx=ctx)
            finally:
                _stop(server, chromium)
        finally:
            _flush_database()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"  # see the module's docstring
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def start_journey(demo_site, chromium):
    """``with start_journey(name) as journey:`` — the journey's browser contexts are closed at the
    end; if it fails, every open page is first photographed (see ``Journey.photograph_failure``)."""

    @contextmanager
    def start(name: str) -> Iterator[Journey]:
        journey = Journey(name=name, site=demo_site, browser=chromium)
        try:
            yield journey
        except BaseException:
            journey.photograph_failure()
            raise
        finally:
            journey.close()

    return start

"""The live server's request threads and the test's shared in-memory SQLite connection
(``helpers.close_request_connections``, installed for every browser test by conftest.py)."""

from __future__ import annotations

import http.client
import threading

import pytest
from django.db import connection
from pytest_django.live_server_helper import LiveServer

from tests.browser.helpers import open_request_threads

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_keep_alive_thread_ending_after_the_server_stopped_ends_cleanly(monkeypatch):
    """A browser connection still open when the server stops: its request thread ends later, after
    the test's connection is no longer lent to the server. It must end without an exception (Django's
    own close of the lent connection raised there, leaving the socket open)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        pytest.skip("只有内存 SQLite 的连接由测试线程借给服务器线程")
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    server = LiveServer("127.0.0.1")
    server._live_server_modified_settings.enable()
    try:
        client = http.client.HTTPConnection(server.thread.host, server.thread.port, timeout=10)
        client.request("GET", "/accounts/login/")
        response = client.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection") != "close"  # kept alive: its thread waits for more
        [thread] = open_request_threads()
    finally:
        server._live_server_modified_settings.disable()
        server.stop()
    client.close()
    thread.join(10)
    assert not thread.is_alive()
    assert failures == [], [repr(failure.exc_value) for failure in failures]

"""The organisation-wide export as organisation staff click it (issue 5), in Debian's Chromium.

Staff of 市直机关工委 log in, choose last year and start an export; the job page shows the progress
bar at 0 %, then — while the page only polls (htmx, every second) — a database worker
(``db_worker --batch``, the default backend) builds the workbook: the bar moves to 20 %; the worker
then drains the queue and the bar reaches 100 % with the two download buttons. Both files are
downloaded: the .xlsx opens with openpyxl and the .zip lists every group's report.

Deterministic: the test runs the worker itself, one step at a time, and every request of the live
server and every worker step hold one lock. On in-memory SQLite the server thread shares the test's
database connection, so the two must never interleave; on PostgreSQL the lock only orders them.
pytest-django's ``live_server`` is transactional, so the worker and the server see each other's
commits, and the tasks' ``transaction.on_commit`` hooks fire. Screenshots at 1280 and 375 px go to
tests/artifacts/screenshots/export/.
"""

from __future__ import annotations

import datetime as dt
import io
import signal
import threading
import zipfile

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from partygroup.models import ExportJob
from partygroup.yearend.enums import ExportState
from tests.browser.helpers import JsErrors, Shots, login, new_context, wait_for_requests
from tests.meetings.factories import make_meeting
from tests.org_tree import build_tree

pytestmark = pytest.mark.browser

PASSWORD = "Export-Journey-2025!"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
PROGRESS = "progress.yearend-progress"


@pytest.fixture
def one_at_a_time(monkeypatch):
    """A lock held by every request of the live server (and by the test around each worker step)."""
    lock = threading.Lock()
    handle = WSGIHandler.__call__

    def serialised(self, environ, start_response):
        with lock:
            return handle(self, environ, start_response)

    monkeypatch.setattr(WSGIHandler, "__call__", serialised)
    return lock


@pytest.fixture
def restore_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_org_staff_export_journey(live_server, chromium, settings, tmp_path, one_at_a_time, restore_signals):
    settings.TASKS = DB_TASKS
    settings.EXPORT_ROOT = tmp_path / "exports"
    year = timezone.localdate().year - 1
    tree = build_tree()
    make_meeting(tree.groups["a1"], tree.users["leader_a1"], held_on=dt.date(year, 3, 12))
    make_meeting(tree.groups["a1"], tree.users["leader_a1"], held_on=dt.date(year, 9, 8))
    staff = tree.users["staff_top"]
    staff.set_password(PASSWORD)
    staff.save()

    def worker(*args: str) -> None:
        with one_at_a_time:
            call_command(
                "db_worker",
                "--batch",
                "--no-startup-delay",
                "--no-reload",
                *args,
                verbosity=0,
                stdout=io.StringIO(),
            )

    errors = JsErrors()
    shots = Shots("export", errors)
    context = new_context(chromium)
    try:
        page = errors.watch(context.new_page())
        login(page, live_server.url, "staff_top", password=PASSWORD)
        # Opening the overview queued the check of its branches' finding counts (partygroup.summaries)
        # on the same queue: let it run, so the counts below are the export's own tasks.
        worker()
        page.get_by_role("link", name="年度汇总导出").click()
        expect(page.get_by_role("heading", name="年度汇总导出", exact=True)).to_be_visible()
        page.get_by_label("上级党组织").select_option(str(tree.top.pk))
        page.get_by_label("年度").select_option(str(year))
        page.get_by_label("筛选党支部").fill("国库")
        expect(page.locator("select[name=branches] option:not([hidden])")).to_have_count(1)
        page.get_by_label("筛选党支部").fill("")
        shots(page, "01-export-form")
        page.get_by_role("button", name="开始导出").click()

        page.wait_for_url(f"{live_server.url}/exports/*/")
        job = ExportJob.objects.get()
        assert (job.year, job.group_count, job.requested_by_id) == (year, 3, staff.pk)
        bar = page.locator(PROGRESS)
        expect(bar).to_have_attribute("value", "0")
        expect(page.locator("[data-export-step]")).to_have_text("等待后台任务程序处理")

        worker("--max-tasks", "1")  # the workbook; the page is not reloaded, it polls
        expect(bar).to_have_attribute("value", "20")  # workbook 1 unit of 5 (3 reports, 1 bundle)
        expect(page.locator("[data-export-reports]")).to_have_text("0 / 3 份")
        shots(page, "02-export-progress")

        worker()  # the reports, then the bundle the last part queues
        expect(bar).to_have_attribute("value", "100")
        expect(page.locator("[data-export-step]")).to_have_text("已完成")
        expect(page.locator("[data-export-percent]")).to_have_text("100%")
        job.refresh_from_db()
        assert job.state == ExportState.DONE
        assert page.locator("#export-status").get_attribute("hx-trigger") is None  # polling stopped
        shots(page, "03-export-done")

        with page.expect_download() as xlsx_download:
            page.locator("a[data-download=xlsx]").click()
        xlsx = tmp_path / xlsx_download.value.suggested_filename
        xlsx_download.value.save_as(xlsx)
        assert xlsx.name == f"市直机关工委{year}年度党小组工作汇总.xlsx"
        book = load_workbook(xlsx)
        assert book.sheetnames == [
            "说明",
            "组织汇总",
            "支部汇总",
            "党小组汇总",
            "问题汇总（按规则）",
            "问题明细",
        ]
        rows = list(book["党小组汇总"].iter_rows(min_row=2, values_only=True))
        assert [row[2] for row in rows[:-1]] == ["办公室第一党小组", "办公室第二党小组", "国库党小组"]
        assert rows[-1][0] == "合计"

        with page.expect_download() as zip_download:
            page.locator("a[data-download=zip]").click()
        bundle = tmp_path / zip_download.value.suggested_filename
        zip_download.value.save_as(bundle)
        with zipfile.ZipFile(bundle) as archive:
            names = archive.namelist()
            assert all(archive.read(name).startswith(b"%PDF-") for name in names)
        assert sorted(names) == sorted(
            [
                f"财政局办公室党支部/办公室第一党小组-{year}年度工作报告.pdf",
                f"财政局办公室党支部/办公室第二党小组-{year}年度工作报告.pdf",
                f"国库处党支部/国库党小组-{year}年度工作报告.pdf",
            ]
        )
        response = page.request.get(f"{live_server.url}{reverse('yearend:download', args=[job.pk, 'zip'])}")
        assert response.headers["cache-control"] == "no-store"
        assert not errors.messages, errors.messages
    finally:
        context.close()
        wait_for_requests()  # no request thread of this test outlives it (helpers.wait_for_requests)

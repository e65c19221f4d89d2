"""Tests of partygroup/yearend/views.py: a permission matrix for every page (roles of tests/org_tree.py
× read / write), the form's refusals (nothing saved), the live status fragment (htmx polling), the
downloads (only for those allowed, ``Cache-Control: no-store``) and flat query counts.

Roles: superuser; organisation staff of the job's subtree (staff_top), of a subtree holding all its
branches (staff_mid), of a subtree holding only some (staff_leaf) and of another tree (staff_other);
the branch secretary and the other branch's secretary; a committee member; leaders of two groups; a
plain member; anonymous.
"""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partygroup.models import ExportJob, ExportPart
from partygroup.yearend.enums import ExportState, PartKind, PartState
from partygroup.yearend.selectors import job_directory
from tests.org_tree import ROLES, fresh_user
from tests.partygroup.yearend_support import (  # noqa: F401  (fixtures)
    DUMMY_TASKS,
    age_heartbeats,
    export_root,
    fake_reports,
    last_year,
    tree,
    zip_names,
)

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

STAFF = {"superuser", "staff_top", "staff_mid", "staff_leaf", "staff_other"}
SEES_TOP_JOB = {"superuser", "staff_top", "staff_mid"}


@pytest.fixture
def dummy_tasks(settings):
    settings.TASKS = DUMMY_TASKS


def _client(client, tree, role):
    if role != "anonymous":
        client.force_login(fresh_user(tree, role))
    return client


def _login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _job(tree, *, state=ExportState.RUNNING, branches=("A", "B"), organisation=None) -> ExportJob:
    job = ExportJob.objects.create(
        organisation=organisation or tree.top,
        year=last_year(),
        as_of=dt.date(last_year(), 12, 31),
        state=state,
        branch_count=len(branches),
        group_count=3,
    )
    job.branches.set([tree.branches[k] for k in branches])
    now = timezone.now()
    ExportPart.objects.bulk_create(
        [
            ExportPart(
                job=job, index=0, kind=PartKind.WORKBOOK, state=PartState.DONE, attempt=1, heartbeat_at=now
            ),
            ExportPart(
                job=job,
                index=1,
                kind=PartKind.REPORTS,
                state=PartState.RUNNING,
                attempt=1,
                group_ids=[1, 2, 3],
                heartbeat_at=now,
            ),
            ExportPart(job=job, index=2, kind=PartKind.BUNDLE, state=PartState.PENDING),
        ]
    )
    return job


def _done_job_with_files(tree, export_root) -> ExportJob:
    job = _job(tree, state=ExportState.DONE)
    directory = job_directory(job)
    directory.mkdir(parents=True)
    (directory / "workbook.xlsx").write_bytes(b"PK xlsx bytes")
    (directory / "reports.zip").write_bytes(b"PK zip bytes")
    return job


def _post_data(tree, **extra):
    return {"organisation": tree.top.pk, "year": last_year(), **extra}


# --- The form page -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_index_get_matrix(client, tree, role):
    response = _client(client, tree, role).get(reverse("yearend:index"))
    if role == "anonymous":
        assert _login_redirect(response)
    elif role in STAFF:
        assert response.status_code == 200
        assert "开始导出" in response.content.decode()
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_index_post_matrix_only_staff_of_the_organisation_start(client, tree, export_root, dummy_tasks, role):
    response = _client(client, tree, role).post(reverse("yearend:index"), _post_data(tree))
    jobs = list(ExportJob.objects.all())
    if role in {"superuser", "staff_top"}:
        assert len(jobs) == 1 and response.status_code == 302
        assert response["Location"] == reverse("yearend:detail", args=[jobs[0].pk])
        assert jobs[0].requested_by.username == role
    else:
        assert jobs == [] and ExportPart.objects.count() == 0
        if role == "anonymous":
            assert _login_redirect(response)
        elif role in STAFF:  # the organisation is not one they may choose
            assert response.status_code == 200
            assert "选择一个有效的选项" in response.content.decode()
        else:
            assert response.status_code == 403


def test_index_refuses_a_future_year_with_a_message(client, tree, export_root, dummy_tasks):
    next_year = dt.date.today().year + 1
    response = _client(client, tree, "staff_top").post(
        reverse("yearend:index"), _post_data(tree, year=next_year)
    )
    assert response.status_code == 200
    assert f"{next_year}年度尚未开始，不能导出" in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_index_refuses_branches_outside_the_chosen_organisation(client, tree, export_root, dummy_tasks):
    data = _post_data(
        tree, organisation=tree.leaf.pk, branches=[tree.branches["A"].pk, tree.branches["B"].pk]
    )
    response = _client(client, tree, "staff_top").post(reverse("yearend:index"), data)
    assert response.status_code == 200
    assert "以下党支部不属于“国库处党总支”：财政局办公室党支部。" in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_index_refuses_a_branch_of_another_subtree(client, tree, export_root, dummy_tasks):
    data = _post_data(tree, branches=[tree.branches["C"].pk])
    response = _client(client, tree, "staff_top").post(reverse("yearend:index"), data)
    assert response.status_code == 200
    assert ExportJob.objects.count() == 0


def test_index_starts_an_export_of_chosen_branches(client, tree, export_root, dummy_tasks):
    data = _post_data(tree, branches=[tree.branches["B"].pk])
    response = _client(client, tree, "staff_top").post(reverse("yearend:index"), data)
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert list(job.branches.all()) == [tree.branches["B"]]
    assert (job.all_branches, job.group_count, job.state) == (False, 1, ExportState.QUEUED)


def test_index_offers_years_up_to_the_current_one_as_a_draft(client, tree):
    html = _client(client, tree, "staff_top").get(reverse("yearend:index")).content.decode()
    this_year = dt.date.today().year
    assert f"{this_year}年（截至今日，草稿）" in html
    assert f'<option value="{this_year + 1}"' not in html
    assert f'value="{last_year()}" selected' in html


def test_index_wrong_method_is_405(client, tree):
    assert _client(client, tree, "staff_top").put(reverse("yearend:index")).status_code == 405


def test_index_list_keeps_a_flat_query_count(client, tree):
    client = _client(client, tree, "staff_top")
    _job(tree)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("yearend:index")).status_code == 200
    for _ in range(19):
        _job(tree)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(reverse("yearend:index"))
    assert response.content.decode().count("data-job-id=") == 20
    assert len(twenty) == len(one)


# --- A job's page, its status fragment, resume ---------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["yearend:detail", "yearend:status"])
def test_job_pages_matrix(client, tree, role, name):
    job = _job(tree)
    response = _client(client, tree, role).get(reverse(name, args=[job.pk]))
    if role == "anonymous":
        assert _login_redirect(response)
    elif role in SEES_TOP_JOB:
        assert response.status_code == 200
        assert 'id="export-status"' in response.content.decode()
    else:
        assert response.status_code == 404


def test_job_pages_bad_id_is_404(client, tree):
    client = _client(client, tree, "staff_top")
    assert client.get(reverse("yearend:detail", args=[999999])).status_code == 404
    assert client.get("/exports/abc/").status_code == 404


def test_status_fragment_polls_every_second_while_running(client, tree):
    job = _job(tree)
    response = _client(client, tree, "staff_top").get(
        reverse("yearend:status", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert f'hx-get="{reverse("yearend:status", args=[job.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html and 'hx-swap="outerHTML"' in html
    assert '<progress class="yearend-progress" max="100" value="' in html
    assert "年度工作报告" in html and "/ 3 份" in html
    assert "<script" not in html and "style=" not in html
    assert "下载汇总工作簿" not in html


def test_status_fragment_stops_polling_and_offers_downloads_when_done(client, tree, export_root):
    job = _done_job_with_files(tree, export_root)
    html = _client(client, tree, "staff_top").get(reverse("yearend:status", args=[job.pk])).content.decode()
    assert "hx-trigger" not in html
    assert 'value="100"' in html and "100%" in html
    assert reverse("yearend:download", args=[job.pk, "xlsx"]) in html
    assert reverse("yearend:download", args=[job.pk, "zip"]) in html


def test_status_fragment_offers_continue_when_interrupted(client, tree):
    job = _job(tree)
    age_heartbeats(job)
    html = _client(client, tree, "staff_top").get(reverse("yearend:status", args=[job.pk])).content.decode()
    assert "后台任务程序可能已重启或停止" in html
    assert reverse("yearend:resume", args=[job.pk]) in html and "继续导出" in html


def test_status_fragment_keeps_a_flat_query_count(client, tree):
    client = _client(client, tree, "staff_top")
    small = _job(tree)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("yearend:status", args=[small.pk]))
    big = _job(tree)
    ExportPart.objects.bulk_create(
        [ExportPart(job=big, index=10 + i, kind=PartKind.REPORTS, group_ids=[i]) for i in range(20)]
    )
    with CaptureQueriesContext(connection) as twenty:
        client.get(reverse("yearend:status", args=[big.pk]))
    assert len(twenty) == len(one)


@pytest.mark.parametrize("role", ROLES)
def test_resume_matrix(client, tree, role, dummy_tasks):
    job = _job(tree)
    age_heartbeats(job)
    response = _client(client, tree, role).post(reverse("yearend:resume", args=[job.pk]))
    attempts = sorted(job.parts.values_list("attempt", flat=True))
    if role == "anonymous":
        assert _login_redirect(response)
    elif role in SEES_TOP_JOB:
        assert response.status_code == 302
        assert attempts == [0, 1, 2]  # the running part queued again; the bundle still waits
        assert ExportJob.objects.get(pk=job.pk).resume_count == 1
        return
    else:
        assert response.status_code == 404
    assert attempts == [0, 1, 1]
    assert ExportJob.objects.get(pk=job.pk).resume_count == 0


def test_resume_of_a_progressing_job_is_refused_with_a_message(client, tree, dummy_tasks):
    job = _job(tree)
    client = _client(client, tree, "staff_top")
    response = client.post(reverse("yearend:resume", args=[job.pk]), follow=True)
    assert "该导出仍在正常进行中，无需继续；请稍候。" in response.content.decode()
    assert sorted(job.parts.values_list("attempt", flat=True)) == [0, 1, 1]


def test_resume_wrong_method_is_405(client, tree):
    job = _job(tree)
    assert _client(client, tree, "staff_top").get(reverse("yearend:resume", args=[job.pk])).status_code == 405


# --- Downloads ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["xlsx", "zip"])
def test_download_matrix(client, tree, export_root, role, kind):
    job = _done_job_with_files(tree, export_root)
    response = _client(client, tree, role).get(reverse("yearend:download", args=[job.pk, kind]))
    if role == "anonymous":
        assert _login_redirect(response)
    elif role in SEES_TOP_JOB:
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert b"".join(response.streaming_content) == (
            b"PK xlsx bytes" if kind == "xlsx" else b"PK zip bytes"
        )
        name = f"市直机关工委{last_year()}年度党小组工作{'汇总.xlsx' if kind == 'xlsx' else '报告.zip'}"
        assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
        from urllib.parse import unquote

        assert unquote(response["Content-Disposition"].split("''", 1)[1]) == name
    else:
        assert response.status_code == 404


def test_download_of_an_unfinished_job_or_unknown_kind_is_404(client, tree, export_root):
    client = _client(client, tree, "staff_top")
    running = _job(tree)
    assert client.get(reverse("yearend:download", args=[running.pk, "zip"])).status_code == 404
    done = _done_job_with_files(tree, export_root)
    assert client.get(reverse("yearend:download", args=[done.pk, "pdf"])).status_code == 404
    (job_directory(done) / "reports.zip").unlink()
    assert client.get(reverse("yearend:download", args=[done.pk, "zip"])).status_code == 404


def test_whole_export_through_the_pages(
    client, tree, export_root, fake_reports, django_capture_on_commit_callbacks
):
    client = _client(client, tree, "staff_top")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("yearend:index"), _post_data(tree))
    job = ExportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "已完成" in page and 'value="100"' in page
    bundle = client.get(reverse("yearend:download", args=[job.pk, "zip"]))
    content = b"".join(bundle.streaming_content)
    path = export_root / "check.zip"
    path.write_bytes(content)
    assert len(zip_names(path)) == 3


@pytest.mark.parametrize("name", ["yearend:detail", "yearend:status"])
def test_job_pages_wrong_method_is_405(client, tree, name):
    job = _job(tree)
    assert _client(client, tree, "staff_top").post(reverse(name, args=[job.pk])).status_code == 405


def test_download_wrong_method_is_405(client, tree, export_root):
    job = _done_job_with_files(tree, export_root)
    response = _client(client, tree, "staff_top").post(reverse("yearend:download", args=[job.pk, "zip"]))
    assert response.status_code == 405

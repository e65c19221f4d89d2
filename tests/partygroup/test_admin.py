"""Tests of partygroup/admin.py: the year-end export jobs read-only in the admin, for superusers and the
organisation staff who see a job (``export_jobs_visible_to``) only, with a flat changelist."""

# ruff: noqa: F811  (the fixtures imported from yearend_support are redefined as test arguments)

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partygroup.models import ExportJob, ExportPart
from partygroup.yearend.enums import ExportState, PartKind
from tests.org_tree import fresh_user
from tests.partygroup.yearend_support import last_year, tree  # noqa: F401  (fixtures)

# whitenoise warns when STATIC_ROOT has not been collected (tests never collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def url(view: str, *args) -> str:
    return reverse(f"admin:partygroup_exportjob_{view}", args=args)


def staff_user(tree, role: str):
    """The role's user as admin staff with every permission of the partygroup app."""
    user = fresh_user(tree, role)
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="partygroup"))
    return type(user).objects.get(pk=user.pk)


def _job(tree, organisation, *branch_keys) -> ExportJob:
    job = ExportJob.objects.create(
        organisation=organisation, year=last_year(), as_of=dt.date(last_year(), 12, 31)
    )
    job.branches.set([tree.branches[k] for k in branch_keys])
    ExportPart.objects.create(job=job, index=0, kind=PartKind.WORKBOOK)
    return job


@pytest.fixture
def jobs(tree) -> dict[str, ExportJob]:
    return {
        "top": _job(tree, tree.top, "A", "B"),
        "leaf": _job(tree, tree.leaf, "B"),
        "other": _job(tree, tree.other_root, "C"),
    }


def listed(client, **params) -> set[int]:
    response = client.get(url("changelist"), params)
    assert response.status_code == 200
    return {job.pk for job in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", {"top", "leaf", "other"}),
        ("staff_top", {"top", "leaf"}),
        ("staff_leaf", {"leaf"}),
        ("staff_other", {"other"}),
    ],
)
def test_export_jobs_listed_as_export_jobs_visible_to_shows_them(client, tree, jobs, role, expected):
    client.force_login(staff_user(tree, role))
    assert listed(client) == {jobs[name].pk for name in expected}


@pytest.mark.parametrize("role", ["secretary_a", "leader_a1", "member_a1"])
def test_export_jobs_hidden_from_branch_users_even_with_the_model_permission(client, tree, jobs, role):
    client.force_login(staff_user(tree, role))
    assert client.get(url("changelist")).status_code == 403
    assert client.get(url("change", jobs["top"].pk)).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert url("changelist") not in index.content.decode()


def test_job_of_a_branch_outside_the_staff_subtree_is_not_found(client, tree, jobs):
    client.force_login(staff_user(tree, "staff_leaf"))
    response = client.get(url("change", jobs["top"].pk))
    assert response.status_code == 302  # Django's admin: "does not exist", back to the index
    assert client.get(url("change", jobs["leaf"].pk)).status_code == 200


def test_export_jobs_filter_by_year_and_state_and_search_the_organisation(admin_client, tree, jobs):
    jobs["leaf"].state = ExportState.DONE
    jobs["leaf"].save()
    assert listed(admin_client, state__exact=ExportState.DONE) == {jobs["leaf"].pk}
    assert listed(admin_client, year=last_year()) == {job.pk for job in jobs.values()}
    assert listed(admin_client, year=last_year() - 1) == set()
    assert listed(admin_client, q=tree.other_root.name) == {jobs["other"].pk}


def test_export_jobs_cannot_be_added_changed_or_deleted_in_admin(admin_client, tree, jobs):
    job = jobs["top"]
    before = (ExportJob.objects.count(), ExportPart.objects.count(), job.year, job.state)
    assert admin_client.get(url("add")).status_code == 403
    response = admin_client.get(url("change", job.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="year"' not in html and 'name="_save"' not in html
    assert tree.branches["A"].name in html  # the job's branches, shown read-only
    assert admin_client.post(url("change", job.pk), {"year": "2001", "state": "done"}).status_code == 403
    assert admin_client.post(url("delete", job.pk), {"post": "yes"}).status_code == 403
    response = admin_client.post(
        url("changelist"), {"action": "delete_selected", "_selected_action": [job.pk], "post": "yes"}
    )
    assert response.status_code in {200, 302}
    job.refresh_from_db()
    assert (ExportJob.objects.count(), ExportPart.objects.count(), job.year, job.state) == before


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_export_job_changelist_query_count_flat(client, tree):
    client.force_login(staff_user(tree, "staff_mid"))
    _job(tree, tree.top, "A")
    one = _changelist_queries(client)
    for _ in range(19):
        _job(tree, tree.top, "A", "B")
    assert len(client.get(url("changelist")).context["cl"].result_list) == 20
    assert _changelist_queries(client) == one

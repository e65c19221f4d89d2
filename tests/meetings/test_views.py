"""Tests of meetings/views.py: a permission matrix for every page and action (R-11 … R-20), the
whole workflow clicked through the pages, the refusals shown as Chinese messages with nothing saved,
and flat query counts for the list and the detail page.

Roles (tests/conftest.py ``world``): the group's leader, the other group's leader (same branch), the
branch secretary (committee), organisation staff, a plain member of the group, the secretary of
another branch, and an anonymous visitor. Outside the user's scope → 404; visible but not the
role's business → 403; wrong method → 405; anonymous → redirect to the login page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.forms import CheckboxInput
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.enums import (
    Action,
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    MeetingKind,
    MeetingState,
    NoticeStatus,
)
from meetings.models import (
    ActionFollowUp,
    ActionItem,
    AnnualPlan,
    AnnualPlanItem,
    Attendance,
    EvaluationResult,
    LifeMeetingRecord,
    Meeting,
    MeetingAddendum,
    MeetingTransition,
    Minutes,
    Talk,
)
from meetings.selectors import roster_on
from tests import factories as f
from tests.meetings.factories import LIFE_RECORD, make_meeting

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
LOGIN = reverse("login")

ROLES = ("leader", "other_leader", "secretary", "org_staff", "member", "other_secretary", "anonymous")
USER_ATTR = {"member": "member_user"}


def login(client, world, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(getattr(world, USER_ATTR.get(role, role)))


def row_counts() -> dict[str, int]:
    """Rows of every model of the meetings app (historical models included)."""
    return {m.__name__: m._default_manager.count() for m in apps.get_app_config("meetings").get_models()}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client, response) -> list[str]:
    """The flash messages shown on the page a redirect leads to."""
    assert response.status_code == 302, response.status_code
    return messages_of(client.get(response["Location"]))


def transitions(meeting) -> list[tuple[str, str, str, str]]:
    return list(
        MeetingTransition.objects.filter(meeting=meeting)
        .order_by("at", "id")
        .values_list("action", "to_state", "by__username", "comment")
    )


def request_data(**overrides) -> dict[str, str]:
    data = {
        "kind": MeetingKind.GROUP_MEETING,
        "title": "学习贯彻党的二十大精神",
        "planned_date": (TODAY - 2 * DAY).isoformat(),
        "planned_start": "15:00",
        "planned_place": "三楼会议室",
        "agenda": "学习党的二十大报告\n研究落实支部工作安排",
        "request_note": "请支部审定。",
    }
    data.update(overrides)
    return data


# --- Building the minutes page's POST from what the page offers -----------------------------------


def _value(bound_field):
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _add_form(data: dict, form) -> None:
    for bound_field in form:
        if isinstance(bound_field.field.widget, CheckboxInput):
            if bound_field.value():
                data[bound_field.html_name] = "on"
            continue
        data[bound_field.html_name] = _value(bound_field)


def _add_formset(data: dict, formset) -> None:
    _add_form(data, formset.management_form)
    for form in formset.forms:
        _add_form(data, form)
        if getattr(form, "speeches", None) is not None:
            _add_formset(data, form.speeches)


def page_data(entry) -> dict[str, str]:
    """Exactly what the minutes page would post if the user changed nothing."""
    data: dict[str, str] = {}
    _add_form(data, entry.head)
    for formset in entry.formsets():
        _add_formset(data, formset)
    if entry.life is not None:
        _add_form(data, entry.life)
    return data


def roster_index(data: dict, member) -> int:
    for key, value in data.items():
        if key.startswith("att-") and key.endswith("-member") and value == str(member.pk):
            return int(key.split("-")[1])
    raise AssertionError(f"{member} not on the page's roster")


@dataclass
class MinutesInput:
    """A valid minutes POST for a notified meeting of ``world.group`` (the leader hosts)."""

    data: dict[str, str]
    recorder: object
    absentee: object
    extra: dict[str, str] = field(default_factory=dict)


def minutes_input(client, world, meeting, *, held_on: dt.date | None = None) -> MinutesInput:
    response = client.get(reverse("meetings:minutes", args=[meeting.pk]))
    assert response.status_code == 200
    data = page_data(response.context["entry"])
    roster = roster_on(world.group, held_on or meeting.planned_date)
    others = [m for m in roster if m != world.leader_member]
    recorder, absentee = others[0], others[-1]
    data.update(
        {
            "m-held_on": (held_on or meeting.planned_date).isoformat(),
            "m-half_day": "pm",
            "m-start_time": "15:00",
            "m-end_time": "16:30",
            "m-place": "三楼会议室",
            "m-recorder": str(recorder.pk),
            "m-opening": "应到4人，实到3人。",
            "m-chair_summary": "学习深入，讨论充分。",
            "agenda-0-record": "集体学习党的二十大报告。",
            "agenda-0-sp-0-speaker": str(recorder.pk),
            "agenda-0-sp-0-views": "结合岗位谈学习体会。",
            "obs-0-person_name": "赵建国",
            "obs-0-person_title": "副局长",
            "act-0-description": "撰写学习心得",
            "act-0-owner": str(recorder.pk),
            "act-0-due_on": (TODAY + 30 * DAY).isoformat(),
            "act-0-measures": "每人一篇",
            "act-0-agenda_number": "1",
        }
    )
    index = roster_index(data, absentee)
    data[f"att-{index}-role"] = AttendanceRole.ABSENT
    data[f"att-{index}-absence_reason"] = "出差"
    return MinutesInput(data=data, recorder=recorder, absentee=absentee)


# --- The permission matrix ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One page (or action) in one meeting state: the expected status for each role."""

    name: str
    url_name: str
    state: str | None  # the meeting's state; None: the page is about the group, not a meeting
    method: str
    expected: dict[str, int]
    kind: str = MeetingKind.GROUP_MEETING
    allowed_last: tuple[str, ...] = ()  # roles whose request changes data: asked after the others

    def __str__(self) -> str:
        return self.name


def statuses(**kwargs) -> dict[str, int]:
    base = {"anonymous": 302, **kwargs}  # anonymous: redirected to the login page
    assert set(base) == set(ROLES), set(ROLES) - set(base)
    return base


READ_ALL_LOGGED_IN = statuses(
    leader=200, other_leader=200, secretary=200, org_staff=200, member=200, other_secretary=200
)
METHOD_NOT_ALLOWED = statuses(
    leader=405, other_leader=405, secretary=405, org_staff=405, member=405, other_secretary=405
)
# A non-archived meeting of world.group: visible to its leader, the branch and the organisation.
VIEW_LIVE = statuses(
    leader=200, other_leader=404, secretary=200, org_staff=200, member=404, other_secretary=404
)
VIEW_ARCHIVED = statuses(
    leader=200, other_leader=404, secretary=200, org_staff=200, member=200, other_secretary=404
)
# The leader's pages of a live meeting: the committee and org staff see it but may not change it.
LEADER_LIVE_GET = statuses(
    leader=200, other_leader=404, secretary=403, org_staff=403, member=404, other_secretary=404
)
LEADER_LIVE_POST = {**LEADER_LIVE_GET, "leader": 302}
# A step only the leader takes (submit, notify, report, cancel).
LEADER_STEP = statuses(
    leader=302, other_leader=404, secretary=403, org_staff=403, member=404, other_secretary=404
)
# A step only the branch committee takes (approve, return, archive).
COMMITTEE_STEP = statuses(
    leader=403, other_leader=404, secretary=302, org_staff=403, member=404, other_secretary=404
)
# Group pages (request form, talks, plan editing): the group is visible to its member as well.
GROUP_LEADER_GET = statuses(
    leader=200, other_leader=404, secretary=403, org_staff=403, member=403, other_secretary=404
)
GROUP_LEADER_POST = {**GROUP_LEADER_GET, "leader": 302}

CASES = [
    Case("list GET", "meetings:list", None, "get", READ_ALL_LOGGED_IN),
    Case("list POST", "meetings:list", None, "post", METHOD_NOT_ALLOWED),
    Case(
        "create_choose GET",
        "meetings:create_choose",
        None,
        "get",
        statuses(leader=302, other_leader=302, secretary=403, org_staff=403, member=403, other_secretary=403),
    ),
    Case("create GET", "meetings:create", None, "get", GROUP_LEADER_GET),
    Case("create POST", "meetings:create", None, "post", GROUP_LEADER_POST, allowed_last=("leader",)),
    Case("detail GET submitted", "meetings:detail", MeetingState.SUBMITTED, "get", VIEW_LIVE),
    Case("detail GET archived", "meetings:detail", MeetingState.ARCHIVED, "get", VIEW_ARCHIVED),
    Case("detail POST", "meetings:detail", MeetingState.SUBMITTED, "post", METHOD_NOT_ALLOWED),
    Case("edit GET draft", "meetings:edit", MeetingState.DRAFT, "get", LEADER_LIVE_GET),
    Case(
        "edit POST draft",
        "meetings:edit",
        MeetingState.DRAFT,
        "post",
        LEADER_LIVE_POST,
        allowed_last=("leader",),
    ),
    Case(
        "edit GET archived",
        "meetings:edit",
        MeetingState.ARCHIVED,
        "get",
        statuses(leader=403, other_leader=404, secretary=403, org_staff=403, member=403, other_secretary=404),
    ),
    Case("minutes GET notified", "meetings:minutes", MeetingState.NOTIFIED, "get", LEADER_LIVE_GET),
    Case(
        "minutes POST notified",
        "meetings:minutes",
        MeetingState.NOTIFIED,
        "post",
        LEADER_LIVE_POST,
        allowed_last=("leader",),
    ),
    Case(
        "minutes POST archived",
        "meetings:minutes",
        MeetingState.ARCHIVED,
        "post",
        statuses(leader=403, other_leader=404, secretary=403, org_staff=403, member=403, other_secretary=404),
    ),
    Case("submit POST", "submit", MeetingState.DRAFT, "post", LEADER_STEP, allowed_last=("leader",)),
    Case("submit GET", "submit", MeetingState.DRAFT, "get", METHOD_NOT_ALLOWED),
    Case(
        "approve POST", "approve", MeetingState.SUBMITTED, "post", COMMITTEE_STEP, allowed_last=("secretary",)
    ),
    Case(
        "return POST", "return", MeetingState.SUBMITTED, "post", COMMITTEE_STEP, allowed_last=("secretary",)
    ),
    Case("notify POST", "notify", MeetingState.APPROVED, "post", LEADER_STEP, allowed_last=("leader",)),
    Case("hold POST", "hold", MeetingState.NOTIFIED, "post", LEADER_STEP, allowed_last=("leader",)),
    Case("report POST", "report", MeetingState.HELD, "post", LEADER_STEP, allowed_last=("leader",)),
    Case(
        "archive POST", "archive", MeetingState.REPORTED, "post", COMMITTEE_STEP, allowed_last=("secretary",)
    ),
    Case("cancel POST", "cancel", MeetingState.APPROVED, "post", LEADER_STEP, allowed_last=("leader",)),
    Case(
        "addendum GET archived",
        "meetings:addendum",
        MeetingState.ARCHIVED,
        "get",
        statuses(leader=200, other_leader=404, secretary=200, org_staff=403, member=403, other_secretary=404),
    ),
    Case(
        "addendum POST archived",
        "meetings:addendum",
        MeetingState.ARCHIVED,
        "post",
        statuses(leader=302, other_leader=404, secretary=302, org_staff=403, member=403, other_secretary=404),
        allowed_last=("leader", "secretary"),
    ),
    Case(
        "addendum GET submitted",
        "meetings:addendum",
        MeetingState.SUBMITTED,
        "get",
        statuses(leader=403, other_leader=404, secretary=403, org_staff=403, member=404, other_secretary=404),
    ),
    Case("pdf GET archived", "meetings:pdf", MeetingState.ARCHIVED, "get", VIEW_ARCHIVED),
    Case("pdf GET held", "meetings:pdf", MeetingState.HELD, "get", VIEW_LIVE),
    Case(
        "pdf GET submitted",
        "meetings:pdf",
        MeetingState.SUBMITTED,
        "get",
        statuses(leader=403, other_leader=404, secretary=403, org_staff=403, member=404, other_secretary=404),
    ),
    Case("pdf POST", "meetings:pdf", MeetingState.ARCHIVED, "post", METHOD_NOT_ALLOWED),
    Case("talks GET", "meetings:talks", None, "get", READ_ALL_LOGGED_IN),
    Case("talks POST", "meetings:talks", None, "post", METHOD_NOT_ALLOWED),
    Case("talk_create GET", "meetings:talk_create", None, "get", GROUP_LEADER_GET),
    Case(
        "talk_create POST", "meetings:talk_create", None, "post", GROUP_LEADER_POST, allowed_last=("leader",)
    ),
    Case(
        "plan GET",
        "meetings:plan",
        None,
        "get",
        statuses(leader=200, other_leader=404, secretary=200, org_staff=200, member=403, other_secretary=404),
    ),
    Case("plan POST", "meetings:plan", None, "post", METHOD_NOT_ALLOWED),
    Case(
        "plan_current GET",
        "meetings:plan_current",
        None,
        "get",
        statuses(leader=302, other_leader=404, secretary=302, org_staff=302, member=403, other_secretary=404),
    ),
    Case("plan_edit GET", "meetings:plan_edit", None, "get", GROUP_LEADER_GET),
    Case("plan_edit POST", "meetings:plan_edit", None, "post", GROUP_LEADER_POST, allowed_last=("leader",)),
]


def _target(client, world, case: Case):
    """The URL of the case and, for a POST, a payload the allowed role's request succeeds with."""
    group = world.group
    meeting = None
    if case.state is not None:
        held = case.state in {MeetingState.HELD, MeetingState.REPORTED, MeetingState.ARCHIVED}
        planned = TODAY - 10 * DAY if held or case.state == MeetingState.NOTIFIED else None
        meeting = make_meeting(group, world.leader, kind=case.kind, state=case.state, planned_date=planned)
    year = TODAY.year
    if not case.url_name.startswith("meetings:"):
        return reverse("meetings:action", args=[meeting.pk, case.url_name]), {"comment": "意见"}
    by_group = {
        "meetings:create": [group.pk],
        "meetings:talk_create": [group.pk],
        "meetings:plan": [group.pk, year],
        "meetings:plan_current": [group.pk],
        "meetings:plan_edit": [group.pk, year],
    }
    args = by_group.get(case.url_name, [meeting.pk] if meeting else [])
    url = reverse(case.url_name, args=args)
    payload: dict[str, str] = {}
    if case.method == "post":
        if case.url_name in {"meetings:create", "meetings:edit"}:
            payload = request_data()
        elif case.url_name == "meetings:minutes" and case.state == MeetingState.NOTIFIED:
            login(client, world, "leader")
            payload = minutes_input(client, world, meeting).data
        elif case.url_name == "meetings:minutes":
            payload = {"m-chair_summary": "改写已存档的记录"}
        elif case.url_name == "meetings:addendum":
            payload = {"text": "第二项议题的发言人更正为张三。", "reason": "记录笔误"}
        elif case.url_name == "meetings:talk_create":
            a, b = world.members[0], world.members[1]
            payload = {
                "talked_on": TODAY.isoformat(),
                "initiator": str(a.pk),
                "partner": str(b.pk),
                "topic": "工作思想交流",
                "summary": "谈了近期学习体会。",
            }
        elif case.url_name == "meetings:plan_edit":
            payload = {
                "summary": "全年安排",
                "meetings_per_year": "12",
                "items-TOTAL_FORMS": "1",
                "items-INITIAL_FORMS": "0",
                "items-0-month": "3",
                "items-0-kind": MeetingKind.GROUP_MEETING,
                "items-0-topic": "学习党章",
                "items-0-category": "study",
            }
    return url, payload


@pytest.mark.parametrize("case", CASES, ids=str)
def test_permission_matrix(world, client, case):
    """Each role gets the expected status; the refused roles change nothing (404/403/405/302-login)."""
    url, payload = _target(client, world, case)
    order = [r for r in ROLES if r not in case.allowed_last] + list(case.allowed_last)
    actual = {}
    for role in order:
        login(client, world, role)
        before = row_counts()
        response = client.post(url, payload) if case.method == "post" else client.get(url)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        if role not in case.allowed_last:
            assert row_counts() == before, role
    assert actual == case.expected


def test_unknown_action_is_404_and_changes_nothing(world, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    login(client, world, "secretary")
    before = row_counts()
    response = client.post(reverse("meetings:action", args=[meeting.pk, "delete"]), {})
    assert response.status_code == 404
    assert row_counts() == before


def test_missing_meeting_is_404(world, client):
    login(client, world, "leader")
    missing = (Meeting.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    for name in ("detail", "edit", "minutes", "addendum", "pdf"):
        assert client.get(reverse(f"meetings:{name}", args=[missing])).status_code == 404, name


def test_plan_year_out_of_range_is_404(world, client):
    login(client, world, "leader")
    assert client.get(reverse("meetings:plan", args=[world.group.pk, 1900])).status_code == 404
    assert client.get(reverse("meetings:plan_edit", args=[world.group.pk, 3000])).status_code == 404


# --- The whole workflow through the pages ---------------------------------------------------------


def test_group_meeting_workflow_through_the_pages(world, client):
    """R-11 request → approval → notice; R-14 minutes → held; R-13 report; R-12 archive; the PDF."""
    leader_member = world.leader_member
    reachable = world.members[1]
    reachable.email = "member@example.org"
    reachable.save()
    planned = TODAY - 2 * DAY

    login(client, world, "leader")
    response = client.post(reverse("meetings:create", args=[world.group.pk]), request_data())
    meeting = Meeting.objects.get()
    assert response["Location"] == reverse("meetings:detail", args=[meeting.pk])
    assert (meeting.state, meeting.group, meeting.planned_date, meeting.agenda_lines()) == (
        MeetingState.DRAFT,
        world.group,
        planned,
        ["学习党的二十大报告", "研究落实支部工作安排"],
    )
    detail = client.get(reverse("meetings:detail", args=[meeting.pk]))
    assert [a["action"] for a in detail.context["actions"]] == [Action.SUBMIT, Action.CANCEL]
    assert "向党支部请示" in str(detail.context["next_step"])

    client.post(reverse("meetings:action", args=[meeting.pk, "submit"]), {"comment": "请审定"})
    login(client, world, "secretary")
    detail = client.get(reverse("meetings:detail", args=[meeting.pk]))
    assert [a["action"] for a in detail.context["actions"]] == [Action.APPROVE, Action.RETURN]
    client.post(reverse("meetings:action", args=[meeting.pk, "approve"]), {"comment": "同意"})

    login(client, world, "leader")
    response = client.post(reverse("meetings:action", args=[meeting.pk, "notify"]))
    notice_text = follow_messages(client, response)
    roster = roster_on(world.group, planned)
    unreached = sorted(m.name for m in roster if m != reachable)
    assert [m.to for m in mail.outbox] == [["member@example.org"]]
    assert notice_text == [
        f"已通知全体党员：1人已发送电子邮件。以下{len(unreached)}人未能通过电子邮件通知，请组长另行通知："
        f"{'、'.join(unreached)}。"
    ]
    detail = client.get(reverse("meetings:detail", args=[meeting.pk]))
    assert sorted(r.member.name for r in detail.context["unreached"]) == unreached
    assert {r.status for r in detail.context["unreached"]} == {NoticeStatus.NO_EMAIL}

    minutes = minutes_input(client, world, meeting)
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), {**minutes.data, "mark_held": "1"})
    assert response.status_code == 302, response.context and response.context["service_errors"]
    meeting.refresh_from_db()
    assert (meeting.state, meeting.held_on) == (MeetingState.HELD, planned)
    saved = Minutes.objects.get(meeting=meeting)
    assert (saved.host, saved.recorder, saved.start_time, saved.end_time) == (
        leader_member,
        minutes.recorder,
        dt.time(15, 0),
        dt.time(16, 30),
    )
    assert {
        (a.display_name, a.role, a.absence_reason, a.person_title) for a in meeting.attendances.all()
    } == {
        *((m.name, AttendanceRole.PRESENT, "", "") for m in roster if m != minutes.absentee),
        (minutes.absentee.name, AttendanceRole.ABSENT, "出差", ""),
        ("赵建国", AttendanceRole.OBSERVER, "", "副局长"),
    }
    items = list(meeting.agenda_items.order_by("number"))
    assert [(i.number, i.title, i.record) for i in items] == [
        (1, "学习党的二十大报告", "集体学习党的二十大报告。"),
        (2, "研究落实支部工作安排", ""),
    ]
    assert [(s.order, s.speaker, s.views) for s in items[0].speeches.all()] == [
        (1, minutes.recorder, "结合岗位谈学习体会。")
    ]
    assert list(ActionItem.objects.values_list("description", "owner", "agenda_item", "status")) == [
        ("撰写学习心得", minutes.recorder.pk, items[0].pk, ActionItemStatus.OPEN)
    ]

    client.post(reverse("meetings:action", args=[meeting.pk, "report"]), {"comment": "已召开"})
    login(client, world, "secretary")
    client.post(reverse("meetings:action", args=[meeting.pk, "archive"]), {"comment": "存档备查"})
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.ARCHIVED
    assert meeting.archive_number == f"{planned.year}-{world.group.pk:05d}-001"
    assert transitions(meeting) == [
        (Action.SUBMIT, MeetingState.SUBMITTED, "leader", "请审定"),
        (Action.APPROVE, MeetingState.APPROVED, "secretary", "同意"),
        (Action.NOTIFY, MeetingState.NOTIFIED, "leader", ""),
        (Action.HOLD, MeetingState.HELD, "leader", ""),
        (Action.REPORT, MeetingState.REPORTED, "leader", "已召开"),
        (Action.ARCHIVE, MeetingState.ARCHIVED, "secretary", "存档备查"),
    ]
    detail = client.get(reverse("meetings:detail", args=[meeting.pk]))
    assert [(t.action_label, t.by.username, t.comment) for t in detail.context["transitions"]] == [
        ("向党支部请示", "leader", "请审定"),
        ("批准", "secretary", "同意"),
        ("通知全体党员", "leader", ""),
        ("记录召开情况", "leader", ""),
        ("上报党支部", "leader", "已召开"),
        ("存档", "secretary", "存档备查"),
    ]
    assert detail.context["actions"] == []
    assert detail.context["can_view_pdf"] and detail.context["can_add_addendum"]
    assert reverse("meetings:pdf", args=[meeting.pk]).encode() in detail.content

    for role in ("leader", "secretary", "member"):
        login(client, world, role)
        response = client.get(reverse("meetings:pdf", args=[meeting.pk]))
        assert response.status_code == 200, role
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
        assert (
            "%E5%85%9A%E5%B0%8F%E7%BB%84%E4%BC%9A%E8%AE%AE%E8%AE%B0%E5%BD%95"
            in response["Content-Disposition"]
        )
        assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("kind", [MeetingKind.LIFE_MEETING, MeetingKind.EVALUATION, MeetingKind.PARTY_DAY])
def test_minutes_page_holds_each_kind(world, client, kind):
    """Life meetings keep the R-18 steps, evaluations every member's R-19 result; all are marked held."""
    meeting = make_meeting(
        world.group, world.leader, kind=kind, state=MeetingState.NOTIFIED, planned_date=TODAY - DAY
    )
    login(client, world, "leader")
    minutes = minutes_input(client, world, meeting)
    data = minutes.data
    roster = roster_on(world.group, meeting.planned_date)
    if kind == MeetingKind.LIFE_MEETING:
        data.update({f"life-{name}": value for name, value in LIFE_RECORD.items()})
    if kind == MeetingKind.EVALUATION:
        for index, member in enumerate(roster):
            assert data[f"ev-{index}-member"] == str(member.pk)
            data[f"ev-{index}-self_evaluation"] = f"{member.name}的党性分析"
            data[f"ev-{index}-peer_result"] = EvaluationGrade.QUALIFIED
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), {**data, "mark_held": "1"})
    assert response.status_code == 302, response.context and response.context["service_errors"]
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD
    if kind == MeetingKind.LIFE_MEETING:
        record = LifeMeetingRecord.objects.get(meeting=meeting)
        assert {name: getattr(record, name) for name in LIFE_RECORD} == LIFE_RECORD
    if kind == MeetingKind.EVALUATION:
        assert set(EvaluationResult.objects.filter(meeting=meeting).values_list("member", "peer_result")) == {
            (m.pk, EvaluationGrade.QUALIFIED) for m in roster
        }


def test_life_meeting_marked_held_without_record_refused(world, client):
    """R-18: the life meeting's before/during/after record is required before it is held."""
    meeting = make_meeting(
        world.group,
        world.leader,
        kind=MeetingKind.LIFE_MEETING,
        state=MeetingState.NOTIFIED,
        planned_date=TODAY - DAY,
    )
    login(client, world, "leader")
    data = minutes_input(client, world, meeting).data
    before = row_counts()
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), {**data, "mark_held": "1"})
    assert response.status_code == 200
    assert response.context["service_errors"] == ["组织生活会须记录会前、会上、会后各环节（R-18）。"]
    assert row_counts() == before
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED


def test_return_with_comment_then_edit_and_resubmit(world, client):
    """R-11: the branch returns the request with its comment; the leader edits and asks again."""
    meeting = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    url = reverse("meetings:action", args=[meeting.pk, "return"])
    login(client, world, "secretary")
    before = row_counts()
    response = client.post(url, {"comment": "  "})
    assert follow_messages(client, response) == ["“退回修改”时必须填写意见。"]
    assert row_counts() == before
    response = client.post(url, {"comment": "请补充学习篇目"})
    assert follow_messages(client, response) == ["已退回修改，意见已告知党小组组长。"]
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.RETURNED

    login(client, world, "leader")
    detail = client.get(reverse("meetings:detail", args=[meeting.pk]))
    assert detail.context["last_return"].comment == "请补充学习篇目"
    assert "请补充学习篇目" in detail.content.decode()
    assert detail.context["can_edit_request"]
    agenda = "学习党的二十大报告\n学习《党章》第三章"
    response = client.post(reverse("meetings:edit", args=[meeting.pk]), request_data(agenda=agenda))
    assert response.status_code == 302
    client.post(reverse("meetings:action", args=[meeting.pk, "submit"]))
    meeting.refresh_from_db()
    assert (meeting.state, meeting.agenda) == (MeetingState.SUBMITTED, agenda)
    assert [t[:3] for t in transitions(meeting)] == [
        (Action.SUBMIT, MeetingState.SUBMITTED, "leader"),
        (Action.RETURN, MeetingState.RETURNED, "secretary"),
        (Action.SUBMIT, MeetingState.SUBMITTED, "leader"),
    ]


def test_action_htmx_answers_with_the_page_fragment(world, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    login(client, world, "secretary")
    response = client.post(
        reverse("meetings:action", args=[meeting.pk, "approve"]), {"comment": "同意"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="meeting-main">')
    assert "已批准会议内容。" in body and "<html" not in body
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.APPROVED


def test_refused_step_redirects_with_the_services_reason(world, client):
    """R-11: a submitted (not yet approved) meeting cannot be notified; the reason is shown."""
    meeting = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    login(client, world, "leader")
    before = row_counts()
    response = client.post(reverse("meetings:action", args=[meeting.pk, "notify"]))
    assert follow_messages(client, response) == [
        "会议当前状态为“已请示”，不能“通知全体党员”（仅限：已批准）。"
    ]
    assert row_counts() == before
    assert mail.outbox == []


def test_party_day_hold_without_approval_refused_r21(world, client):
    meeting = make_meeting(
        world.group, world.leader, kind=MeetingKind.PARTY_DAY, state=MeetingState.SUBMITTED
    )
    login(client, world, "leader")
    response = client.post(reverse("meetings:action", args=[meeting.pk, "hold"]))
    assert follow_messages(client, response) == [
        "主题党日须报党支部同意后方可开展，尚未批准的主题党日不能记录为已召开（R-21）。"
    ]
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SUBMITTED


# --- Refusals on the minutes page: Chinese message, input kept, nothing saved ---------------------


def _refused_minutes(client, world, mutate, *, mark_held=True, planned=None):
    meeting = make_meeting(
        world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=planned or TODAY - 2 * DAY
    )
    login(client, world, "leader")
    minutes = minutes_input(client, world, meeting)
    mutate(minutes)
    data = {**minutes.data, **({"mark_held": "1"} if mark_held else {})}
    before = row_counts()
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), data)
    assert response.status_code == 200
    assert row_counts() == before
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED
    assert not Minutes.objects.filter(meeting=meeting).exists()
    return response, minutes


def test_minutes_absentee_without_reason_refused(world, client):
    def mutate(m):
        m.data[f"att-{roster_index(m.data, m.absentee)}-absence_reason"] = ""

    response, minutes = _refused_minutes(client, world, mutate)
    assert response.context["service_errors"] == [
        f"缺席人员“{minutes.absentee.name}”必须注明缺席原因（R-14）。"
    ]
    assert "必须注明缺席原因" in response.content.decode()
    # The user's input is kept: the absentee is still marked absent, the summary still there.
    entry = response.context["entry"]
    index = roster_index(minutes.data, minutes.absentee)
    assert entry.roster.forms[index]["role"].value() == AttendanceRole.ABSENT
    assert entry.head["chair_summary"].value() == "学习深入，讨论充分。"
    assert "学习深入，讨论充分。" in response.content.decode()


def test_minutes_person_twice_refused(world, client):
    def mutate(m):
        m.data.update({"obs-1-person_name": "赵建国", "obs-1-person_title": "副局长", "obs-TOTAL_FORMS": "2"})

    response, _ = _refused_minutes(client, world, mutate)
    assert response.context["service_errors"] == ["“赵建国”在出席名单中出现了两次。"]


def test_minutes_observer_also_present_refused(world, client):
    def mutate(m):
        m.data.update({"obs-1-member": str(m.recorder.pk), "obs-TOTAL_FORMS": "2"})

    response, minutes = _refused_minutes(client, world, mutate)
    assert response.context["service_errors"] == [f"“{minutes.recorder.name}”不能既是参加人员又是列席人员。"]


def test_minutes_end_before_start_refused(world, client):
    def mutate(m):
        m.data.update({"m-start_time": "16:00", "m-end_time": "15:00"})

    response, _ = _refused_minutes(client, world, mutate, mark_held=False)
    assert response.context["service_errors"] == ["结束时间必须晚于开始时间。"]


def test_minutes_future_date_marked_held_refused(world, client):
    future = TODAY + 3 * DAY

    def mutate(m):
        m.data["m-held_on"] = future.isoformat()

    response, _ = _refused_minutes(client, world, mutate, planned=future)
    assert response.context["service_errors"] == [
        f"会议日期（{future:%Y-%m-%d}）在今天之后，不能标记为已召开。"
    ]


def test_minutes_every_refusal_at_once(world, client):
    """The service validates everything at once: all messages are shown together."""

    def mutate(m):
        m.data[f"att-{roster_index(m.data, m.absentee)}-absence_reason"] = ""
        m.data.update({"m-start_time": "16:00", "m-end_time": "15:00"})
        m.data.update({"obs-1-member": str(m.recorder.pk), "obs-TOTAL_FORMS": "2"})

    response, minutes = _refused_minutes(client, world, mutate)
    assert response.context["service_errors"] == [
        "结束时间必须晚于开始时间。",
        f"缺席人员“{minutes.absentee.name}”必须注明缺席原因（R-14）。",
        f"“{minutes.recorder.name}”不能既是参加人员又是列席人员。",
    ]


def test_minutes_form_errors_shown_without_calling_the_service(world, client):
    """A field the form itself rejects (a malformed time, a member not offered) saves nothing."""
    outsider = f.MemberFactory()  # another branch: not offered on the page

    def mutate(m):
        m.data.update({"m-end_time": "25:99", "act-0-owner": str(outsider.pk)})

    response, _ = _refused_minutes(client, world, mutate)
    entry = response.context["entry"]
    assert response.context["service_errors"] == []
    assert list(entry.head.errors) == ["end_time"]
    assert list(entry.actions.forms[0].errors) == ["owner"]
    assert "未保存：请改正下面标出的错误。" in response.content.decode()


def test_minutes_draft_saved_then_rewritten_with_follow_up(world, client):
    """R-16: an open decided matter of an earlier meeting is followed up in the next one."""
    earlier = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=TODAY - 40 * DAY)
    matter = ActionItem.objects.get(meeting=earlier)
    meeting = make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=TODAY - DAY)
    login(client, world, "leader")
    data = minutes_input(client, world, meeting).data
    assert data["fu-0-action_item"] == str(matter.pk)
    data.update(
        {"fu-0-note": "已完成并交流", "fu-0-status_after": "done", "fu-0-completed_on": TODAY.isoformat()}
    )
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), data)
    assert response.status_code == 302
    meeting.refresh_from_db()
    matter.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED  # a draft: not yet marked held
    assert (matter.status, matter.completed_on) == (ActionItemStatus.DONE, TODAY)
    assert list(ActionFollowUp.objects.values_list("action_item", "meeting", "note")) == [
        (matter.pk, meeting.pk, "已完成并交流")
    ]
    # The page shows what was saved, and saving it unchanged changes nothing but keeps it all.
    again = page_data(client.get(reverse("meetings:minutes", args=[meeting.pk])).context["entry"])
    assert again["fu-0-note"] == "已完成并交流"
    own = ActionItem.objects.get(meeting=meeting)
    assert again["act-0-item_id"] == str(own.pk)
    response = client.post(reverse("meetings:minutes", args=[meeting.pk]), {**again, "mark_held": "1"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD
    assert list(ActionItem.objects.filter(meeting=meeting).values_list("pk", flat=True)) == [own.pk]
    assert ActionFollowUp.objects.count() == 1


def test_minutes_page_refused_for_archived_meeting(world, client):
    """R-12: archived minutes are read-only — the pages answer 403 and nothing changes."""
    meeting = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    login(client, world, "leader")
    before = row_counts()
    assert client.get(reverse("meetings:minutes", args=[meeting.pk])).status_code == 403
    assert client.post(reverse("meetings:edit", args=[meeting.pk]), request_data()).status_code == 403
    assert (
        client.post(reverse("meetings:action", args=[meeting.pk, "cancel"]), {"comment": "x"}).status_code
        == 302
    )
    assert row_counts() == before
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.ARCHIVED


def test_minutes_page_before_notice_redirects_with_reason(world, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.APPROVED)
    login(client, world, "leader")
    response = client.get(reverse("meetings:minutes", args=[meeting.pk]))
    assert follow_messages(client, response) == [
        "会议当前状态为“已批准”，不能填写会议记录（会议须经党支部批准并通知全体党员，R-11）。"
    ]


def test_edit_after_submit_refused_with_message(world, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.SUBMITTED)
    login(client, world, "leader")
    before = row_counts()
    response = client.post(reverse("meetings:edit", args=[meeting.pk]), request_data(title="改过的标题"))
    assert response.status_code == 200
    assert [str(e) for e in response.context["form"].non_field_errors()] == [
        "会议当前状态为“已请示”，请示内容已提交，不能修改（仅草稿或退回时可修改）。"
    ]
    assert row_counts() == before
    assert client.get(reverse("meetings:edit", args=[meeting.pk])).status_code == 302


# --- The request form, addenda, talks, annual plan ------------------------------------------------


def test_create_prefills_agenda_from_plan_and_open_matters(world, client):
    """R-17 plan topics of the month and R-16 open decided matters are copied into the agenda."""
    earlier = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=TODAY - 40 * DAY)
    matter = ActionItem.objects.get(meeting=earlier)
    day = TODAY.replace(day=1)
    plan = AnnualPlan.objects.create(group=world.group, year=day.year, created_by=world.leader)
    AnnualPlanItem.objects.create(
        plan=plan, month=day.month, topic="学习党章第二章", kind=MeetingKind.PARTY_DAY
    )
    AnnualPlanItem.objects.create(plan=plan, month=day.month % 12 + 1, topic="下个月的主题")
    login(client, world, "leader")
    response = client.get(
        reverse("meetings:create", args=[world.group.pk]), {"planned_date": day.isoformat()}
    )
    initial = response.context["form"].initial
    assert initial["kind"] == MeetingKind.PARTY_DAY
    assert initial["agenda"].splitlines() == [
        "学习党章第二章",
        f"跟进议定事项：{matter.description}（责任人：{matter.owner.name}，时限：{matter.due_on}）",
    ]
    assert initial["planned_date"] == day


def test_create_refusal_keeps_input(world, client):
    login(client, world, "leader")
    before = row_counts()
    response = client.post(
        reverse("meetings:create", args=[world.group.pk]), request_data(agenda="  ", title="")
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"agenda", "title"}
    assert row_counts() == before
    assert "学习贯彻党的二十大精神" not in response.content.decode()  # the empty title stays empty
    assert "三楼会议室" in response.content.decode()


def test_addendum_added_to_archived_meeting(world, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    login(client, world, "secretary")
    response = client.post(
        reverse("meetings:addendum", args=[meeting.pk]), {"text": "更正", "reason": "笔误"}
    )
    assert follow_messages(client, response) == ["已添加补正记录（补正1）。"]
    assert list(
        MeetingAddendum.objects.values_list("meeting", "number", "text", "reason", "created_by__username")
    ) == [(meeting.pk, 1, "更正", "笔误", "secretary")]
    response = client.post(reverse("meetings:addendum", args=[meeting.pk]), {"text": "", "reason": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"text", "reason"}
    assert MeetingAddendum.objects.count() == 1


def test_talk_recorded_and_listed(world, client):
    a, b = world.members[0], world.members[2]
    login(client, world, "leader")
    payload = {
        "talked_on": TODAY.isoformat(),
        "initiator": str(a.pk),
        "partner": str(a.pk),
        "topic": "交流",
        "summary": "要点",
    }
    response = client.post(reverse("meetings:talk_create", args=[world.group.pk]), payload)
    assert response.status_code == 200
    assert [str(e) for e in response.context["form"].non_field_errors()] == ["谈心谈话须在两人之间进行。"]
    assert Talk.objects.count() == 0
    response = client.post(
        reverse("meetings:talk_create", args=[world.group.pk]), {**payload, "partner": str(b.pk)}
    )
    assert response.status_code == 302
    assert list(Talk.objects.values_list("group", "initiator", "partner", "topic")) == [
        (world.group.pk, a.pk, b.pk, "交流")
    ]
    listed = client.get(reverse("meetings:talks")).context["page"].object_list
    assert [(t.initiator, t.partner) for t in listed] == [(a, b)]
    login(client, world, "other_secretary")
    assert list(client.get(reverse("meetings:talks")).context["page"].object_list) == []


def test_annual_plan_saved_and_shown(world, client):
    """R-17: months, topics and kinds; rows without a topic are left out."""
    year = TODAY.year
    login(client, world, "leader")
    page = client.get(reverse("meetings:plan_edit", args=[world.group.pk, year]))
    data = {"summary": "全年计划", "meetings_per_year": "12"}
    _add_formset(data, page.context["items"])
    assert data["items-TOTAL_FORMS"] == "12"
    data.update(
        {"items-0-topic": "学习党章", "items-5-topic": "组织生活会", "items-5-kind": MeetingKind.LIFE_MEETING}
    )
    response = client.post(reverse("meetings:plan_edit", args=[world.group.pk, year]), data)
    assert response.status_code == 302
    plan = AnnualPlan.objects.get(group=world.group, year=year)
    assert list(plan.items.order_by("month").values_list("month", "topic", "kind")) == [
        (1, "学习党章", MeetingKind.GROUP_MEETING),
        (6, "组织生活会", MeetingKind.LIFE_MEETING),
    ]
    login(client, world, "secretary")
    months = client.get(reverse("meetings:plan", args=[world.group.pk, year])).context["months"]
    assert [(m["month"], [i.topic for i in m["items"]]) for m in months if m["items"]] == [
        (1, ["学习党章"]),
        (6, ["组织生活会"]),
    ]


def test_annual_plan_without_any_topic_refused(world, client):
    year = TODAY.year
    login(client, world, "leader")
    data = {"summary": "", "meetings_per_year": "12"}
    _add_formset(
        data, client.get(reverse("meetings:plan_edit", args=[world.group.pk, year])).context["items"]
    )
    response = client.post(reverse("meetings:plan_edit", args=[world.group.pk, year]), data)
    assert response.status_code == 200
    assert response.context["service_errors"] == ["年度计划至少应有一项安排。"]
    assert AnnualPlan.objects.count() == 0


# --- The list: scope, filters, flat query count ---------------------------------------------------


def test_list_shows_only_the_users_scope_and_filters(world, client):
    archived = make_meeting(
        world.group, world.leader, state=MeetingState.ARCHIVED, held_on=dt.date(TODAY.year - 1, 5, 1)
    )
    draft = make_meeting(world.group, world.leader, state=MeetingState.DRAFT, kind=MeetingKind.PARTY_DAY)
    other = make_meeting(world.other_group, world.other_leader, state=MeetingState.SUBMITTED)

    def listed(role, **params):
        login(client, world, role)
        return {m.pk for m in client.get(reverse("meetings:list"), params).context["page"].object_list}

    assert listed("leader") == {archived.pk, draft.pk}
    assert listed("other_leader") == {other.pk}
    assert listed("secretary") == {archived.pk, draft.pk, other.pk}
    assert listed("org_staff") == {archived.pk, draft.pk, other.pk}
    assert listed("member") == {archived.pk}
    assert listed("other_secretary") == set()
    assert listed("secretary", group=world.other_group.pk) == {other.pk}
    assert listed("secretary", kind=MeetingKind.PARTY_DAY) == {draft.pk}
    assert listed("secretary", state=MeetingState.ARCHIVED) == {archived.pk}
    assert listed("secretary", year=TODAY.year - 1) == {archived.pk}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_flat(world, client):
    make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    login(client, world, "secretary")
    url = reverse("meetings:list")
    client.get(url)  # warm the session
    one = _queries(client, url)
    for _ in range(19):
        make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    assert Meeting.objects.count() == 20
    assert _queries(client, url) == one


def test_detail_query_count_flat(world, client):
    """1 vs 20 attendance rows (and their speeches): the same number of queries."""
    small = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    observers = tuple(f.MemberFactory(branch=world.branch) for _ in range(19))
    large = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, observer_members=observers)
    rows_small = Attendance.objects.filter(meeting=small).count()
    rows_large = Attendance.objects.filter(meeting=large).count()
    assert rows_large - rows_small == 19
    login(client, world, "secretary")
    client.get(reverse("meetings:detail", args=[small.pk]))
    assert _queries(client, reverse("meetings:detail", args=[small.pk])) == _queries(
        client, reverse("meetings:detail", args=[large.pk])
    )


def test_detail_shows_minutes_summary_and_decided_matters(world, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.REPORTED)
    login(client, world, "secretary")
    response = client.get(reverse("meetings:detail", args=[meeting.pk]))
    body = response.content.decode()
    ctx = response.context
    assert [a.display_name for a in ctx["observers"]] == ["赵建国"]
    assert [(a.display_name, a.absence_reason) for a in ctx["absent"]] == [
        (a.member.name, "出差") for a in meeting.attendances.filter(role=AttendanceRole.ABSENT)
    ]
    assert [i.title for i in ctx["agenda_items"]] == ["学习党的二十大精神", "研究落实支部年度工作安排"]
    assert [a.description for a in ctx["action_items"]] == ["整理学习心得，下次党小组会交流"]
    for text in (
        "赵建国（副局长）",
        "出差",
        "议题1：学习党的二十大精神",
        "整理学习心得，下次党小组会交流",
        "存档",
    ):
        assert text in body, text
    assert [a["action"] for a in ctx["actions"]] == [Action.ARCHIVE]

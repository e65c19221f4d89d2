"""Tests of meetings/workspace.py: the group leader's workspace (R-27).

- a permission matrix for every page and action (superuser, the group's leader and deputy, the
  other group's leader, the branch secretary, organisation staff of the subtree and of another
  organisation, a plain member of the group, another branch's secretary, anonymous): outside the
  user's scope 404, visible but not led 403, wrong method 405, anonymous → login; refused requests
  change nothing;
- the next-step card for every state of this month's group meeting (R-10 … R-13), the other
  unfinished meetings with theirs;
- the new month's agenda copied from the annual plan (R-17) and the open decided matters (R-16);
- the year at a glance (R-10), open matters with overdue ones marked and the link into the next
  minutes (R-16), members due a talk with the link to record it (R-20), the plan status (R-17),
  the group's findings only (R-03, R-04, R-10, R-17 … R-20);
- a flat query count with 1 and with 20 open matters and members;
- the month logged in no more than six page loads after the branch's approval (R-11 … R-13).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.enums import LeaderRole
from meetings import services, workspace
from meetings.enums import Action, AttendanceRole, MeetingKind, MeetingState
from meetings.models import ActionItem, Meeting, MeetingNotice, MeetingTransition, Minutes
from meetings.selectors import roster_on
from tests import factories as f
from tests.meetings.factories import make_meeting, minutes_kwargs

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
LOGIN = reverse("login")
LAST_MONTH = TODAY.replace(day=1) - 5 * DAY  # a day of the previous month


# --- Reading a page as a browser does -------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)
    form_id: str = ""
    hx_post: str = ""

    def data(self, button_text: str, **changes: str) -> dict[str, str]:
        """What the browser sends when the button labelled ``button_text`` is pressed after the user
        typed ``changes`` (field name → value)."""
        buttons = [b for b in self.buttons if b[2] == button_text]
        assert len(buttons) == 1, (button_text, self.buttons)
        data = dict(self.fields)
        unknown = set(changes) - set(data)
        assert not unknown, f"the page has no fields {unknown}"
        data.update(changes)
        name, value, _text = buttons[0]
        if name:
            data[name] = value
        return data


class Page(HTMLParser):
    """The forms and links of an HTML page as a browser sees them: the fields a form sends (inputs,
    checked radio buttons and checkboxes, the selected option, textareas) and its buttons. What is
    inside a ``<template>`` (rows that JavaScript adds) belongs to no form."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []
        self._form: Form | None = None
        self._template = 0
        self._select: dict | None = None
        self._textarea: dict | None = None
        self._text: dict | None = None  # the <a> or <button> whose text is being read
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if tag == "a" and "href" in a:
            self._text = {"kind": "a", "href": a["href"], "text": ""}
        elif tag == "form":
            self._form = Form(
                action=a.get("action", ""),
                method=a.get("method", "get").lower(),
                form_id=a.get("id", ""),
                hx_post=a.get("hx-post", ""),
            )
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind, name = a.get("type", "text").lower(), a.get("name")
            if not name:
                return
            if kind in {"radio", "checkbox"}:
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            elif kind in {"submit", "button", "image", "reset"}:
                self._form.buttons.append((name, a.get("value", ""), a.get("value", "")))
            else:
                self._form.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = {"name": a.get("name"), "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            if self._select["first"] is None:
                self._select["first"] = a.get("value", "")
            if "selected" in a:
                self._select["selected"] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = {"name": a.get("name"), "text": ""}
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._text = {
                "kind": "button",
                "name": a.get("name", ""),
                "value": a.get("value", ""),
                "text": "",
            }

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
            return
        if self._template:
            return
        if tag == "a" and self._text and self._text["kind"] == "a":
            self.links.append((self._text["href"], " ".join(self._text["text"].split())))
            self._text = None
        elif tag == "button" and self._text and self._text["kind"] == "button" and self._form:
            text = " ".join(self._text["text"].split())
            self._form.buttons.append((self._text["name"], self._text["value"], text))
            self._text = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = (
                self._select["selected"] if self._select["selected"] is not None else self._select["first"]
            )
            if self._select["name"]:
                self._form.fields.append((self._select["name"], chosen or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = self._textarea["text"]
            self._form.fields.append((self._textarea["name"], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._template:
            return
        if self._textarea is not None:
            self._textarea["text"] += data
        if self._text is not None:
            self._text["text"] += data

    def form(self, *, action: str | None = None, form_id: str | None = None) -> Form:
        found = [
            form
            for form in self.forms
            if (action is None or form.action == action) and (form_id is None or form.form_id == form_id)
        ]
        assert len(found) == 1, (action, form_id, [(x.action, x.form_id) for x in self.forms])
        return found[0]

    def link(self, text: str) -> str:
        found = [href for href, label in self.links if label == text]
        assert len(found) == 1, (text, self.links)
        return found[0]

    def button_forms(self) -> dict[str, str]:
        """Button label → the action of its form (POST forms only)."""
        return {b[2]: form.action for form in self.forms if form.method == "post" for b in form.buttons}


def page(response) -> Page:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/html")
    return Page(response.content.decode())


# --- People ---------------------------------------------------------------------------------------

ROLES = (
    "superuser",
    "leader",
    "deputy",
    "other_leader",
    "secretary",
    "org_staff",
    "other_org_staff",
    "member",
    "other_secretary",
    "anonymous",
)


@pytest.fixture
def people(world) -> dict[str, object]:
    deputy_member = world.members[2]
    f.LeaderAppointmentFactory(group=world.group, member=deputy_member, role=LeaderRole.DEPUTY)
    root = f.UserFactory(username="root")
    root.is_superuser = True
    root.save()
    return {
        "superuser": root,
        "leader": world.leader,
        "deputy": f.user_for(deputy_member, "deputy"),
        "other_leader": world.other_leader,
        "secretary": world.secretary,
        "org_staff": world.org_staff,
        "other_org_staff": f.OrganisationStaffFactory(organisation=world.other_branch.organisation).user,
        "member": world.member_user,
        "other_secretary": world.other_secretary,
        "anonymous": AnonymousUser(),
    }


def login(client, people, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(people[role])


def row_counts() -> dict[str, int]:
    """Rows of every model of the meetings app (historical models included)."""
    return {m.__name__: m._default_manager.count() for m in apps.get_app_config("meetings").get_models()}


def statuses(**kwargs) -> dict[str, int]:
    base = {"anonymous": 302, **kwargs}
    assert set(base) == set(ROLES), set(ROLES) ^ set(base)
    return base


def method_not_allowed() -> dict[str, int]:
    return statuses(**{role: 405 for role in ROLES if role != "anonymous"})


# --- The permission matrix ------------------------------------------------------------------------

HOME = statuses(
    superuser=403,
    leader=200,
    deputy=200,
    other_leader=200,  # their own group's workspace
    secretary=403,
    org_staff=403,
    other_org_staff=403,
    member=403,
    other_secretary=403,
)
GROUP = statuses(
    superuser=200,
    leader=200,
    deputy=200,
    other_leader=404,
    secretary=403,
    org_staff=403,
    other_org_staff=404,
    member=403,
    other_secretary=404,
)
# A leader's step on a meeting that is not archived: only the group's leaders (and the superuser)
# see it among the people who could press the button; the member sees archived meetings only.
MEETING_STEP = statuses(
    superuser=200,
    leader=200,
    deputy=200,
    other_leader=404,
    secretary=403,
    org_staff=403,
    other_org_staff=404,
    member=404,
    other_secretary=404,
)
NOT_A_BUTTON = statuses(**{role: 404 for role in ROLES if role != "anonymous"})
ALLOWED = ("leader", "deputy", "superuser")  # asked last, the leader first: the leader takes the step


@dataclass(frozen=True)
class Case:
    name: str
    url_name: str
    method: str
    expected: dict[str, int]
    state: str | None = None  # the meeting's state (None: a page of the group)
    action: str | None = None

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("home GET", "workspace:home", "get", HOME),
    Case("home POST", "workspace:home", "post", method_not_allowed()),
    Case("group GET", "workspace:group", "get", GROUP),
    Case("group POST", "workspace:group", "post", method_not_allowed()),
    Case(
        "create POST",
        "workspace:create",
        "post",
        {**GROUP, "superuser": 302, "leader": 302, "deputy": 302},
    ),
    Case("create GET", "workspace:create", "get", method_not_allowed()),
    Case("submit POST", "workspace:action", "post", MEETING_STEP, MeetingState.DRAFT, Action.SUBMIT),
    Case("notify POST", "workspace:action", "post", MEETING_STEP, MeetingState.APPROVED, Action.NOTIFY),
    Case("report POST", "workspace:action", "post", MEETING_STEP, MeetingState.HELD, Action.REPORT),
    Case("notify GET", "workspace:action", "get", method_not_allowed(), MeetingState.APPROVED, Action.NOTIFY),
    Case("approve POST", "workspace:action", "post", NOT_A_BUTTON, MeetingState.SUBMITTED, Action.APPROVE),
    Case("hold POST", "workspace:action", "post", NOT_A_BUTTON, MeetingState.NOTIFIED, Action.HOLD),
    Case("cancel POST", "workspace:action", "post", NOT_A_BUTTON, MeetingState.APPROVED, Action.CANCEL),
    Case("minutes GET", "workspace:minutes", "get", MEETING_STEP, MeetingState.NOTIFIED),
    Case("minutes POST", "workspace:minutes", "post", MEETING_STEP, MeetingState.NOTIFIED),
    Case(
        "minutes PUT",
        "workspace:minutes",
        "put",
        method_not_allowed(),
        MeetingState.NOTIFIED,
    ),
]
EXPECTED_STATE = {  # what the leader's successful step leaves behind
    Action.SUBMIT: MeetingState.SUBMITTED,
    Action.NOTIFY: MeetingState.NOTIFIED,
    Action.REPORT: MeetingState.REPORTED,
}


def fill_minutes(minutes_page: Page, world, meeting) -> dict[str, str]:
    """The minutes page's form as the leader fills it in: the roster is prefilled (all present),
    the agenda items come from the request; the leader adds the end time, the recorder, one
    absentee with a reason and the chair's summary, and presses "保存并标记为已召开"."""
    form = minutes_page.form(form_id="minutes-form")
    roster = roster_on(world.group, meeting.planned_date)
    others = [m for m in roster if m != world.leader_member]
    recorder, absentee = others[0], others[-1]
    index = next(
        name.split("-")[1]
        for name, value in form.fields
        if name.startswith("att-") and name.endswith("-member") and value == str(absentee.pk)
    )
    return form.data(
        "保存并标记为已召开",
        **{
            "m-end_time": "16:30",
            "m-recorder": str(recorder.pk),
            "m-chair_summary": "学习深入，讨论充分，会后抓好落实。",
            f"att-{index}-role": AttendanceRole.ABSENT,
            f"att-{index}-absence_reason": "出差",
        },
    )


def minutes_post(client, people, world, meeting) -> dict[str, str]:
    login(client, people, "leader")
    return fill_minutes(page(client.get(reverse("workspace:minutes", args=[meeting.pk]))), world, meeting)


def _target(client, people, world, case: Case) -> tuple[str, dict[str, str], Meeting | None]:
    meeting = None
    if case.state is not None:
        held = case.state in {MeetingState.HELD, MeetingState.REPORTED, MeetingState.ARCHIVED}
        meeting = make_meeting(
            world.group, world.leader, state=case.state, planned_date=TODAY - DAY if held else TODAY
        )
    payload: dict[str, str] = {}
    if case.url_name == "workspace:home":
        url = reverse(case.url_name)
    elif case.url_name in {"workspace:group", "workspace:create"}:
        url = reverse(case.url_name, args=[world.group.pk])
        if case.url_name == "workspace:create":
            payload = {
                "kind": MeetingKind.GROUP_MEETING,
                "title": "本月党小组会",
                "planned_date": TODAY.isoformat(),
                "planned_place": "三楼会议室",
                "agenda": "学习党章",
            }
    elif case.url_name == "workspace:action":
        url = reverse(case.url_name, args=[meeting.pk, case.action])
    else:
        url = reverse(case.url_name, args=[meeting.pk])
        if case.method == "post":
            payload = minutes_post(client, people, world, meeting)
    return url, payload, meeting


@pytest.mark.parametrize("case", CASES, ids=str)
def test_permission_matrix(world, people, client, case):
    """Each role gets the expected status; the refused ones change nothing; the leader's allowed
    request does what it says (the deputy and the superuser, asked after it, may do the same)."""
    url, payload, meeting = _target(client, people, world, case)
    allowed = [r for r in ALLOWED if case.expected[r] in {200, 302} and case.method != "get"]
    order = [r for r in ROLES if r not in allowed] + allowed
    actual = {}
    for role in order:
        login(client, people, role)
        before = row_counts()
        response = getattr(client, case.method)(url, payload)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        if role == "leader" and role in allowed:
            assert row_counts() != before
        if role not in allowed:
            assert row_counts() == before, role
    assert actual == case.expected
    if case.action in EXPECTED_STATE and case.method == "post":
        meeting.refresh_from_db()
        assert meeting.state == EXPECTED_STATE[case.action]
        assert MeetingTransition.objects.filter(meeting=meeting).last().by == people["leader"]
    if case.url_name == "workspace:minutes" and case.method == "post":
        meeting.refresh_from_db()
        hold = MeetingTransition.objects.get(meeting=meeting, action=Action.HOLD)
        assert (meeting.state, hold.by) == (MeetingState.HELD, people["leader"])
    if case.url_name == "workspace:create" and case.method == "post":
        created = Meeting.objects.order_by("pk")
        assert [(m.state, m.agenda, m.created_by) for m in created] == [
            (MeetingState.DRAFT, "学习党章", people[role]) for role in allowed
        ]


def test_missing_objects_are_404(world, people, client):
    login(client, people, "leader")
    missing = (Meeting.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    assert client.get(reverse("workspace:group", args=[world.group.pk + 1000])).status_code == 404
    assert client.post(reverse("workspace:create", args=[world.group.pk + 1000])).status_code == 404
    assert client.get(reverse("workspace:minutes", args=[missing])).status_code == 404
    assert client.post(reverse("workspace:action", args=[missing, Action.NOTIFY])).status_code == 404


def test_home_of_a_leader_of_two_groups_offers_the_choice(world, people, client):
    second = f.PartyGroupFactory(branch=world.branch, name="第三党小组")
    f.LeaderAppointmentFactory(group=second, member=world.leader_member, role=LeaderRole.DEPUTY)
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    assert response.templates[0].name == "workspace/choose.html"
    links = page(response).links
    assert {href for href, _text in links if href.startswith("/workspace/groups/")} == {
        reverse("workspace:group", args=[g.pk]) for g in (world.group, second)
    }
    group_page = client.get(reverse("workspace:group", args=[second.pk]))
    assert group_page.context["group"] == second
    assert {g.pk for g in group_page.context["groups"]} == {world.group.pk, second.pk}
    switch = {href for href, _text in page(group_page).links if href.startswith("/workspace/groups/")}
    assert switch == {reverse("workspace:group", args=[g.pk]) for g in (world.group, second)}


def test_home_refuses_a_non_leader_with_a_chinese_reason(world, people, client):
    login(client, people, "secretary")
    response = client.get(reverse("workspace:home"))
    assert response.status_code == 403


# --- The next step, by state ----------------------------------------------------------------------

CARD_STEPS = [
    # state, label, how the step is taken: ("post", action) / ("link", url name) / ("wait", None)
    (MeetingState.DRAFT, "提交请示", "post", Action.SUBMIT),
    (MeetingState.RETURNED, "提交请示", "post", Action.SUBMIT),
    (MeetingState.SUBMITTED, "等待支部批准", "wait", None),
    (MeetingState.APPROVED, "通知全体党员", "post", Action.NOTIFY),
    (MeetingState.NOTIFIED, "填写会议记录", "link", "workspace:minutes"),
    (MeetingState.HELD, "上报党支部", "post", Action.REPORT),
    (MeetingState.REPORTED, "等待支部存档", "wait", None),
    (MeetingState.ARCHIVED, "下载PDF", "link", "meetings:pdf"),
]


@pytest.mark.parametrize(("state", "label", "how", "target"), CARD_STEPS, ids=[s[0] for s in CARD_STEPS])
def test_card_shows_the_next_step_of_this_months_meeting(world, people, client, state, label, how, target):
    """R-10 … R-13: this month's group meeting, its state and the one button (or link) of its next step."""
    meeting = make_meeting(world.group, world.leader, state=state, planned_date=TODAY)
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    current = response.context["current"]
    assert (current["meeting"], str(current["step"].label)) == (meeting, label)
    assert response.context["others"] == []
    html = page(response)
    buttons = html.button_forms()
    if how == "post":
        assert buttons[label] == reverse("workspace:action", args=[meeting.pk, target])
    else:
        assert label not in buttons
    if how == "link":
        assert html.link(label) == reverse(target, args=[meeting.pk])
    if how == "wait":
        assert label not in {text for _href, text in html.links}
        assert f'role="status">{label}</span>' in response.content.decode()
    if state == MeetingState.RETURNED:
        assert current["returned"].comment == "请补充学习篇目"
        assert (
            "党支部退回意见：" in response.content.decode() and "请补充学习篇目" in response.content.decode()
        )
        assert html.link("修改请示内容") == reverse("meetings:edit", args=[meeting.pk])
    else:
        assert current["returned"] is None


def test_card_without_a_meeting_offers_this_months_request(world, people, client):
    """No group meeting this month (R-10): "新建本月党小组会" with the request's form in the card."""
    make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=LAST_MONTH)
    make_meeting(world.group, world.leader, state=MeetingState.CANCELLED, planned_date=TODAY)
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    assert response.context["current"] is None
    form = page(response).form(action=reverse("workspace:create", args=[world.group.pk]))
    assert [b[2] for b in form.buttons] == ["新建本月党小组会"]
    fields = dict(form.fields)
    assert (fields["kind"], fields["planned_date"], fields["title"]) == (
        MeetingKind.GROUP_MEETING,
        TODAY.isoformat(),
        f"{TODAY.year}年{TODAY.month}月党小组会",
    )


def test_other_unfinished_meetings_listed_with_their_next_step(world, people, client):
    """Last month's meeting not yet reported, a life meeting and a themed party day: each with its step."""
    late = make_meeting(world.group, world.leader, state=MeetingState.HELD, held_on=LAST_MONTH)
    life = make_meeting(
        world.group,
        world.leader,
        kind=MeetingKind.LIFE_MEETING,
        state=MeetingState.APPROVED,
        planned_date=TODAY,
    )
    day = make_meeting(world.group, world.leader, kind=MeetingKind.PARTY_DAY, state=MeetingState.DRAFT)
    make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=LAST_MONTH - 40 * DAY)
    make_meeting(world.other_group, world.other_leader, state=MeetingState.DRAFT)
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    assert response.context["current"] is None
    assert [(e["meeting"], str(e["step"].label)) for e in response.context["others"]] == sorted(
        [(late, "上报党支部"), (life, "通知全体党员"), (day, "提交请示")],
        key=lambda pair: (pair[0].planned_date, pair[0].pk),
    )
    forms = {form.action: [b[2] for b in form.buttons] for form in page(response).forms}
    assert forms[reverse("workspace:action", args=[late.pk, Action.REPORT])] == ["上报党支部"]
    assert forms[reverse("workspace:action", args=[life.pk, Action.NOTIFY])] == ["通知全体党员"]
    assert forms[reverse("workspace:action", args=[day.pk, Action.SUBMIT])] == ["提交请示"]


def test_step_button_takes_the_step_and_answers_with_the_workspace(world, people, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.DRAFT, planned_date=TODAY)
    login(client, people, "deputy")
    response = client.post(reverse("workspace:action", args=[meeting.pk, Action.SUBMIT]))
    assert response.templates[0].name == "workspace/home.html"
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SUBMITTED
    assert str(response.context["current"]["step"].label) == "等待支部批准"
    assert [str(m) for m in response.context["messages"]] == ["已向党支部请示。"]


def test_refused_step_shows_the_services_reason_and_changes_nothing(world, people, client):
    """A repeated POST (a reload of the answer): refused with the reason, nothing is done twice."""
    meeting = make_meeting(world.group, world.leader, state=MeetingState.APPROVED, planned_date=TODAY)
    login(client, people, "leader")
    url = reverse("workspace:action", args=[meeting.pk, Action.NOTIFY])
    client.post(url)
    before = row_counts()
    response = client.post(url)
    assert response.status_code == 200
    assert row_counts() == before
    assert MeetingNotice.objects.filter(meeting=meeting).count() == 1
    assert [str(m) for m in response.context["messages"]] == [
        "会议当前状态为“已通知”，不能“通知全体党员”（仅限：已批准）。"
    ]


def test_htmx_step_answers_with_the_main_part_only(world, people, client):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.HELD, held_on=TODAY)
    login(client, people, "leader")
    response = client.post(
        reverse("workspace:action", args=[meeting.pk, Action.REPORT]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.templates[0].name == "workspace/_main.html"
    assert body.lstrip().startswith('<div id="workspace-main"') and "<html" not in body
    assert "已向党支部上报会议情况。" in body
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.REPORTED


# --- The new month's request: agenda from the plan and open decided matters (R-16) ----------


def _plan(world, *items: tuple[int, str, str]) -> None:
    services.annual_plan_save(
        group=world.group,
        year=TODAY.year,
        items=[services.PlanItemInput(month=m, topic=t, kind=k) for m, t, k in items],
        by=world.leader,
    )


def _agenda(client) -> str:
    response = client.get(reverse("workspace:home"))
    return dict(
        page(response).form(action=reverse("workspace:create", args=[response.context["group"].pk])).fields
    )["agenda"]


def test_new_request_agenda_copied_from_this_months_plan_item(world, people, client):
    other_month = TODAY.month % 12 + 1
    _plan(
        world,
        (TODAY.month, "学习党章第一章", MeetingKind.GROUP_MEETING),
        (other_month, "别的月份", "group_meeting"),
    )
    login(client, people, "leader")
    assert _agenda(client) == "学习党章第一章"


def test_new_request_agenda_copied_from_last_months_open_matters(world, people, client):
    held = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=LAST_MONTH)
    item = ActionItem.objects.get(meeting=held)
    login(client, people, "leader")
    assert _agenda(client) == (
        f"跟进议定事项：整理学习心得，下次党小组会交流（责任人：{item.owner.name}，时限：{item.due_on}）"
    )


def test_new_request_agenda_from_plan_and_open_matters_then_saved(world, people, client):
    """Both sources, the plan first; the card's form saves the draft and the card moves to 提交请示."""
    _plan(world, (TODAY.month, "学习党章第一章", MeetingKind.GROUP_MEETING))
    held = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=LAST_MONTH)
    item = ActionItem.objects.get(meeting=held)
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    form = page(response).form(action=reverse("workspace:create", args=[world.group.pk]))
    data = form.data("新建本月党小组会", planned_place="三楼会议室")
    assert data["agenda"].splitlines() == [
        "学习党章第一章",
        f"跟进议定事项：整理学习心得，下次党小组会交流（责任人：{item.owner.name}，时限：{item.due_on}）",
    ]
    response = client.post(form.action, data)
    assert response["Location"] == reverse("workspace:group", args=[world.group.pk])
    created = Meeting.objects.exclude(pk=held.pk).get()
    assert (
        created.state,
        created.kind,
        created.planned_date,
        created.agenda_lines(),
        created.created_by,
    ) == (
        MeetingState.DRAFT,
        MeetingKind.GROUP_MEETING,
        TODAY,
        data["agenda"].splitlines(),
        people["leader"],
    )
    response = client.get(response["Location"])
    assert str(response.context["current"]["step"].label) == "提交请示"
    assert [str(m) for m in response.context["messages"]] == [
        f"“{created.title}”已保存为草稿，核对后请向党支部请示。"
    ]


def test_new_request_refused_keeps_the_input_and_saves_nothing(world, people, client):
    login(client, people, "leader")
    before = row_counts()
    response = client.post(
        reverse("workspace:create", args=[world.group.pk]),
        {
            "kind": MeetingKind.GROUP_MEETING,
            "title": "本月会",
            "planned_date": "2019-01-01",
            "agenda": "学习",
        },
    )
    assert response.status_code == 200
    assert row_counts() == before
    assert response.context["new_form"].errors == {
        "planned_date": ["拟召开日期不能早于党小组建立日期（2020-01-01）。"]
    }
    assert (
        dict(page(response).form(action=reverse("workspace:create", args=[world.group.pk])).fields)["title"]
        == "本月会"
    )


# --- The rest of the page ---------------------------------------------------------------------------


def test_year_at_a_glance_marks_held_and_missing_months(world):
    """R-10: a month counts when a group meeting was held in it (not a life meeting, not a draft)."""
    for held_on in (dt.date(2025, 3, 12), dt.date(2025, 6, 3)):
        make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=held_on)
    make_meeting(
        world.group,
        world.leader,
        kind=MeetingKind.LIFE_MEETING,
        state=MeetingState.ARCHIVED,
        held_on=dt.date(2025, 4, 9),
    )
    make_meeting(world.group, world.leader, state=MeetingState.DRAFT, planned_date=dt.date(2025, 5, 20))
    on = dt.date(2025, 6, 15)
    assert [m["status"] for m in workspace.year_at_a_glance(world.group, on)] == [
        "missing", "missing", "held", "missing", "missing", "held",
        "future", "future", "future", "future", "future", "future",
    ]  # fmt: skip
    world.group.established_on = dt.date(2025, 2, 10)
    assert [m["status"] for m in workspace.year_at_a_glance(world.group, dt.date(2025, 7, 1))][:7] == [
        "before", "missing", "held", "missing", "missing", "held", "current",
    ]  # fmt: skip


def test_open_matters_overdue_marked_with_link_into_the_next_minutes(world, people, client):
    """R-16: open decided matters with owner and due date, the overdue one highlighted, "更新进展"
    leading to its follow-up row in the minutes of the meeting now being recorded."""
    old = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=TODAY - 40 * DAY)
    recent = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED, held_on=TODAY - 5 * DAY)
    overdue, due = ActionItem.objects.get(meeting=old), ActionItem.objects.get(meeting=recent)
    assert overdue.due_on < TODAY <= due.due_on
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    assert [(r["item"], r["overdue"], r["followup_url"]) for r in response.context["open_items"]] == [
        (overdue, True, None),
        (due, False, None),
    ]
    assert response.content.decode().count("已逾期") == 1
    current = make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=TODAY)
    response = client.get(reverse("workspace:home"))
    minutes_url = reverse("workspace:minutes", args=[current.pk])
    assert [r["followup_url"] for r in response.context["open_items"]] == [
        f"{minutes_url}#followup-{overdue.pk}",
        f"{minutes_url}#followup-{due.pk}",
    ]
    assert [href for href, text in page(response).links if text == "更新进展"] == [
        f"{minutes_url}#followup-{overdue.pk}",
        f"{minutes_url}#followup-{due.pk}",
    ]
    body = client.get(minutes_url).content.decode()
    assert f'id="followup-{overdue.pk}"' in body and f'id="followup-{due.pk}"' in body


def test_members_overdue_for_a_talk_with_link_to_record_one(world, people, client):
    """R-20: the group's members without a talk in the rule set's interval (not other groups')."""
    a, b = world.leader_member, world.members[1]
    services.talk_record(
        group=world.group,
        talked_on=TODAY,
        initiator=a,
        partner=b,
        topic="交流",
        summary="谈体会",
        by=world.leader,
    )
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    due = {m.pk: m.name for m in world.members[2:]}
    assert {(x.object_id, x.object_label, x.rule_id) for x in response.context["talk_findings"]} == {
        (pk, name, "R-20") for pk, name in due.items()
    }
    talk_url = reverse("meetings:talk_create", args=[world.group.pk])
    links = [href for href, text in page(response).links if text == "登记谈话"]
    assert sorted(links) == sorted(f"{talk_url}?partner={pk}" for pk in due)
    form = client.get(links[0]).context["form"]
    assert form.initial["partner"] == links[0].rsplit("=", 1)[1]


def test_annual_plan_status_with_link_to_make_it(world, people, client):
    """R-17: without a plan, "制定年度计划"; with one, its number of items."""
    login(client, people, "leader")
    response = client.get(reverse("workspace:home"))
    assert response.context["plan"] is None
    assert page(response).link("制定年度计划") == reverse(
        "meetings:plan_edit", args=[world.group.pk, TODAY.year]
    )
    _plan(world, (1, "学习党章", "group_meeting"), (2, "组织生活会", MeetingKind.LIFE_MEETING))
    response = client.get(reverse("workspace:home"))
    assert (response.context["plan"].year, response.context["plan_items"]) == (TODAY.year, 2)
    assert "已制定：2项安排，计划召开党小组会12次。" in response.content.decode()
    assert page(response).link("查看年度计划") == reverse("meetings:plan", args=[world.group.pk, TODAY.year])


def test_findings_are_the_groups_own(world, people, client):
    """R-03 for a group of two, R-10/R-18/R-19 for a group that never met: each leader sees only
    their own group's findings."""
    small = f.PartyGroupFactory(branch=world.branch, name="第三党小组")
    first, second = (f.GroupMembershipFactory(group=small).member for _ in range(2))
    f.LeaderAppointmentFactory(group=small, member=first)
    small_leader = f.user_for(first, "small_leader")

    login(client, people, "leader")
    findings = client.get(reverse("workspace:home")).context["findings"]
    assert {x.object_id for x in findings} == {world.group.pk}
    assert {x.object_type for x in findings} == {"group"}
    assert {"R-10", "R-18", "R-19"} <= {x.rule_id for x in findings} <= workspace.GROUP_RULES

    client.force_login(small_leader)
    response = client.get(reverse("workspace:home"))
    findings = response.context["findings"]
    assert {x.object_id for x in findings} == {small.pk}
    r03 = [x for x in findings if x.rule_id == "R-03"]
    assert [(x.severity, x.message) for x in r03] == [
        ("violation", "党小组“第三党小组”现有党员2名，少于3名。")
    ]
    assert {x.object_id for x in response.context["talk_findings"]} == {first.pk, second.pk}


# --- Flat query count -------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _held_with_matters(world, count: int, held_on: dt.date) -> Meeting:
    meeting = make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=held_on)
    owner = world.members[1]
    services.minutes_save(
        meeting=meeting,
        by=world.leader,
        mark_held=True,
        **minutes_kwargs(
            meeting,
            world.leader_member,
            action_items=[
                services.ActionItemInput(description=f"议定事项{i}", owner=owner, due_on=held_on + i * DAY)
                for i in range(count)
            ],
        ),
    )
    services.meeting_report(meeting=meeting, by=world.leader)
    return meeting


def test_workspace_query_count_flat_with_1_and_20_matters_and_members(world, people, client):
    make_meeting(world.group, world.leader, state=MeetingState.APPROVED, planned_date=TODAY)
    _held_with_matters(world, 1, LAST_MONTH - 30 * DAY)
    login(client, people, "leader")
    url = reverse("workspace:home")
    client.get(url)  # warm the session
    one = _queries(client, url)
    before = client.get(url).context
    assert (len(before["open_items"]), len(before["talk_findings"])) == (1, 4)

    _held_with_matters(world, 19, LAST_MONTH - 20 * DAY)
    for _ in range(16):
        f.GroupMembershipFactory(group=world.group)
    after = client.get(url).context
    assert (len(after["open_items"]), len(after["talk_findings"])) == (20, 20)
    assert _queries(client, url) == one


# --- The month in six page loads after the branch's approval ----------------------------------------


def test_month_logged_in_six_page_loads_after_approval(world, people, client):
    """R-11 … R-13: after the branch approved the request, the leader notifies, records the minutes,
    marks the meeting held, reports it and downloads the PDF in no more than 6 page loads.

    How page loads are counted (strict): every request the browser makes for a document is one page
    load — each GET of a page, each POST (whatever its answer), every redirect followed (a POST
    answered by a redirect is TWO loads: the POST and the GET of the target) and the PDF download.
    Static files are not documents. The test client sends no htmx header, so every step here is a
    full document request: with JavaScript the buttons are htmx requests that swap part of the page,
    so a browser loads at most as many documents. Every request is one the previous page offers (a
    link or a form's button in its HTML), sent with the form's fields exactly as the page rendered
    them plus what the leader types.
    """
    meeting = make_meeting(world.group, world.leader, state=MeetingState.APPROVED, planned_date=TODAY)
    login(client, people, "leader")
    loads: list[str] = []

    def load(method: str, url: str, data: dict | None = None):
        response = (
            client.post(url, data or {}, follow=True) if method == "post" else client.get(url, follow=True)
        )
        loads.append(f"{method.upper()} {url}")
        loads.extend(f"GET {target} (redirect)" for target, _status in response.redirect_chain)
        return response

    # (1) open the workspace: the card says 通知全体党员
    response = load("get", reverse("workspace:home"))
    assert str(response.context["current"]["step"].label) == "通知全体党员"
    # (2) press 通知全体党员: answered with the workspace, the card now says 填写会议记录
    form = page(response).form(action=page(response).button_forms()["通知全体党员"])
    response = load("post", form.action, form.data("通知全体党员"))
    assert str(response.context["current"]["step"].label) == "填写会议记录"
    # (3) open the minutes: attendance prefilled from the roster, agenda items from the request
    response = load("get", page(response).link("填写会议记录"))
    entry = response.context["entry"]
    roster = roster_on(world.group, TODAY)
    assert [form.initial["member"] for form in entry.roster.forms] == [str(m.pk) for m in roster]
    assert [form.initial["role"] for form in entry.roster.forms] == [AttendanceRole.PRESENT] * len(roster)
    assert [form.initial["title"] for form in entry.agenda.forms] == meeting.agenda_lines()
    minutes_page = page(response)
    assert minutes_page.link("返回") == reverse("workspace:group", args=[world.group.pk])
    assert minutes_page.form(form_id="minutes-form").action == ""  # posts to the page's own URL
    # (4) fill in what only the leader knows, press 保存并标记为已召开: answered with the workspace
    response = load(
        "post", reverse("workspace:minutes", args=[meeting.pk]), fill_minutes(minutes_page, world, meeting)
    )
    assert str(response.context["current"]["step"].label) == "上报党支部"
    # (5) press 上报党支部: answered with the workspace, the card now waits for the branch to archive
    form = page(response).form(action=page(response).button_forms()["上报党支部"])
    response = load("post", form.action, form.data("上报党支部"))
    assert str(response.context["current"]["step"].label) == "等待支部存档"
    # (6) download the PDF from the card
    response = load("get", page(response).link("下载PDF"))
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")

    assert loads == [
        f"GET {reverse('workspace:home')}",
        f"POST {reverse('workspace:action', args=[meeting.pk, Action.NOTIFY])}",
        f"GET {reverse('workspace:minutes', args=[meeting.pk])}",
        f"POST {reverse('workspace:minutes', args=[meeting.pk])}",
        f"POST {reverse('workspace:action', args=[meeting.pk, Action.REPORT])}",
        f"GET {reverse('meetings:pdf', args=[meeting.pk])}",
    ]
    assert len(loads) <= 6
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.REPORTED
    minutes = Minutes.objects.get(meeting=meeting)
    assert (minutes.held_on, minutes.end_time, minutes.chair_summary) == (
        TODAY,
        dt.time(16, 30),
        "学习深入，讨论充分，会后抓好落实。",
    )
    assert [i.title for i in meeting.agenda_items.order_by("number")] == meeting.agenda_lines()
    assert list(
        MeetingTransition.objects.filter(meeting=meeting)
        .order_by("at", "id")
        .values_list("action", "by__username")
    ) == [
        (Action.SUBMIT, "leader"),
        (Action.APPROVE, world.secretary.username),
        (Action.NOTIFY, "leader"),
        (Action.HOLD, "leader"),
        (Action.REPORT, "leader"),
    ]

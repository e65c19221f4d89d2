"""Tests of groups/duty_views.py (the branch committee's duty pages: leader reviews and interviews R-28,
training R-35, cultivation R-22, posts R-32, points R-33) and of the opinion recorded on a held meeting
(meetings/views.py ``opinion_record``, R-22).

- A permission matrix for every page and action over the roles of ``tests/org_tree.py``: outside the
  user's scope → 404, visible but read-only → 403, anonymous → login; a refused request changes nothing,
  an allowed write changes something. Wrong methods → 405.
- Behaviour: each refusal of the services shows its Chinese message and saves nothing (a review for
  someone not leader that year, a year not yet open, a second review; an interview outside the term;
  training hours; stages out of order, contacts, member links; a second post; points while the module
  is off; an opinion on an archived meeting); the R-28 "replacement due" finding after two consecutive
  不称职, with the form that appoints a successor through ``groups:appoint``.
- Flat query counts (1 vs 20 rows) for every list page.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.enums import CULTIVATION_ORDER, CultivationStageKind, LeaderGrade, LeaderRole
from groups.models import (
    CultivationCandidate,
    LeaderAppointment,
    LeaderInterview,
    LeaderReview,
    LeaderTraining,
)
from meetings.enums import MeetingState, Recommendation
from meetings.models import CultivationOpinion
from meetings.services import cultivation_opinion_record
from members.models import MemberPost, PointsRating, RuleSet
from tests import factories as f
from tests.meetings.factories import make_meeting
from tests.org_tree import ROLES, OrgTree, build_tree

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
LOGIN = reverse("login")
LAST_YEAR = TODAY.year - 1  # always open for review (R-28: from 1 December of the year)
APPLIED = dt.date(2024, 1, 10)
STAGE_DAYS = {
    CultivationStageKind.ACTIVIST: 90,
    CultivationStageKind.DEVELOPMENT: 200,
    CultivationStageKind.PROBATIONARY: 400,
}
ATTESTS = {
    "attests_political_quality": "on",
    "attests_dedication": "on",
    "attests_organising_ability": "on",
}


def row_counts() -> dict[str, int]:
    """Rows of every model (history included) of the groups, members and meetings apps."""
    return {
        m.__name__: m._default_manager.count()
        for label in ("groups", "members", "meetings")
        for m in apps.get_app_config(label).get_models()
    }


def login(client, user) -> None:
    client.logout()
    if user is not None:
        client.force_login(user)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client, response) -> list[str]:
    assert response.status_code == 302, response.status_code
    return messages_of(client.get(response["Location"]))


def form_errors(response, name: str = "form") -> list[str]:
    form = response.context[name]
    return [e for errors in form.errors.values() for e in errors]


def make_candidate(group, by, *, name: str, stage: str = CultivationStageKind.APPLICANT, contacts=()):
    """A candidate of ``group`` walked to ``stage`` through the services (contacts from the activist on)."""
    candidate = services.candidate_create(
        group=group, name=name, gender="M", birth_date=dt.date(1998, 5, 1), applied_on=APPLIED, by=by
    )
    for step in CULTIVATION_ORDER[1 : CULTIVATION_ORDER.index(stage) + 1]:
        candidate = services.candidate_advance_stage(
            candidate=candidate,
            stage=step,
            started_on=APPLIED + STAGE_DAYS[step] * DAY,
            contacts=list(contacts) if step == CultivationStageKind.ACTIVIST else None,
            by=by,
        )
    return candidate


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def tree(db) -> OrgTree:
    return build_tree()


# --- The permission matrix ------------------------------------------------------------------------


def statuses(**kwargs: int) -> dict[str, int]:
    result = {"anonymous": 302, **kwargs}
    assert set(result) == set(ROLES), set(ROLES) ^ set(result)
    return result


COMMITTEE_A = ("superuser", "secretary_a", "propaganda_a")
# Branch pages of A: the committee and org staff of A's subtree read; A's leaders and members see the
# branch (their own) but may not open these pages; everybody else does not see it at all.
BRANCH_READ = statuses(
    superuser=200,
    staff_top=200,
    staff_mid=200,
    staff_leaf=404,
    staff_other=404,
    secretary_a=200,
    propaganda_a=200,
    secretary_c=404,
    leader_a1=403,
    leader_a2=403,
    member_a1=403,
)
BRANCH_WRITE_GET = {**BRANCH_READ, "staff_top": 403, "staff_mid": 403}
BRANCH_WRITE_POST = {**BRANCH_WRITE_GET, **dict.fromkeys(COMMITTEE_A, 302)}
# A candidate of group a1: org staff of the subtree, A's committee and a1's leader read; nobody else
# sees it (candidates are not members: their personal data is not for plain members).
CANDIDATE_READ = statuses(
    superuser=200,
    staff_top=200,
    staff_mid=200,
    staff_leaf=404,
    staff_other=404,
    secretary_a=200,
    propaganda_a=200,
    secretary_c=404,
    leader_a1=200,
    leader_a2=404,
    member_a1=404,
)
CANDIDATE_WRITE = {
    **CANDIDATE_READ,
    "staff_top": 403,
    "staff_mid": 403,
    "leader_a1": 403,
    **dict.fromkeys(COMMITTEE_A, 302),
}
# Group a1's candidates page: as the group detail (a member of the group sees the group, may not open it).
GROUP_READ = {**CANDIDATE_READ, "member_a1": 403}
# The opinion on a held (not archived) meeting of a1: its leader records; the branch and org staff read
# the meeting but may not record; a plain member does not see a meeting before it is archived.
OPINION_WRITE = {
    **CANDIDATE_READ,
    "superuser": 302,
    "staff_top": 403,
    "staff_mid": 403,
    "secretary_a": 403,
    "propaganda_a": 403,
    "leader_a1": 302,
}
EVERYONE = statuses(**{r: 200 for r in ROLES if r != "anonymous"})


@dataclass(frozen=True)
class Case:
    """One page or action: ``target(tree, n)`` gives the URL and payload of the n-th request."""

    name: str
    method: str
    expected: dict[str, int]
    target: Callable[[OrgTree, int], tuple[str, dict]]

    def __str__(self) -> str:
        return self.name

    @property
    def writers(self) -> tuple[str, ...]:
        return tuple(
            r for r, s in self.expected.items() if self.method == "post" and s == 302 and r != "anonymous"
        )


def _branch_page(url_name: str):
    def target(tree, n):
        return reverse(url_name, args=[tree.branches["A"].pk]), {}

    return target


def _review(tree, n):
    """A deputy of a1 during last year (an ended term), one per request, reviewed for that year."""
    group = tree.groups["a1"]
    member = f.MemberFactory(branch=tree.branches["A"], name=f.chinese_name(300 + n))
    f.GroupMembershipFactory(group=group, member=member)
    f.LeaderAppointmentFactory(
        group=group,
        member=member,
        role=LeaderRole.DEPUTY,
        started_on=dt.date(LAST_YEAR, 1, 1),
        ended_on=dt.date(LAST_YEAR, 6, 1),
    )
    return reverse("duties:reviews", args=[group.branch_id]), {
        "leader": f"{group.pk}:{member.pk}",
        "year": LAST_YEAR,
        "grade": LeaderGrade.COMPETENT,
        "reviewed_on": TODAY.isoformat(),
        "notes": "按时召开党小组会",
    }


def _leader_a1(tree) -> str:
    return f"{tree.groups['a1'].pk}:{tree.members['组长甲'].pk}"


def _interview(tree, n):
    return reverse("duties:interviews", args=[tree.branches["A"].pk]), {
        "leader": _leader_a1(tree),
        "interviewed_on": TODAY.isoformat(),
        "interviewer": "支部书记 书记甲",
        "content": "党小组会召开不及时，要求限期改进。",
    }


def _training(tree, n):
    return reverse("duties:training", args=[tree.branches["A"].pk]), {
        "member": tree.members["组长甲"].pk,
        "trained_on": TODAY.isoformat(),
        "title": "党小组组长培训班",
        "hours": "8",
        "organiser": "市直机关工委",
    }


def _candidate_create(tree, n):
    return reverse("duties:candidate_create", args=[tree.branches["A"].pk]), {
        "group": tree.groups["a1"].pk,
        "name": f.chinese_name(400 + n),
        "gender": "F",
        "birth_date": "1999-03-01",
        "applied_on": APPLIED.isoformat(),
    }


def _candidate(tree, n, stage=CultivationStageKind.APPLICANT):
    contacts = [tree.members["党员乙"]]
    return make_candidate(
        tree.groups["a1"],
        tree.users["superuser"],
        name=f.chinese_name(500 + n),
        stage=stage,
        contacts=contacts,
    )


def _candidate_detail(tree, n):
    candidate = CultivationCandidate.objects.filter(group=tree.groups["a1"]).first() or _candidate(tree, n)
    return reverse("duties:candidate", args=[candidate.pk]), {}


def _advance(tree, n):
    candidate = _candidate(tree, n)
    return reverse("duties:candidate_advance", args=[candidate.pk]), {
        "stage": CultivationStageKind.ACTIVIST,
        "started_on": TODAY.isoformat(),
        "contacts": [tree.members["党员乙"].pk],
    }


def _contacts(tree, n):
    candidate = _candidate(tree, n)
    return reverse("duties:candidate_contacts", args=[candidate.pk]), {
        "contacts": [tree.members["党员乙"].pk]
    }


def _link(tree, n):
    candidate = _candidate(tree, n, CultivationStageKind.PROBATIONARY)
    member = f.MemberFactory(branch=tree.branches["A"], name=candidate.name, probationary=True)
    return reverse("duties:candidate_link", args=[candidate.pk]), {"member": member.pk}


def _group_candidates(tree, n):
    return reverse("duties:group_candidates", args=[tree.groups["a1"].pk]), {}


def _post(tree, n):
    member = f.MemberFactory(branch=tree.branches["A"], name=f.chinese_name(600 + n), post="")
    return reverse("duties:posts", args=[tree.branches["A"].pk]), {
        "member": member.pk,
        "year": TODAY.year,
        "title": "政策宣传岗",
        "commitment": "每月宣讲一次政策",
    }


def _points(tree, n):
    member = f.MemberFactory(branch=tree.branches["A"], name=f.chinese_name(700 + n))
    return reverse("duties:points_record", args=[tree.branches["A"].pk]), {
        "member": member.pk,
        "year": TODAY.year,
        "points": "92.5",
        "grade": "excellent",
    }


def _my_posts(tree, n):
    return reverse("duties:my_posts"), {}


def _held_meeting(tree):
    meeting = getattr(tree, "held_meeting", None)
    if meeting is None:
        meeting = make_meeting(tree.groups["a1"], tree.users["leader_a1"], state=MeetingState.HELD)
        tree.held_meeting = meeting
    return meeting


def _opinion(tree, n):
    meeting = _held_meeting(tree)
    candidate = _candidate(tree, n)
    return reverse("meetings:opinion_record", args=[meeting.pk]), {
        "candidate": candidate.pk,
        "recommendation": Recommendation.RECOMMEND,
        "opinion": "积极要求进步，推荐为入党积极分子。",
    }


CASES = [
    Case("reviews GET", "get", BRANCH_READ, _branch_page("duties:reviews")),
    Case("reviews POST", "post", BRANCH_WRITE_POST, _review),
    Case("interviews GET", "get", BRANCH_READ, _branch_page("duties:interviews")),
    Case("interviews POST", "post", BRANCH_WRITE_POST, _interview),
    Case("training GET", "get", BRANCH_READ, _branch_page("duties:training")),
    Case("training POST", "post", BRANCH_WRITE_POST, _training),
    Case("cultivation GET", "get", BRANCH_READ, _branch_page("duties:cultivation")),
    Case("candidate create GET", "get", BRANCH_WRITE_GET, _branch_page("duties:candidate_create")),
    Case("candidate create POST", "post", BRANCH_WRITE_POST, _candidate_create),
    Case("candidate detail GET", "get", CANDIDATE_READ, _candidate_detail),
    Case("candidate advance POST", "post", CANDIDATE_WRITE, _advance),
    Case("candidate contacts POST", "post", CANDIDATE_WRITE, _contacts),
    Case("candidate link POST", "post", CANDIDATE_WRITE, _link),
    Case("group candidates GET", "get", GROUP_READ, _group_candidates),
    Case("posts GET", "get", BRANCH_READ, _branch_page("duties:posts")),
    Case("posts POST", "post", BRANCH_WRITE_POST, _post),
    Case("points POST", "post", BRANCH_WRITE_POST, _points),
    Case("my posts GET", "get", EVERYONE, _my_posts),
    Case("meeting opinion POST", "post", OPINION_WRITE, _opinion),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_permission_matrix(tree, client, case):
    """Each role gets the expected status; a refused request changes nothing, an allowed write something."""
    order = [r for r in ROLES if r not in case.writers] + list(case.writers)
    counter = itertools.count()
    actual = {}
    for role in order:
        url, payload = case.target(tree, next(counter))
        login(client, None if role == "anonymous" else tree.users[role])
        before = row_counts()
        response = client.post(url, payload) if case.method == "post" else client.get(url)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        if role in case.writers:
            assert row_counts() != before, role
        else:
            assert row_counts() == before, role
    assert actual == case.expected


def test_led_candidates_sends_a_leader_to_their_group_and_refuses_others(tree, client):
    """The menu's "培养对象": a leader goes to their group's page; anyone who leads no group gets 403."""
    expected = {role: 302 if role in {"leader_a1", "leader_a2", "anonymous"} else 403 for role in ROLES}
    actual = {}
    for role in ROLES:
        login(client, None if role == "anonymous" else tree.users[role])
        response = client.get(reverse("duties:led_candidates"))
        actual[role] = response.status_code
        if role in {"leader_a1", "leader_a2"}:
            group = tree.groups["a1" if role == "leader_a1" else "a2"]
            assert response["Location"] == reverse("duties:group_candidates", args=[group.pk])
    assert actual == expected


def test_led_candidates_lists_the_groups_of_a_leader_of_several(tree, client):
    a2 = tree.groups["a2"]
    f.LeaderAppointmentFactory(group=a2, member=tree.members["组长甲"], role=LeaderRole.DEPUTY)
    login(client, tree.users["leader_a1"])
    response = client.get(reverse("duties:led_candidates"))
    assert response.status_code == 200
    assert [g.name for g in response.context["groups"]] == [tree.groups["a1"].name, a2.name]


def test_post_only_actions_answer_get_with_405(tree, client):
    candidate = _candidate(tree, 0)
    meeting = _held_meeting(tree)
    login(client, tree.users["secretary_a"])
    before = row_counts()
    for url in (
        reverse("duties:candidate_advance", args=[candidate.pk]),
        reverse("duties:candidate_contacts", args=[candidate.pk]),
        reverse("duties:candidate_link", args=[candidate.pk]),
        reverse("duties:points_record", args=[tree.branches["A"].pk]),
    ):
        assert client.get(url).status_code == 405, url
    login(client, tree.users["leader_a1"])
    assert client.get(reverse("meetings:opinion_record", args=[meeting.pk])).status_code == 405
    assert row_counts() == before


def test_read_only_pages_answer_post_with_405(tree, client):
    candidate = _candidate(tree, 0)
    login(client, tree.users["secretary_a"])
    for url in (
        reverse("duties:cultivation", args=[tree.branches["A"].pk]),
        reverse("duties:candidate", args=[candidate.pk]),
        reverse("duties:group_candidates", args=[tree.groups["a1"].pk]),
        reverse("duties:my_posts"),
        reverse("duties:led_candidates"),
    ):
        assert client.post(url).status_code == 405, url


def test_other_branch_and_bad_ids_are_404_for_branch_a_secretary(tree, client):
    c = tree.branches["C"]
    other = make_candidate(tree.groups["c1"], tree.users["superuser"], name="陈晓东")
    login(client, tree.users["secretary_a"])
    for name in (
        "duties:reviews",
        "duties:interviews",
        "duties:training",
        "duties:cultivation",
        "duties:posts",
    ):
        assert client.get(reverse(name, args=[c.pk])).status_code == 404, name
        assert client.get(reverse(name, args=[c.pk + 1000])).status_code == 404, name
    assert client.get(reverse("duties:candidate", args=[other.pk])).status_code == 404
    assert client.get(reverse("duties:candidate", args=[other.pk + 1000])).status_code == 404
    assert client.get(reverse("duties:group_candidates", args=[tree.groups["c1"].pk])).status_code == 404
    before = row_counts()
    url = reverse("duties:candidate_advance", args=[other.pk])
    assert client.post(url, {"stage": "activist", "started_on": TODAY.isoformat()}).status_code == 404
    assert client.post(reverse("duties:posts", args=[c.pk]), {}).status_code == 404
    assert row_counts() == before


# --- Leader reviews (R-28) -------------------------------------------------------------------------


def _appointment(world) -> LeaderAppointment:
    return LeaderAppointment.objects.get(group=world.group, member=world.leader_member)


def _review_payload(world, member=None, **overrides) -> dict:
    member = member or world.leader_member
    return {
        "leader": f"{world.group.pk}:{member.pk}",
        "year": LAST_YEAR,
        "grade": LeaderGrade.COMPETENT,
        "reviewed_on": TODAY.isoformat(),
        "notes": "",
        **overrides,
    }


def test_reviews_page_lists_every_leader_in_office_that_year_with_the_review(world, client):
    old = f.MemberFactory(branch=world.branch, name="王建华")
    f.GroupMembershipFactory(group=world.group, member=old)
    f.LeaderAppointmentFactory(
        group=world.group,
        member=old,
        role=LeaderRole.DEPUTY,
        started_on=dt.date(LAST_YEAR - 3, 1, 1),
        ended_on=dt.date(LAST_YEAR, 3, 1),
    )
    f.LeaderAppointmentFactory(  # ended before last year: not listed
        group=world.group,
        member=world.members[2],
        role=LeaderRole.DEPUTY,
        started_on=dt.date(LAST_YEAR - 3, 1, 1),
        ended_on=dt.date(LAST_YEAR, 1, 1),
    )
    f.LeaderReviewFactory(appointment=_appointment(world), year=LAST_YEAR, grade=LeaderGrade.EXCELLENT)
    f.LeaderReviewFactory(appointment=_appointment(world), year=LAST_YEAR - 1, grade=LeaderGrade.COMPETENT)
    login(client, world.secretary)
    response = client.get(reverse("duties:reviews", args=[world.branch.pk]), {"year": LAST_YEAR})
    assert response.status_code == 200
    rows = {(r.group.name, r.member.name): r for r in response.context["rows"]}
    other_leader = LeaderAppointment.objects.get(group=world.other_group).member
    assert set(rows) == {
        (world.group.name, world.leader_member.name),
        (world.group.name, "王建华"),
        (world.other_group.name, other_leader.name),
    }
    mine = rows[(world.group.name, world.leader_member.name)]
    assert mine.review.grade == LeaderGrade.EXCELLENT
    assert [(r.year, r.grade) for r in mine.history] == [(LAST_YEAR - 1, LeaderGrade.COMPETENT)]
    assert rows[(world.group.name, "王建华")].roles == ["副组长"]
    assert rows[(world.group.name, "王建华")].review is None
    assert response.context["reviewed"] == 1
    assert response.context["is_open"] is True
    assert "优秀" in response.content.decode()


def test_review_recorded_through_the_page(world, client):
    login(client, world.secretary)
    url = reverse("duties:reviews", args=[world.branch.pk])
    response = client.post(url, _review_payload(world, notes="组织有力"))
    assert response["Location"] == f"{url}?year={LAST_YEAR}"
    review = LeaderReview.objects.get()
    assert (review.appointment, review.year, review.grade, review.notes, review.reviewed_by) == (
        _appointment(world),
        LAST_YEAR,
        LeaderGrade.COMPETENT,
        "组织有力",
        world.secretary,
    )
    assert review.history.get().history_user == world.secretary


def test_review_refused_for_someone_not_leader_that_year(world, client):
    """R-28: a member who never led the group that year (an appointment that ended before it)."""
    member = world.members[1]
    f.LeaderAppointmentFactory(
        group=world.group,
        member=member,
        role=LeaderRole.DEPUTY,
        started_on=dt.date(LAST_YEAR - 3, 1, 1),
        ended_on=dt.date(LAST_YEAR - 1, 6, 1),
    )
    login(client, world.secretary)
    before = row_counts()
    response = client.post(reverse("duties:reviews", args=[world.branch.pk]), _review_payload(world, member))
    assert response.status_code == 200
    assert form_errors(response) == [
        f"“{member.name}”在{LAST_YEAR}年不是党小组“{world.group.name}”的组长或副组长，不能对其进行年度考核。"
    ]
    assert f"不是党小组“{world.group.name}”的组长或副组长" in response.content.decode()
    assert row_counts() == before


def test_review_refused_for_a_year_not_yet_open(world, client):
    """R-28: the assessment is made at the year's end (from 1 December of the year)."""
    year = TODAY.year + 1
    login(client, world.secretary)
    before = row_counts()
    response = client.post(
        reverse("duties:reviews", args=[world.branch.pk]), _review_payload(world, year=year)
    )
    assert response.status_code == 200
    assert form_errors(response) == [
        f"{year}年度的考核在年终进行，最早于{year}年12月1日登记（R-28：年终对党小组组长进行考核）。"
    ]
    assert row_counts() == before


def test_review_refused_the_second_time_in_a_year(world, client):
    f.LeaderReviewFactory(appointment=_appointment(world), year=LAST_YEAR)
    login(client, world.secretary)
    before = row_counts()
    response = client.post(reverse("duties:reviews", args=[world.branch.pk]), _review_payload(world))
    assert form_errors(response) == [
        f"“{world.leader_member.name}”{LAST_YEAR}年度的考核结果已登记（R-28：每年考核一次）。"
    ]
    assert row_counts() == before


def test_reviews_page_hides_the_row_forms_before_the_year_is_open(world, client):
    login(client, world.secretary)
    response = client.get(reverse("duties:reviews", args=[world.branch.pk]), {"year": TODAY.year + 1})
    assert response.context["is_open"] is False
    body = response.content.decode()
    assert "data-not-open" in body
    assert "登记考核</summary>" not in body


def test_replacement_due_after_two_consecutive_incompetent_with_a_form_to_appoint(world, client):
    """R-28: the second 不称职 in a row brings the "replacement due" finding, on the page and as a
    warning; its form appoints the successor through groups:appoint, and then the finding is gone."""
    f.LeaderReviewFactory(appointment=_appointment(world), year=LAST_YEAR - 1, grade=LeaderGrade.INCOMPETENT)
    login(client, world.secretary)
    url = reverse("duties:reviews", args=[world.branch.pk])
    assert client.get(url).context["replacements"] == []  # one 不称职 is not enough
    response = client.post(url, _review_payload(world, grade=LeaderGrade.INCOMPETENT))
    notices = follow_messages(client, response)
    assert notices[0] == f"已登记“{world.leader_member.name}”{LAST_YEAR}年度考核结果：不称职。"
    assert len(notices) == 2 and "连续两次年度考核为“不称职”" in notices[1] and "R-28" in notices[1]
    page = client.get(url)
    [item] = page.context["replacements"]
    assert item["finding"].rule_id == "R-28"
    assert item["group"] == world.group
    row = next(r for r in page.context["rows"] if r.member == world.leader_member)
    assert row.replacement_due is True
    body = page.content.decode()
    appoint_url = reverse("groups:appoint", args=[world.group.pk])
    assert f'action="{appoint_url}"' in body
    form = item["form"]
    successor = world.members[1]
    offered = {int(v) for v, _label in form.fields["member"].choices if v}
    assert offered == {m.pk for m in world.members} - {world.leader_member.pk}
    response = client.post(
        appoint_url,
        {
            "member": successor.pk,
            "role": form.fields["role"].initial,
            "mode": "designated",
            "started_on": TODAY.isoformat(),
            **ATTESTS,
        },
    )
    assert response.status_code == 302
    current = LeaderAppointment.objects.current(TODAY).get(group=world.group, role=LeaderRole.LEADER)
    assert current.member == successor
    assert client.get(url).context["replacements"] == []


def test_replacement_form_not_offered_to_org_staff(world, client):
    appointment = _appointment(world)
    f.LeaderReviewFactory(appointment=appointment, year=LAST_YEAR - 1, grade=LeaderGrade.INCOMPETENT)
    f.LeaderReviewFactory(appointment=appointment, year=LAST_YEAR, grade=LeaderGrade.INCOMPETENT)
    login(client, world.org_staff)
    response = client.get(reverse("duties:reviews", args=[world.branch.pk]))
    [item] = response.context["replacements"]
    assert item["form"] is None
    assert response.context["form"] is None
    assert reverse("groups:appoint", args=[world.group.pk]) not in response.content.decode()


def test_reviews_query_count_flat(world, client):
    def add_group(n):
        group = f.PartyGroupFactory(branch=world.branch, name=f"考核党小组{n}")
        appointment = f.LeaderAppointmentFactory(group=group, started_on=dt.date(LAST_YEAR - 2, 1, 1))
        f.LeaderReviewFactory(appointment=appointment, year=LAST_YEAR)
        f.LeaderReviewFactory(appointment=appointment, year=LAST_YEAR - 1)

    add_group(0)
    login(client, world.secretary)
    url = reverse("duties:reviews", args=[world.branch.pk])
    client.get(url)
    one = queries(client, url)
    for n in range(1, 20):
        add_group(n)
    assert len(client.get(url).context["rows"]) == 22  # 20 + the world's two groups
    assert queries(client, url) == one


# --- Interviews (约谈, R-28) ------------------------------------------------------------------------


def test_interview_recorded_and_listed(world, client):
    login(client, world.secretary)
    url = reverse("duties:interviews", args=[world.branch.pk])
    payload = {
        "leader": f"{world.group.pk}:{world.leader_member.pk}",
        "interviewed_on": (TODAY - DAY).isoformat(),
        "interviewer": "支部书记 书记甲",
        "content": "党小组会不按时召开，要求整改。",
    }
    assert client.post(url, payload)["Location"] == url
    interview = LeaderInterview.objects.get()
    assert (interview.group, interview.member, interview.interviewer, interview.recorded_by) == (
        world.group,
        world.leader_member,
        "支部书记 书记甲",
        world.secretary,
    )
    response = client.get(url)
    assert list(response.context["page"].object_list) == [interview]
    assert "党小组会不按时召开，要求整改。" in response.content.decode()


def test_interview_refused_outside_the_leaders_term(world, client):
    """R-28: the person interviewed must have led the group that day (in office since 2022)."""
    login(client, world.secretary)
    before = row_counts()
    response = client.post(
        reverse("duties:interviews", args=[world.branch.pk]),
        {
            "leader": f"{world.group.pk}:{world.leader_member.pk}",
            "interviewed_on": "2021-06-01",
            "interviewer": "支部书记",
            "content": "约谈内容",
        },
    )
    assert response.status_code == 200
    assert form_errors(response) == [
        f"“{world.leader_member.name}”在2021-06-01不是党小组“{world.group.name}”的组长或副组长。"
    ]
    assert row_counts() == before


def test_interviews_form_prefilled_from_the_reviews_page(world, client):
    login(client, world.secretary)
    key = f"{world.group.pk}:{world.leader_member.pk}"
    response = client.get(reverse("duties:interviews", args=[world.branch.pk]), {"leader": key})
    assert response.context["form"].initial["leader"] == key


def test_interviews_query_count_flat(world, client):
    def add(n):
        LeaderInterview.objects.create(
            group=world.group,
            member=world.leader_member,
            interviewed_on=TODAY - n * DAY,
            interviewer="支部书记",
            content=f"第{n}次约谈",
            recorded_by=world.secretary,
        )

    add(0)
    login(client, world.secretary)
    url = reverse("duties:interviews", args=[world.branch.pk])
    client.get(url)
    one = queries(client, url)
    for n in range(1, 20):
        add(n)
    assert queries(client, url) == one


# --- Training (R-35) -------------------------------------------------------------------------------


def test_training_lists_leaders_without_training_in_the_past_year(world, client):
    other_leader = LeaderAppointment.objects.get(group=world.other_group).member
    f.LeaderTrainingFactory(member=world.leader_member, trained_on=TODAY - 30 * DAY, hours="6.0")
    f.LeaderTrainingFactory(member=world.leader_member, trained_on=TODAY - 400 * DAY, hours="4.0")
    f.LeaderTrainingFactory(member=other_leader, trained_on=TODAY - 400 * DAY)
    login(client, world.org_staff)
    response = client.get(reverse("duties:training", args=[world.branch.pk]))
    assert response.status_code == 200
    rows = {r.appointment.member.name: r for r in response.context["rows"]}
    assert set(rows) == {world.leader_member.name, other_leader.name}
    assert (rows[world.leader_member.name].year_hours, rows[world.leader_member.name].year_count) == (6, 1)
    assert rows[world.leader_member.name].last == TODAY - 30 * DAY
    assert [r.appointment.member for r in response.context["untrained"]] == [other_leader]
    assert response.context["page"].paginator.count == 3
    assert response.context["form"] is None  # org staff read only


def test_training_records_filtered_per_leader(world, client):
    mine = f.LeaderTrainingFactory(member=world.leader_member, trained_on=TODAY - 3 * DAY)
    other_leader = LeaderAppointment.objects.get(group=world.other_group).member
    f.LeaderTrainingFactory(member=other_leader, trained_on=TODAY - 3 * DAY)
    login(client, world.secretary)
    url = reverse("duties:training", args=[world.branch.pk])
    response = client.get(url, {"member": world.leader_member.pk})
    assert list(response.context["page"].object_list) == [mine]
    assert response.context["member_filter"] == world.leader_member
    assert client.get(url, {"member": 999999}).status_code == 404


def test_training_recorded_through_the_page(world, client):
    login(client, world.secretary)
    url = reverse("duties:training", args=[world.branch.pk])
    payload = {
        "member": world.leader_member.pk,
        "trained_on": (TODAY - DAY).isoformat(),
        "title": "党小组组长示范培训",
        "hours": "12.5",
        "organiser": "市委组织部",
    }
    assert client.post(url, payload)["Location"] == url
    training = LeaderTraining.objects.get()
    assert (training.member, training.title, str(training.hours), training.recorded_by) == (
        world.leader_member,
        "党小组组长示范培训",
        "12.5",
        world.secretary,
    )
    row = next(r for r in client.get(url).context["rows"] if r.appointment.member == world.leader_member)
    assert row.trained_recently is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours", "0", "学时应大于0且不超过200。"),
        ("hours", "250", "学时应大于0且不超过200。"),
        ("trained_on", (TODAY + DAY).isoformat(), "培训日期不能晚于今天。"),
    ],
)
def test_training_refused_with_the_reason(world, client, field, value, message):
    login(client, world.secretary)
    payload = {
        "member": world.leader_member.pk,
        "trained_on": TODAY.isoformat(),
        "title": "培训",
        "hours": "8",
        "organiser": "工委",
        field: value,
    }
    before = row_counts()
    response = client.post(reverse("duties:training", args=[world.branch.pk]), payload)
    assert response.status_code == 200
    assert form_errors(response) == [message]
    assert row_counts() == before


def test_training_query_count_flat(world, client):
    def add(n):
        group = f.PartyGroupFactory(branch=world.branch, name=f"培训党小组{n}")
        appointment = f.LeaderAppointmentFactory(group=group)
        f.LeaderTrainingFactory(member=appointment.member, trained_on=TODAY - (n + 1) * DAY)

    add(0)
    login(client, world.secretary)
    url = reverse("duties:training", args=[world.branch.pk])
    client.get(url)
    one = queries(client, url)
    for n in range(1, 20):
        add(n)
    assert len(client.get(url).context["rows"]) == 22
    assert queries(client, url) == one


# --- Cultivation (R-22) ----------------------------------------------------------------------------


def _full(world):
    """Two full members of the branch who may be contacts."""
    return world.members[1], world.members[2]


def test_cultivation_page_groups_candidates_by_stage_with_dates_contacts_and_opinions(world, client):
    a, b = _full(world)
    applicant = make_candidate(world.group, world.secretary, name="李明")
    activist = make_candidate(
        world.group, world.secretary, name="赵芳", stage=CultivationStageKind.ACTIVIST, contacts=[a, b]
    )
    other = make_candidate(world.other_group, world.secretary, name="孙磊")
    meeting = make_meeting(world.group, world.leader, state=MeetingState.HELD)
    opinion = cultivation_opinion_record(
        candidate=activist,
        meeting=meeting,
        recommendation=Recommendation.RECOMMEND,
        opinion="推荐为发展对象",
        by=world.leader,
    )
    login(client, world.secretary)
    url = reverse("duties:cultivation", args=[world.branch.pk])
    response = client.get(url)
    sections = {s["stage"]: [c.name for c in s["candidates"]] for s in response.context["sections"]}
    assert sections == {
        "applicant": ["李明", "孙磊"],
        "activist": ["赵芳"],
        "development": [],
        "probationary": [],
    }
    body = response.content.decode()
    assert f"{activist.stage_started_on:%Y-%m-%d}起" in body
    assert f"{applicant.stage_started_on:%Y-%m-%d}起" in body
    assert f"{a.name}、{b.name}" in body or f"{b.name}、{a.name}" in body
    assert reverse("meetings:detail", args=[meeting.pk]) in body
    assert f'data-opinion="{opinion.pk}"' in body
    filtered = client.get(url, {"group": world.other_group.pk})
    assert [c.name for s in filtered.context["sections"] for c in s["candidates"]] == [other.name]


def test_candidate_created_through_the_page(world, client):
    a, _b = _full(world)
    login(client, world.secretary)
    response = client.post(
        reverse("duties:candidate_create", args=[world.branch.pk]),
        {
            "group": world.group.pk,
            "name": "周海燕",
            "gender": "F",
            "birth_date": "1999-03-01",
            "applied_on": "2025-03-05",
            "contacts": [a.pk],
            "decided_by_note": "递交入党申请书",
        },
    )
    candidate = CultivationCandidate.objects.get()
    assert response["Location"] == reverse("duties:candidate", args=[candidate.pk])
    assert (candidate.group, candidate.stage, candidate.stage_started_on) == (
        world.group,
        CultivationStageKind.APPLICANT,
        dt.date(2025, 3, 5),
    )
    assert list(candidate.contacts.all()) == [a]
    assert list(candidate.stages.values_list("stage", "started_on", "decided_by_note")) == [
        ("applicant", dt.date(2025, 3, 5), "递交入党申请书")
    ]


def test_candidate_create_refused_under_eighteen(world, client):
    login(client, world.secretary)
    before = row_counts()
    response = client.post(
        reverse("duties:candidate_create", args=[world.branch.pk]),
        {
            "group": world.group.pk,
            "name": "周海燕",
            "gender": "F",
            "birth_date": "2010-03-01",
            "applied_on": "2025-03-05",
        },
    )
    assert response.status_code == 200
    assert form_errors(response) == ["申请入党须年满18岁：出生于2010-03-01，2028-03-01起方可申请。"]
    assert row_counts() == before


def test_advance_refused_when_skipping_a_stage(world, client):
    candidate = make_candidate(world.group, world.secretary, name="李明")
    login(client, world.secretary)
    before = row_counts()
    response = client.post(
        reverse("duties:candidate_advance", args=[candidate.pk]),
        {"stage": "development", "started_on": TODAY.isoformat(), "contacts": [world.members[1].pk]},
    )
    assert response.status_code == 200
    assert form_errors(response, "advance_form") == [
        "培养阶段须依次经过，不能跳过：“入党申请人”之后应为“入党积极分子”，而不是“发展对象”。"
    ]
    assert response.context["open_form"] == "advance"
    assert row_counts() == before


def test_advance_refused_for_an_activist_without_contacts(world, client):
    candidate = make_candidate(world.group, world.secretary, name="李明")
    login(client, world.secretary)
    before = row_counts()
    response = client.post(
        reverse("duties:candidate_advance", args=[candidate.pk]),
        {"stage": "activist", "started_on": TODAY.isoformat()},
    )
    assert form_errors(response, "advance_form") == ["“入党积极分子”须确定1至2名培养联系人（正式党员）。"]
    assert row_counts() == before


def test_advance_to_the_next_stage_with_contacts(world, client):
    a, b = _full(world)
    candidate = make_candidate(world.group, world.secretary, name="李明")
    login(client, world.secretary)
    url = reverse("duties:candidate_advance", args=[candidate.pk])
    response = client.post(
        url,
        {
            "stage": "activist",
            "started_on": TODAY.isoformat(),
            "contacts": [a.pk, b.pk],
            "decided_by_note": "支委会研究",
        },
    )
    assert response["Location"] == reverse("duties:candidate", args=[candidate.pk])
    candidate.refresh_from_db()
    assert (candidate.stage, candidate.stage_started_on) == ("activist", TODAY)
    assert set(candidate.contacts.all()) == {a, b}
    assert list(candidate.stages.values_list("stage", flat=True)) == ["applicant", "activist"]
    detail = client.get(reverse("duties:candidate", args=[candidate.pk]))
    assert [s.stage for s in detail.context["stages"]] == ["applicant", "activist"]
    assert detail.context["advance_form"].initial == {"stage": "development"}


def test_contacts_refused_for_a_probationary_member_and_for_three(world, client):
    a, b = _full(world)
    probationary = f.MemberFactory(branch=world.branch, probationary=True, name="钱伟")
    candidate = make_candidate(world.group, world.secretary, name="李明", stage="activist", contacts=[a])
    login(client, world.secretary)
    url = reverse("duties:candidate_contacts", args=[candidate.pk])
    before = row_counts()
    response = client.post(url, {"contacts": [probationary.pk]})
    assert form_errors(response, "contacts_form") == ["培养联系人“钱伟”不是正式党员。"]
    response = client.post(url, {"contacts": [a.pk, b.pk, world.members[3].pk]})
    assert form_errors(response, "contacts_form") == ["培养联系人为1至2名（现选3名）。"]
    assert row_counts() == before
    assert client.post(url, {"contacts": [b.pk]}).status_code == 302
    assert list(candidate.contacts.all()) == [b]


def test_link_member_once_probationary(world, client):
    a, _b = _full(world)
    applicant = make_candidate(world.group, world.secretary, name="李明")
    joined = make_candidate(world.group, world.secretary, name="赵芳", stage="probationary", contacts=[a])
    member = f.MemberFactory(branch=world.branch, name="赵芳", probationary=True)
    login(client, world.secretary)
    detail = client.get(reverse("duties:candidate", args=[applicant.pk]))
    assert "link_form" not in detail.context
    before = row_counts()
    response = client.post(reverse("duties:candidate_link", args=[applicant.pk]), {"member": member.pk})
    assert form_errors(response, "link_form") == ["只有预备党员阶段的培养对象才能关联党员记录。"]
    assert row_counts() == before
    response = client.post(reverse("duties:candidate_link", args=[joined.pk]), {"member": member.pk})
    assert response.status_code == 302
    joined.refresh_from_db()
    assert joined.member == member
    body = client.get(reverse("duties:candidate", args=[joined.pk])).content.decode()
    assert reverse("registry:detail", args=[member.pk]) in body


def test_leader_reads_the_groups_candidates_without_forms(world, client):
    candidate = make_candidate(world.group, world.secretary, name="李明")
    make_candidate(world.other_group, world.secretary, name="孙磊")
    login(client, world.leader)
    response = client.get(reverse("duties:group_candidates", args=[world.group.pk]))
    assert [c.name for s in response.context["sections"] for c in s["candidates"]] == ["李明"]
    detail = client.get(reverse("duties:candidate", args=[candidate.pk]))
    assert detail.status_code == 200
    assert detail.context["can_manage"] is False
    assert {"advance_form", "contacts_form", "link_form"} & set(detail.context.keys()) == set()
    assert detail.context["leads_group"] is True
    assert client.get(reverse("duties:group_candidates", args=[world.other_group.pk])).status_code == 404


def test_cultivation_query_count_flat(world, client):
    a, b = _full(world)
    meeting = make_meeting(world.group, world.leader, state=MeetingState.HELD)

    def add(n):
        candidate = make_candidate(
            world.group, world.secretary, name=f.chinese_name(800 + n), stage="activist", contacts=[a, b]
        )
        cultivation_opinion_record(
            candidate=candidate, meeting=meeting, recommendation="recommend", opinion="推荐", by=world.leader
        )

    add(0)
    login(client, world.secretary)
    urls = [
        reverse("duties:cultivation", args=[world.branch.pk]),
        reverse("duties:group_candidates", args=[world.group.pk]),
        reverse("meetings:detail", args=[meeting.pk]),
    ]
    for url in urls:
        client.get(url)
    counts = [queries(client, url) for url in urls]
    for n in range(1, 20):
        add(n)
    assert CultivationOpinion.objects.count() == 20
    assert [queries(client, url) for url in urls] == counts


def test_candidate_detail_query_count_flat(world, client):
    """A candidate with no contacts and no opinions vs one with two contacts and opinions from two
    meetings: the same number of queries."""
    a, b = _full(world)
    bare = make_candidate(world.group, world.secretary, name="李明")
    busy = make_candidate(world.group, world.secretary, name="赵芳")
    services.candidate_set_contacts(candidate=busy, contacts=[a, b], by=world.secretary)
    for day in (20, 10):
        meeting = make_meeting(world.group, world.leader, state=MeetingState.HELD, held_on=TODAY - day * DAY)
        cultivation_opinion_record(
            candidate=busy, meeting=meeting, recommendation="recommend", opinion="推荐", by=world.leader
        )
    login(client, world.secretary)
    client.get(reverse("duties:candidate", args=[bare.pk]))
    assert len(client.get(reverse("duties:candidate", args=[busy.pk])).context["opinions"]) == 2
    assert queries(client, reverse("duties:candidate", args=[busy.pk])) == queries(
        client, reverse("duties:candidate", args=[bare.pk])
    )


# --- The group's opinion on a held meeting (meetings/views.py, R-22) ------------------------------


def test_opinion_recorded_on_a_held_meeting_and_shown_on_the_candidate(world, client):
    candidate = make_candidate(world.group, world.secretary, name="李明")
    meeting = make_meeting(world.group, world.leader, state=MeetingState.HELD)
    login(client, world.leader)
    detail = client.get(reverse("meetings:detail", args=[meeting.pk]))
    assert [c.name for c in detail.context["cultivation_candidates"]] == ["李明"]
    assert detail.context["opinion_form"] is not None
    response = client.post(
        reverse("meetings:opinion_record", args=[meeting.pk]),
        {
            "candidate": candidate.pk,
            "recommendation": "recommend",
            "opinion": "表现突出，推荐为入党积极分子。",
        },
    )
    assert response["Location"] == reverse("meetings:detail", args=[meeting.pk]) + "#cultivation"
    opinion = CultivationOpinion.objects.get()
    assert (opinion.candidate, opinion.meeting, opinion.proposed_stage, opinion.recorded_by) == (
        candidate,
        meeting,
        "activist",
        world.leader,
    )
    page = client.get(reverse("duties:candidate", args=[candidate.pk]))
    assert list(page.context["opinions"]) == [opinion]
    assert reverse("meetings:detail", args=[meeting.pk]) in page.content.decode()


def test_opinion_refused_on_an_archived_meeting_and_for_a_wrong_stage(world, client):
    candidate = make_candidate(world.group, world.secretary, name="李明")
    archived = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    held = make_meeting(world.group, world.leader, state=MeetingState.HELD)
    login(client, world.leader)
    assert client.get(reverse("meetings:detail", args=[archived.pk])).context["opinion_form"] is None
    before = row_counts()
    payload = {"candidate": candidate.pk, "recommendation": "recommend", "opinion": "推荐"}
    response = client.post(reverse("meetings:opinion_record", args=[archived.pk]), payload)
    assert response.status_code == 200
    assert form_errors(response, "opinion_form") == [
        "会议已存档，记录只读（R-12）；如需补充，请添加补正记录。"
    ]
    response = client.post(
        reverse("meetings:opinion_record", args=[held.pk]), {**payload, "proposed_stage": "development"}
    )
    assert form_errors(response, "opinion_form") == [
        "“李明”目前是“入党申请人”，只能推荐进入下一阶段“入党积极分子”，不能推荐为“发展对象”（R-22：培养阶段须依次经过）。"
    ]
    assert "不能推荐为“发展对象”" in response.content.decode()
    assert row_counts() == before


def test_opinion_section_hidden_for_meetings_not_held_or_groups_without_candidates(world, client):
    make_candidate(world.group, world.secretary, name="李明")
    draft = make_meeting(world.group, world.leader, state=MeetingState.DRAFT)
    other = make_meeting(world.other_group, world.other_leader, state=MeetingState.HELD)
    login(client, world.secretary)
    for meeting in (draft, other):
        context = client.get(reverse("meetings:detail", args=[meeting.pk])).context
        assert "cultivation_candidates" not in context
        assert (
            'id="cultivation"'
            not in client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
        )


# --- Posts and commitments, points rating (R-33) -------------------------------------------


def test_posts_page_lists_members_without_posts_with_their_commitment(world, client):
    for m in world.members:
        m.post = ""
        m.save(update_fields=["post"])
    chief = world.members[0]
    chief.post = "处长"
    chief.save(update_fields=["post"])
    MemberPost.objects.create(
        member=world.members[1],
        year=TODAY.year,
        title="政策宣传岗",
        commitment="宣讲",
        created_by=world.secretary,
    )
    MemberPost.objects.create(
        member=world.members[2],
        year=TODAY.year - 1,
        title="联系群众岗",
        commitment="走访",
        created_by=world.secretary,
    )
    login(client, world.secretary)
    response = client.get(reverse("duties:posts", args=[world.branch.pk]))
    without = {m.name: m.year_post for m in response.context["without_post"]}
    assert chief.name not in without
    assert {world.members[1].name, world.members[2].name, world.members[3].name} <= set(without)
    assert without[world.members[1].name].title == "政策宣传岗"
    assert without[world.members[2].name] is None  # last year's post is not this year's
    assert response.context["points_enabled"] is False
    body = response.content.decode()
    assert "积分定等（R-33）" not in body and 'id="points"' not in body


def test_post_recorded_and_refused_the_second_time(world, client):
    member = world.members[1]
    login(client, world.secretary)
    url = reverse("duties:posts", args=[world.branch.pk])
    payload = {"member": member.pk, "year": TODAY.year, "title": "政策宣传岗", "commitment": "每月宣讲一次"}
    assert client.post(url, payload)["Location"] == f"{url}?year={TODAY.year}"
    post = MemberPost.objects.get()
    assert (post.member, post.year, post.title, post.created_by) == (
        member,
        TODAY.year,
        "政策宣传岗",
        world.secretary,
    )
    before = row_counts()
    response = client.post(url, {**payload, "title": "联系群众岗"})
    assert response.status_code == 200
    assert form_errors(response) == ["该党员本年度已设岗承诺（R-32）。"]
    assert row_counts() == before


def test_points_refused_while_the_rule_set_does_not_enable_them(world, client):
    """R-33 is an optional module: hidden on the page and refused by the service, nothing saved."""
    login(client, world.secretary)
    before = row_counts()
    response = client.post(
        reverse("duties:points_record", args=[world.branch.pk]),
        {"member": world.members[1].pk, "year": TODAY.year, "points": "90", "grade": "excellent"},
    )
    assert response.status_code == 200
    [error] = form_errors(response, "points_form")
    assert "未启用党员积分定等" in error and "R-33" in error
    assert error in response.content.decode()
    assert row_counts() == before


def test_points_shown_and_recorded_where_the_rule_set_enables_them(world, client):
    world.branch.organisation.rule_set = RuleSet.objects.get(code="loudi-2023")
    world.branch.organisation.save()
    login(client, world.secretary)
    url = reverse("duties:posts", args=[world.branch.pk])
    assert client.get(url).context["points_enabled"] is True
    response = client.post(
        reverse("duties:points_record", args=[world.branch.pk]),
        {"member": world.members[1].pk, "year": TODAY.year, "points": "92.5", "grade": "excellent"},
    )
    assert response["Location"] == f"{url}?year={TODAY.year}"
    rating = PointsRating.objects.get()
    assert (rating.member, str(rating.points), rating.grade) == (world.members[1], "92.5", "excellent")
    assert [r.pk for r in client.get(url).context["ratings"]] == [rating.pk]


def test_my_posts_shows_only_the_members_own(world, client):
    mine = MemberPost.objects.create(
        member=world.members[1],
        year=TODAY.year,
        title="政策宣传岗",
        commitment="宣讲",
        created_by=world.secretary,
    )
    MemberPost.objects.create(
        member=world.members[2],
        year=TODAY.year,
        title="联系群众岗",
        commitment="走访",
        created_by=world.secretary,
    )
    login(client, world.member_user)
    response = client.get(reverse("duties:my_posts"))
    assert [p.pk for p in response.context["posts"]] == [mine.pk]
    assert "联系群众岗" not in response.content.decode()
    login(client, world.org_staff)  # no member record
    assert client.get(reverse("duties:my_posts")).context["has_member"] is False


def test_posts_query_count_flat(world, client):
    world.branch.organisation.rule_set = RuleSet.objects.get(code="loudi-2023")
    world.branch.organisation.save()

    def add(n):
        member = f.MemberFactory(branch=world.branch, name=f.chinese_name(900 + n), post="")
        MemberPost.objects.create(
            member=member, year=TODAY.year, title="岗位", commitment="承诺", created_by=world.secretary
        )
        PointsRating.objects.create(
            member=member, year=TODAY.year, points=90, grade="qualified", rated_by=world.secretary
        )

    add(0)
    login(client, world.secretary)
    url = reverse("duties:posts", args=[world.branch.pk])
    client.get(url)
    one = queries(client, url)
    for n in range(1, 20):
        add(n)
    assert len(client.get(url).context["ratings"]) == 20
    assert queries(client, url) == one


def test_my_posts_query_count_flat(world, client):
    member = world.members[1]

    def add(n):
        MemberPost.objects.create(
            member=member, year=2000 + n, title="岗位", commitment="承诺", created_by=world.secretary
        )
        PointsRating.objects.create(
            member=member, year=2000 + n, points=90, grade="qualified", rated_by=world.secretary
        )

    add(0)
    login(client, world.member_user)
    url = reverse("duties:my_posts")
    client.get(url)
    one = queries(client, url)
    for n in range(1, 20):
        add(n)
    assert len(client.get(url).context["posts"]) == 20
    assert queries(client, url) == one


def test_dashboard_links_to_the_duty_pages(world, client):
    login(client, world.secretary)
    body = client.get(reverse("dashboard:branch", args=[world.branch.pk])).content.decode()
    for name in ("duties:reviews", "duties:training", "duties:cultivation", "duties:posts"):
        assert reverse(name, args=[world.branch.pk]) in body, name

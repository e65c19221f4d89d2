"""Tests of meetings/selectors.py and meetings/permissions.py: who sees which meetings and talks, and
who may lead, approve, correct and print them — every role × own/other branch × own/other group."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.selectors import roles_of
from meetings.enums import MeetingState
from meetings.models import Meeting, Talk
from meetings.selectors import meetings_visible_to, talks_visible_to
from members.enums import CommitteePost
from members.models import Member
from tests import factories as f
from tests.meetings.factories import make_meeting

D = dt.date


@dataclass
class Scene:
    users: dict
    meetings: dict  # name → Meeting
    talks: dict  # name → Talk


@pytest.fixture
def scene(world) -> Scene:
    """Meetings and talks in world.group, world.other_group and a group of the other branch."""
    far_group = f.PartyGroupFactory(branch=world.other_branch, name="外支部党小组")
    far_members = [f.GroupMembershipFactory(group=far_group).member for _ in range(3)]
    f.LeaderAppointmentFactory(group=far_group, member=far_members[0])
    far_leader = f.user_for(far_members[0], "far_leader")
    other_members = list(world.other_group.memberships.order_by("pk").values_list("member", flat=True))

    meetings = {
        "A1": make_meeting(world.group, world.leader),  # archived
        "D1": make_meeting(world.group, world.leader, state=MeetingState.DRAFT),
        "N1": make_meeting(world.group, world.leader, state=MeetingState.NOTIFIED),
        "A2": make_meeting(world.other_group, world.other_leader),
        "H2": make_meeting(world.other_group, world.other_leader, state=MeetingState.HELD),
        "A3": make_meeting(far_group, far_leader, approver=world.other_secretary),
    }
    m = world.members
    talks = {}
    for name, group, a, b in [
        ("T1", world.group, m[1], m[2]),
        ("T2", world.group, m[0], m[3]),
        ("T3", world.other_group, other_members[0], other_members[1]),
        ("T4", far_group, far_members[1], far_members[2]),
    ]:
        talks[name] = Talk.objects.create(
            group=group,
            talked_on=D(2025, 1, 5),
            initiator_id=getattr(a, "pk", a),
            partner_id=getattr(b, "pk", b),
            topic="谈心",
            summary="要点",
            recorded_by=world.leader,
        )

    deputy = f.user_for(m[2], "deputy")
    f.LeaderAppointmentFactory(group=world.group, member=m[2], role="deputy")
    propaganda_member = f.MemberFactory(branch=world.branch)
    f.CommitteeMembershipFactory(member=propaganda_member, post=CommitteePost.PROPAGANDA)
    other_member = f.user_for(Member.objects.get(pk=other_members[2]), "om")  # not in talk T3
    users = {
        "superuser": f.UserFactory(username="root", is_superuser=True, is_staff=True),
        "org_staff": world.org_staff,
        "other_org_staff": f.OrganisationStaffFactory(organisation=world.other_branch.organisation).user,
        "secretary": world.secretary,
        "propaganda": f.user_for(propaganda_member, "propaganda"),
        "other_secretary": world.other_secretary,
        "leader": world.leader,
        "deputy": deputy,
        "other_leader": world.other_leader,
        "far_leader": far_leader,
        "member": world.member_user,
        "other_member": other_member,
        "nobody": f.UserFactory(username="nobody"),
        "anonymous": AnonymousUser(),
    }
    # Fresh from the database: the world fixture's in-memory organisations have stale tree paths
    # (treebeard re-sorts sibling roots by name when the second one is added).
    related = ("group__branch__organisation",)
    meetings = {n: Meeting.objects.select_related(*related).get(pk=m.pk) for n, m in meetings.items()}
    talks = {n: Talk.objects.select_related(*related).get(pk=t.pk) for n, t in talks.items()}
    return Scene(users=users, meetings=meetings, talks=talks)


ALL = {"A1", "D1", "N1", "A2", "H2", "A3"}
BRANCH = {"A1", "D1", "N1", "A2", "H2"}
EXPECTED_MEETINGS = {
    "superuser": ALL,
    "org_staff": BRANCH,
    "other_org_staff": {"A3"},
    "secretary": BRANCH,
    "propaganda": BRANCH,  # a committee member sees the branch (approving is another matter)
    "other_secretary": {"A3"},
    "leader": {"A1", "D1", "N1"},
    "deputy": {"A1", "D1", "N1"},
    "other_leader": {"A2", "H2"},
    "far_leader": {"A3"},
    "member": {"A1"},  # own group's archived meetings only
    "other_member": {"A2"},
    "nobody": set(),
    "anonymous": set(),
}
EXPECTED_TALKS = {
    "superuser": {"T1", "T2", "T3", "T4"},
    "org_staff": {"T1", "T2", "T3"},
    "other_org_staff": {"T4"},
    "secretary": {"T1", "T2", "T3"},
    "propaganda": {"T1", "T2", "T3"},
    "other_secretary": {"T4"},
    "leader": {"T1", "T2"},
    "deputy": {"T1", "T2"},
    "other_leader": {"T3"},
    "far_leader": {"T4"},
    "member": {"T1"},  # talks they took part in
    "other_member": set(),
    "nobody": set(),
    "anonymous": set(),
}


def names(objects: dict, qs) -> set[str]:
    by_pk = {o.pk: name for name, o in objects.items()}
    return {by_pk[pk] for pk in qs.values_list("pk", flat=True)}


def test_meetings_visible_to_each_role(scene):
    seen = {role: names(scene.meetings, meetings_visible_to(user)) for role, user in scene.users.items()}
    assert seen == EXPECTED_MEETINGS


def test_talks_visible_to_each_role(scene):
    seen = {role: names(scene.talks, talks_visible_to(user)) for role, user in scene.users.items()}
    assert seen == EXPECTED_TALKS


def allowed(scene, objects: dict, perm: str) -> dict[str, set[str]]:
    """role → names of the objects on which the role has ``perm``."""
    return {
        role: {name for name, obj in objects.items() if user.has_perm(perm, obj)}
        for role, user in scene.users.items()
    }


def test_view_meeting_permission_matches_selector(scene):
    assert allowed(scene, scene.meetings, "meetings.view_meeting") == EXPECTED_MEETINGS


def test_view_minutes_pdf_only_with_minutes(scene):
    expected = {role: names - {"D1", "N1"} for role, names in EXPECTED_MEETINGS.items()}
    expected["superuser"] = ALL  # Django grants an active superuser every permission
    assert allowed(scene, scene.meetings, "meetings.view_minutes_pdf") == expected


def test_view_talk_permission_matches_selector(scene):
    assert allowed(scene, scene.talks, "meetings.view_talk") == EXPECTED_TALKS


LEAD = {
    "superuser": ALL,
    "leader": {"A1", "D1", "N1"},
    "deputy": {"A1", "D1", "N1"},
    "other_leader": {"A2", "H2"},
    "far_leader": {"A3"},
}
APPROVE = {"superuser": ALL, "secretary": BRANCH, "other_secretary": {"A3"}}
ARCHIVED = {"A1", "A2", "A3"}


def test_lead_and_approve_permissions(scene):
    assert allowed(scene, scene.meetings, "meetings.lead_meeting") == {
        role: LEAD.get(role, set()) for role in scene.users
    }
    assert allowed(scene, scene.meetings, "meetings.approve_meeting") == {
        role: APPROVE.get(role, set()) for role in scene.users
    }


def test_addendum_and_edit_permissions(scene):
    """Addenda only on archived meetings (leader or approver); editing never once archived (R-12)."""
    addendum = {role: (LEAD.get(role, set()) | APPROVE.get(role, set())) & ARCHIVED for role in scene.users}
    edit = {role: LEAD.get(role, set()) - ARCHIVED for role in scene.users}
    # Django's User.has_perm grants an active superuser everything; the services and the admin
    # refuse to change archived meetings for superusers too (tested there).
    addendum["superuser"] = edit["superuser"] = ALL
    assert allowed(scene, scene.meetings, "meetings.add_addendum") == addendum
    assert allowed(scene, scene.meetings, "meetings.edit_meeting") == edit


def test_permissions_without_object_are_false(scene):
    for name in ("view_meeting", "lead_meeting", "approve_meeting", "add_addendum", "view_minutes_pdf"):
        assert not scene.users["leader"].has_perm(f"meetings.{name}", None)


def test_meeting_list_select_related_no_extra_queries(scene):
    user = scene.users["secretary"]
    roles_of(user)  # roles are computed once per user (and cached)
    with CaptureQueriesContext(connection) as ctx:
        rows = [(m.title, m.group.name, m.group.branch.name) for m in meetings_visible_to(user)]
    assert len(rows) == len(BRANCH)
    assert len(ctx.captured_queries) == 1


def test_talk_list_select_related_no_extra_queries(scene):
    user = scene.users["org_staff"]
    roles_of(user)
    with CaptureQueriesContext(connection) as ctx:
        rows = [(t.group.name, t.initiator.name, t.partner.name) for t in talks_visible_to(user)]
    assert len(rows) == 3
    assert len(ctx.captured_queries) == 1


def test_member_loses_archived_meetings_after_leaving_group(scene, world):
    """A plain member sees their CURRENT group's archived meetings: moved away, they no longer do."""
    membership = world.group.memberships.get(member=world.members[1])
    membership.ended_on = D(2024, 1, 1)
    membership.save()
    user = type(world.member_user).objects.get(pk=world.member_user.pk)  # roles are cached per user object
    assert names(scene.meetings, meetings_visible_to(user)) == set()
    assert Meeting.objects.filter(pk=scene.meetings["A1"].pk).exists()

"""Shared fixtures: a small branch with groups and users of every role."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass

import pytest

from groups.models import PartyGroup
from members.enums import CommitteePost
from members.models import Branch, Member
from tests import factories as f


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's Chromium; CI sets REQUIRE_BROWSER=1 so they can never be skipped."""
    if shutil.which("chromium") or os.path.exists("/usr/bin/chromium"):
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason="未安装 /usr/bin/chromium（apt-get install chromium）")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The default cache is the process's memory: what one test remembered (e.g. that a findings check
    was queued, partygroup.summaries) must not change another's outcome."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _seeded_rule_sets(request):
    """The rule sets come from a data migration; a transactional test (live_server, threads) flushes them.

    Re-create them for any test that touches the database, so tests do not depend on their order.
    """
    names = set(request.fixturenames)
    if names & {"transactional_db", "live_server"}:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    from members.models import RuleSet
    from members.rule_set_defaults import ensure_rule_sets

    ensure_rule_sets(RuleSet)


@dataclass
class World:
    """One branch with two groups, a secretary, two leaders, members; and a second branch."""

    branch: Branch
    group: PartyGroup
    other_group: PartyGroup
    secretary: object
    leader: object
    other_leader: object
    member_user: object
    org_staff: object
    other_branch: Branch
    other_secretary: object
    leader_member: Member
    members: list


@pytest.fixture
def world(db) -> World:
    org = f.OrganisationFactory(name="市直机关工委")
    branch = f.BranchFactory(organisation=org, name="办公室党支部")
    other_org = f.OrganisationFactory(name="另一工委")
    other_branch = f.BranchFactory(organisation=other_org, name="另一党支部")
    group = f.PartyGroupFactory(branch=branch, name="第一党小组")
    other_group = f.PartyGroupFactory(branch=branch, name="第二党小组")
    members = [f.GroupMembershipFactory(group=group).member for _ in range(4)]
    other_members = [f.GroupMembershipFactory(group=other_group).member for _ in range(3)]
    leader_member = members[0]
    f.LeaderAppointmentFactory(group=group, member=leader_member, started_on=dt.date(2022, 1, 1))
    f.LeaderAppointmentFactory(group=other_group, member=other_members[0], started_on=dt.date(2022, 1, 1))
    secretary_member = f.GroupMembershipFactory(group=other_group, member__name="书记甲").member
    f.CommitteeMembershipFactory(member=secretary_member, post=CommitteePost.SECRETARY)
    other_secretary_member = f.MemberFactory(branch=other_branch)
    f.CommitteeMembershipFactory(member=other_secretary_member, post=CommitteePost.SECRETARY)
    staff = f.OrganisationStaffFactory(organisation=org).user
    return World(
        branch=branch,
        group=group,
        other_group=other_group,
        secretary=f.user_for(secretary_member, "secretary"),
        leader=f.user_for(leader_member, "leader"),
        other_leader=f.user_for(other_members[0], "other_leader"),
        member_user=f.user_for(members[1], "member"),
        org_staff=staff,
        other_branch=other_branch,
        other_secretary=f.user_for(other_secretary_member, "other_secretary"),
        leader_member=leader_member,
        members=members,
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases; before it drops them at the end, PostgreSQL sessions other than
    ours that are still attached (a live-server request thread or a worker thread that has not let go
    of its connection yet) are closed, so the drop never fails with "being accessed by other users"."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for alias in connections:
            connection = connections[alias]
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )

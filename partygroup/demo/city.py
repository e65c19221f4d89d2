"""The city-scale benchmark data set (``seed_demo --scale city``): 600 branches, 30,000 members.

``city_plan`` draws everything from one seeded ``random.Random`` (no database), so the same seed
and day give the same data; ``build_city`` writes the plan with bulk inserts. Each branch has 50
members in 5 units of 10, one group per unit (10 members: inside the Loudi 10–20 guideline, R-08),
a leader per group, a deputy in the first group, a secretary, an organisation member and a
discipline member, 2 probationary members and one leading cadre, so the rule checks find nothing.

History: rows are written with simple-history's ``bulk_create_with_history`` (one history row per
object, user "system", a change reason), so history pages and audit reports see realistic tables;
it roughly doubles the rows written and still stays far below the 3-minute budget (docs/demo.md).

``build_city_meetings`` then adds three years of meetings, talks and annual plans (plain
``bulk_create``, no history) for the cadence benchmark; ``city_meetings_plan`` decides them without the
database, and a deterministic few percent of groups and members fall behind (``MISSES``).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from groups.enums import AppointmentMode, FilingStatus, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership, LeaderAppointment, PartyGroup
from meetings.enums import AttendanceRole, MeetingKind, MeetingState
from meetings.models import AnnualPlan, Attendance, Meeting, Talk
from meetings.rules import add_months, month_start
from members.enums import CommitteePost, Gender, MemberStatus, OrganisationKind
from members.models import Branch, CommitteeMembership, Member, Organisation, RuleSet, Unit
from partygroup.demo.people import (
    LOUDI_REGIONS,
    SURNAMES,
    IdNumbers,
    party_dates,
    random_date,
    random_mobile,
    random_name,
    words,
)

CITY_SEED = 20260422
CITY_BRANCHES = 600
UNITS_PER_BRANCH = 5
MEMBERS_PER_UNIT = 10
PROBATIONARY_PER_BRANCH = 2
BATCH_SIZE = 2000
REASON = "性能测试数据（seed_demo --scale city）"

DEPARTMENTS = words(
    "市发展和改革委员会 市教育局 市科学技术局 市工业和信息化局 市公安局 市民政局 市司法局 市财政局 "
    "市人力资源和社会保障局 市自然资源局 市生态环境局 市住房和城乡建设局 市交通运输局 市水利局 市农业农村局 "
    "市商务局 市文化旅游广电体育局 市卫生健康委员会 市退役军人事务局 市应急管理局 市审计局 市市场监督管理局 "
    "市统计局 市医疗保障局 市林业局 市城市管理和综合执法局 市机关事务管理局 市信访局 市政务服务和数据局 "
    "市档案馆"
)
UNIT_NAMES = words(
    "办公室 综合科 政策法规科 人事科 计划财务科 规划科 监督科 行政审批科 信息中心 执法支队 服务中心 业务一科 "
    "业务二科 业务三科 督查室 宣传科 安全监管科 统计科 项目管理科 机关党委办公室"
)
RARE_GIVEN = ("𠇔", "喆", "琰", "堃")


@dataclass(frozen=True, slots=True)
class CityMember:
    name: str
    gender: str
    birth: dt.date
    id_number: str
    phone: str
    unit: int | None  # index into the branch's units; None for the leading cadre
    group: int
    post: str
    leading: bool
    probationary: bool
    joined: dt.date
    full: dt.date | None


@dataclass(frozen=True, slots=True)
class CityBranch:
    name: str
    established: dt.date
    term_ends: dt.date
    units: tuple[str, ...]
    groups_established: tuple[dt.date, ...]
    members: tuple[CityMember, ...]
    leaders: tuple[int, ...]  # member index per group
    deputy: int  # member index, deputy leader of group 0
    committee: tuple[tuple[int, str], ...]  # (member index, post)


def _member(rng, ids, *, n, unit, group, slot, post, leading, probationary, today) -> CityMember:
    gender = Gender.MALE if rng.random() < 0.55 else Gender.FEMALE
    if probationary:
        birth = random_date(rng, dt.date(1996, 1, 1), dt.date(2003, 12, 31))
        joined, full = today - dt.timedelta(days=rng.randrange(30, 360)), None
    else:
        latest = dt.date(1985, 12, 31) if slot < 2 or leading else dt.date(1996, 12, 31)
        birth = random_date(rng, dt.date(1965, 1, 1), latest)
        joined, full = party_dates(birth, rng.randrange(60))
    name = random_name(rng, gender)
    if n % 997 == 0:  # a few rare characters, one of them outside the BMP
        name = rng.choice(SURNAMES) + RARE_GIVEN[(n // 997) % len(RARE_GIVEN)]
    return CityMember(
        name=name,
        gender=gender,
        birth=birth,
        id_number=ids.make(
            birth=birth, gender=gender, region=rng.choice(LOUDI_REGIONS), start=rng.randrange(500)
        ),
        phone=random_mobile(rng),
        unit=unit,
        group=group,
        post=post,
        leading=leading,
        probationary=probationary,
        joined=joined,
        full=full,
    )


def city_plan(*, branches: int, seed: int, today: dt.date) -> list[CityBranch]:
    """The whole data set as plain values; the same arguments always give the same plan."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data, not security)
    ids = IdNumbers()
    plan: list[CityBranch] = []
    n = 0
    for b in range(branches):
        department = DEPARTMENTS[b % len(DEPARTMENTS)]
        units = tuple(rng.sample(UNIT_NAMES, UNITS_PER_BRANCH))
        probationary = set(
            rng.sample(
                [g * MEMBERS_PER_UNIT + s for g in range(UNITS_PER_BRANCH) for s in range(3, 9)],
                PROBATIONARY_PER_BRANCH,
            )
        )
        members = []
        for g in range(UNITS_PER_BRANCH):
            for slot in range(MEMBERS_PER_UNIT):
                index = g * MEMBERS_PER_UNIT + slot
                leading = index == MEMBERS_PER_UNIT - 1  # the last member of group 0: the branch's cadre
                post = {0: f"{units[g]}负责人", 1: f"{units[g]}副职"}.get(slot, "科员")
                members.append(
                    _member(
                        rng,
                        ids,
                        n=n,
                        unit=None if leading else g,
                        group=g,
                        slot=slot,
                        post="副局长" if leading else post,
                        leading=leading,
                        probationary=index in probationary,
                        today=today,
                    )
                )
                n += 1
        plan.append(
            CityBranch(
                name=f"{department}机关第{b // len(DEPARTMENTS) + 1}党支部",
                established=random_date(rng, dt.date(2010, 1, 1), dt.date(2018, 12, 31)),
                term_ends=random_date(rng, dt.date(2027, 1, 1), dt.date(2029, 12, 31)),
                units=units,
                groups_established=tuple(
                    random_date(rng, dt.date(2019, 5, 1), dt.date(2023, 12, 31))
                    for _ in range(UNITS_PER_BRANCH)
                ),
                members=tuple(members),
                leaders=tuple(g * MEMBERS_PER_UNIT for g in range(UNITS_PER_BRANCH)),
                deputy=1,
                committee=(
                    (MEMBERS_PER_UNIT - 1, CommitteePost.SECRETARY),
                    (MEMBERS_PER_UNIT + 1, CommitteePost.ORGANISATION),
                    (2 * MEMBERS_PER_UNIT + 1, CommitteePost.DISCIPLINE),
                ),
            )
        )
    return plan


def _doc(day: dt.date, number: int) -> str:
    return f"机支〔{day.year}〕{number}号"


def build_city(
    *, branches: int = CITY_BRANCHES, seed: int = CITY_SEED, by, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Write the city data set in one transaction; returns the number of rows per kind."""
    started = time.monotonic()

    def step(message: str) -> None:
        log(f"[{time.monotonic() - started:6.1f} 秒] {message}")

    def bulk(objs: list, model) -> list:
        return bulk_create_with_history(
            objs, model, batch_size=BATCH_SIZE, default_user=by, default_change_reason=REASON
        )

    today = timezone.localdate()
    step(f"正在生成数据计划（{branches}个党支部，随机种子 {seed}）…")
    plan = city_plan(branches=branches, seed=seed, today=today)
    now = timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        org = Organisation(
            name="市直机关工委",
            kind=OrganisationKind.WORK_COMMITTEE,
            rule_set=RuleSet.objects.get(code="loudi-2023"),
        )
        org._history_user, org._change_reason = by, REASON
        org = Organisation.objects.add_root(instance=org)
        counts["上级党组织"] = 1

        step(f"正在写入党支部（{len(plan)}个）…")
        branch_objs = bulk(
            [
                Branch(
                    organisation=org,
                    name=p.name,
                    established_on=p.established,
                    committee_term_ends_on=p.term_ends,
                )
                for p in plan
            ],
            Branch,
        )
        counts["党支部"] = len(branch_objs)

        step("正在写入所在单位…")
        unit_objs = bulk(
            [Unit(branch=b, name=name) for b, p in zip(branch_objs, plan, strict=True) for name in p.units],
            Unit,
        )
        units = [unit_objs[i : i + UNITS_PER_BRANCH] for i in range(0, len(unit_objs), UNITS_PER_BRANCH)]
        counts["所在单位"] = len(unit_objs)

        step("正在写入党小组…")
        group_objs = bulk(
            [
                PartyGroup(branch=b, name=f"{u.name}党小组", unit=u, established_on=p.groups_established[g])
                for b, p, us in zip(branch_objs, plan, units, strict=True)
                for g, u in enumerate(us)
            ],
            PartyGroup,
        )
        groups = [group_objs[i : i + UNITS_PER_BRANCH] for i in range(0, len(group_objs), UNITS_PER_BRANCH)]
        counts["党小组"] = len(group_objs)

        total = sum(len(p.members) for p in plan)
        member_objs: list[Member] = []
        pending: list[Member] = []
        for b, p, us in zip(branch_objs, plan, units, strict=True):
            for m in p.members:
                member = Member(
                    branch=b,
                    name=m.name,
                    gender=m.gender,
                    birth_date=m.birth,
                    id_number=m.id_number,
                    phone=m.phone,
                    unit=us[m.unit] if m.unit is not None else None,
                    post=m.post,
                    is_leading_cadre=m.leading,
                    status=MemberStatus.PROBATIONARY if m.probationary else MemberStatus.FULL,
                    joined_on=m.joined,
                    full_member_on=m.full,
                    created_at=now,
                    updated_at=now,
                )
                _validate(member)
                pending.append(member)
                if len(pending) >= 5 * BATCH_SIZE:
                    member_objs += bulk(pending, Member)
                    pending = []
                    step(f"党员 {len(member_objs)}/{total}")
        if pending:
            member_objs += bulk(pending, Member)
            step(f"党员 {len(member_objs)}/{total}")
        counts["党员"] = len(member_objs)

        step("正在写入党小组成员、组长、支委会和党小组设置变更…")
        memberships, appointments, committee, changes = [], [], [], []
        offset = 0
        for b, p, gs in zip(branch_objs, plan, groups, strict=True):
            members = member_objs[offset : offset + len(p.members)]
            offset += len(p.members)
            start_of = {}
            for i, (m, obj) in enumerate(zip(p.members, members, strict=True)):
                start_of[i] = max(p.groups_established[m.group], m.joined)
                memberships.append(GroupMembership(group=gs[m.group], member=obj, started_on=start_of[i]))
            for role, index in [(LeaderRole.LEADER, i) for i in p.leaders] + [(LeaderRole.DEPUTY, p.deputy)]:
                m = p.members[index]
                began = max(start_of[index], m.full)
                appointments.append(
                    LeaderAppointment(
                        group=gs[m.group],
                        member=members[index],
                        role=role,
                        mode=AppointmentMode.DESIGNATED,
                        started_on=began,
                        term_ends_on=p.term_ends,
                        decision_number=_doc(began, 1),
                        attests_political_quality=True,
                        attests_dedication=True,
                        attests_organising_ability=True,
                        attested_by=by,
                        attested_at=now,
                    )
                )
            for index, post in p.committee:
                began = max(p.established, p.members[index].full or p.members[index].joined)
                committee.append(
                    CommitteeMembership(branch=b, member=members[index], post=post, started_on=began)
                )
            for g, group in enumerate(gs):
                decided = p.groups_established[g] - dt.timedelta(days=5)
                changes.append(
                    GroupChange(
                        branch=b,
                        group=group,
                        kind=GroupChangeKind.CREATE,
                        summary=f"建立党小组“{group.name}”，编入党员{MEMBERS_PER_UNIT}名。",
                        decided_on=decided,
                        document_number=_doc(decided, g + 1),
                        decided_by=by,
                        filing_status=FilingStatus.ACKNOWLEDGED,
                        filed_on=decided + dt.timedelta(days=3),
                        filed_by=by,
                        acknowledged_on=decided + dt.timedelta(days=10),
                        acknowledged_by=by,
                        organisation_comment="同意备案。",
                        created_at=now,
                    )
                )
        counts["党小组成员"] = len(bulk(memberships, GroupMembership))
        counts["组长和副组长"] = len(bulk(appointments, LeaderAppointment))
        counts["支委会成员"] = len(bulk(committee, CommitteeMembership))
        counts["党小组设置变更"] = len(bulk(changes, GroupChange))

        step(f"正在写入{MEETING_MONTHS}个月的会议、谈心谈话和年度计划…")
        counts.update(build_city_meetings(by=by, seed=seed, today=today, log=step))
    step("城市规模数据写入完成。")
    return counts


def _validate(member: Member) -> None:
    """Member.clean rules and field validators (ID checksum, phone, name), without per-row queries."""
    try:
        member.clean_fields(exclude=["branch", "unit", "user"])
        member.clean()
    except ValidationError as exc:
        raise ValidationError(f"党员“{member.name}”的数据无效：{'；'.join(exc.messages)}") from exc


# --- Meetings, talks and annual plans (issue 3: the cadence benchmark) ---------------------------------
MEETING_MONTHS = 36  # complete months of meetings before the month of seeding
LIFE_INTERVAL = 6  # months between organisational life meetings
TALK_INTERVAL = 6  # months between the leader's talks with each member
PLAN_YEARS = 4  # annual plans for this year and the three before
GROUP_CHUNK = 100  # groups written per round (bounded memory: ~4,600 meetings, ~15,000 attendance rows)
# The deterministic few who fall behind (by position, so a small --branches run has some too): the
# group at position p misses … when p % N == R (about 1/N of the groups, or of the members for R-20).
MISSES = {
    "R-10": (37, 5),  # one month of the last twelve without a group meeting
    "R-17": (47, 13),  # no plan for this year (a finding only after the due month)
    "R-18": (53, 7),  # the latest life meeting not held
    "R-19": (59, 11),  # the latest democratic evaluation not held
    "R-20": (97, 3),  # a member without the latest talk
}


@dataclass(frozen=True, slots=True)
class CityGroup:
    """What the meetings builder needs of a group, read from the database (so it can add meetings to a
    city set seeded without them)."""

    pk: int
    established: dt.date
    leader: int  # member id of the current leader
    members: tuple[tuple[int, dt.date], ...]  # (member id, in the group since)


@dataclass(frozen=True, slots=True)
class CityMeeting:
    group: int
    kind: str
    state: str
    planned: dt.date
    held: dt.date | None
    archive_number: str
    title: str


@dataclass
class CityMeetingsPlan:
    meetings: list[CityMeeting]
    talks: list[tuple[int, dt.date, int, int]]  # (group, day, initiator, partner)
    plans: list[tuple[int, int]]  # (group, year)
    expected: dict[str, set[int]]  # rule → ids of the groups (members for R-20) that fall behind


def _misses(rule: str, position: int) -> bool:
    every, rest = MISSES[rule]
    return position % every == rest


def _on(month: dt.date, day: int) -> dt.date:
    return month.replace(day=min(day, 28))


def _month_index(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def city_meetings_plan(groups: Sequence[CityGroup], *, today: dt.date, seed: int, first_position: int = 0):
    """Three years of meetings, talks and plans for ``groups`` (no database; deterministic).

    Group meetings every complete month (and this month: held if the day has passed, else in one of
    the request states), life meetings every 6 months, an evaluation every 12, the leader's talk with
    each member every 6 months, a plan per year; the groups and members chosen by ``MISSES`` fall
    behind once, so the cadence check finds a realistic few percent (``expected``).
    """
    rng = random.Random(seed)  # noqa: S311  (reproducible test data)
    this_month = month_start(today)
    pending = [
        MeetingState.DRAFT,
        MeetingState.SUBMITTED,
        MeetingState.RETURNED,
        MeetingState.APPROVED,
        MeetingState.NOTIFIED,
        MeetingState.CANCELLED,
    ]
    plan = CityMeetingsPlan([], [], [], {rule: set() for rule in MISSES})
    partner_position = first_position * MEMBERS_PER_UNIT
    for position, group in enumerate(groups, first_position):
        day = 5 + (position * 7 + rng.randrange(3)) % 20  # the group's usual day, 5th … 24th
        missed_month = add_months(this_month, -(1 + (position // MISSES["R-10"][0]) % 12))
        rows: list[tuple[dt.date, str, str]] = []  # (date, kind, title)
        past = [add_months(this_month, -k) for k in range(1, MEETING_MONTHS + 1)]  # latest first
        life_due = [m for m in past if (_month_index(m) + position) % LIFE_INTERVAL == 0]
        evaluation_due = [m for m in past if (_month_index(m) + position) % 12 == 3]
        for month in reversed(past):
            if not (month == missed_month and _misses("R-10", position)):
                rows.append(
                    (_on(month, day), MeetingKind.GROUP_MEETING, f"{month.year}年{month.month}月党小组会")
                )
            if month in life_due and not (month == life_due[0] and _misses("R-18", position)):
                rows.append((_on(month, day + 2), MeetingKind.LIFE_MEETING, f"{month.year}年组织生活会"))
            if month in evaluation_due and not (month == evaluation_due[0] and _misses("R-19", position)):
                rows.append((_on(month, day + 4), MeetingKind.EVALUATION, f"{month.year}年度民主评议党员"))
        for rule in ("R-10", "R-18", "R-19"):
            if _misses(rule, position):
                plan.expected[rule].add(group.pk)
        numbers: dict[int, int] = {}
        last_month = add_months(this_month, -1)
        for held_on, kind, title in rows:
            if held_on < group.established:
                continue
            state = MeetingState.ARCHIVED
            if month_start(held_on) == last_month and position % 4 == 0:
                state = MeetingState.REPORTED if position % 8 == 0 else MeetingState.HELD
            number = ""
            if state == MeetingState.ARCHIVED:
                numbers[held_on.year] = numbers.get(held_on.year, 0) + 1
                number = f"{held_on.year}-{group.pk:05d}-{numbers[held_on.year]:03d}"
            plan.meetings.append(CityMeeting(group.pk, kind, state, held_on, held_on, number, title))
        current = _on(this_month, day)
        title = f"{this_month.year}年{this_month.month}月党小组会"
        if current < today:
            plan.meetings.append(
                CityMeeting(
                    group.pk, MeetingKind.GROUP_MEETING, MeetingState.HELD, current, current, "", title
                )
            )
        else:
            state = pending[position % len(pending)]
            plan.meetings.append(
                CityMeeting(group.pk, MeetingKind.GROUP_MEETING, state, current, None, "", title)
            )

        # the leader talks with every member every 6 months (the first after they joined).
        offset = 1 + position % TALK_INTERVAL
        leader_since = dict(group.members).get(group.leader, group.established)
        for member, since in group.members:
            if member == group.leader:
                continue
            misses = _misses("R-20", partner_position) and since <= add_months(this_month, -MEETING_MONTHS)
            partner_position += 1
            talked = False
            for k in range(offset, MEETING_MONTHS + 1, TALK_INTERVAL):
                if misses and k == offset:
                    continue
                talk_day = _on(add_months(this_month, -k), day + 1)
                if talk_day >= max(since, leader_since):
                    plan.talks.append((group.pk, talk_day, group.leader, member))
                    talked = True
            arrival = max(since, leader_since) + dt.timedelta(days=7)
            if not talked and not misses and arrival < today:
                plan.talks.append((group.pk, arrival, group.leader, member))
            if misses:
                plan.expected["R-20"].add(member)

        for year in range(today.year - PLAN_YEARS + 1, today.year + 1):
            if year < group.established.year or (year == today.year and _misses("R-17", position)):
                continue
            plan.plans.append((group.pk, year))
        if _misses("R-17", position):
            plan.expected["R-17"].add(group.pk)
    return plan


def _archived_at(held: dt.date, now: dt.datetime) -> dt.datetime:
    """A week after the meeting (the branch files the record), never in the future."""
    return min(timezone.make_aware(dt.datetime.combine(held + dt.timedelta(days=7), dt.time(15))), now)


def city_meetings_plans(groups: Sequence[CityGroup], *, today: dt.date, seed: int):
    """``city_meetings_plan`` for ``groups`` in chunks of ``GROUP_CHUNK`` (bounded memory): yields
    (chunk, plan). The tests merge the plans' ``expected`` to know what the cadence check must find."""
    for first in range(0, len(groups), GROUP_CHUNK):
        chunk = groups[first : first + GROUP_CHUNK]
        yield chunk, city_meetings_plan(chunk, today=today, seed=seed + first, first_position=first)


def city_groups(today: dt.date) -> list[CityGroup]:
    """The active groups with their current leader and members, in id order (5 queries)."""
    members: dict[int, list[tuple[int, dt.date]]] = {}
    for group_id, member_id, since in (
        GroupMembership.objects.current(today)
        .values_list("group_id", "member_id", "started_on")
        .order_by("group_id", "member_id")
    ):
        members.setdefault(group_id, []).append((member_id, since))
    leaders = dict(
        LeaderAppointment.objects.current(today)
        .filter(role=LeaderRole.LEADER)
        .values_list("group_id", "member_id")
        .order_by("group_id", "started_on")
    )
    return [
        CityGroup(pk, established, leaders[pk], tuple(members.get(pk, ())))
        for pk, established in PartyGroup.objects.active(today)
        .order_by("pk")
        .values_list("pk", "established_on")
        if pk in leaders
    ]


def build_city_meetings(
    *, by, seed: int = CITY_SEED, today: dt.date | None = None, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Add three years of meetings, talks and plans to the city set (``build_city`` calls it; the bench
    calls it for a city set seeded before meetings existed). Plain ``bulk_create``, no history rows
    (docs/demo.md); attendance only for the meetings of last calendar year (the annual report's
    year). One transaction; returns the number of rows per kind."""
    today = today or timezone.localdate()
    groups = city_groups(today)
    counts = {"会议": 0, "出席记录": 0, "谈心谈话": 0, "年度计划": 0}
    now = timezone.now()
    done = 0
    with transaction.atomic():
        for chunk, plan in city_meetings_plans(groups, today=today, seed=seed):
            objs = Meeting.objects.bulk_create(
                [
                    Meeting(
                        group_id=m.group,
                        kind=m.kind,
                        state=m.state,
                        title=m.title,
                        planned_date=m.planned,
                        planned_place="党员活动室",
                        agenda="学习有关文件精神\n研究落实党支部工作安排",
                        held_on=m.held,
                        archive_number=m.archive_number,
                        archived_at=_archived_at(m.held, now) if m.archive_number else None,
                        created_by=by,
                    )
                    for m in plan.meetings
                ],
                batch_size=BATCH_SIZE,
            )
            counts["会议"] += len(objs)
            roster = {g.pk: g for g in chunk}
            attendance = []
            for index, meeting in enumerate(objs):
                if meeting.held_on is None or meeting.held_on.year != today.year - 1:
                    continue
                group = roster[meeting.group_id]
                present = [m for m, since in group.members if since <= meeting.held_on]
                absent = present[index % len(present)] if len(present) > 3 and index % 3 == 0 else None
                if absent == group.leader:
                    absent = None
                attendance += [
                    Attendance(
                        meeting=meeting,
                        member_id=member,
                        role=AttendanceRole.ABSENT if member == absent else AttendanceRole.PRESENT,
                        absence_reason="出差" if member == absent else "",
                    )
                    for member in present
                ]
            counts["出席记录"] += len(Attendance.objects.bulk_create(attendance, batch_size=BATCH_SIZE))
            counts["谈心谈话"] += len(
                Talk.objects.bulk_create(
                    [
                        Talk(
                            group_id=group,
                            talked_on=day,
                            initiator_id=initiator,
                            partner_id=partner,
                            topic="谈思想、谈工作",
                            summary="了解思想和工作情况，听取对党小组工作的意见。",
                            recorded_by=by,
                        )
                        for group, day, initiator, partner in plan.talks
                    ],
                    batch_size=BATCH_SIZE,
                )
            )
            counts["年度计划"] += len(
                AnnualPlan.objects.bulk_create(
                    [
                        AnnualPlan(
                            group_id=group, year=year, summary=f"{year}年党小组工作计划", created_by=by
                        )
                        for group, year in plan.plans
                    ],
                    batch_size=BATCH_SIZE,
                )
            )
            done += len(chunk)
            log(f"会议 {counts['会议']}（党小组 {done}/{len(groups)}）")
    return counts

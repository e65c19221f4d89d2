"""The city-scale benchmark data set (``seed_demo --scale city``): 600 branches, 30,000 members.

``city_plan`` draws everything from one seeded ``random.Random`` (no database), so the same seed
and day give the same data; ``build_city`` writes the plan with bulk inserts. Each branch has 50
members in 5 units of 10, one group per unit (10 members: inside the Loudi 10–20 guideline, R-08),
a leader per group, a deputy in the first group, a secretary, an organisation member and a
discipline member, 2 probationary members and one leading cadre, so the rule checks find nothing.

History: rows are written with simple-history's ``bulk_create_with_history`` (one history row per
object, user "system", a change reason), so history pages and audit reports see realistic tables;
it roughly doubles the rows written and still stays far below the 3-minute budget (docs/demo.md).

``build_city_meetings`` then adds three years of meetings, talks and annual plans (no history) for
the cadence benchmark; ``city_meetings_plan`` decides them without the database, and a deterministic
few percent of groups and members fall behind (``MISSES``). ``build_city_duties`` adds the members'
duties of issue 5 (ledgers from 1 January of last year: dues, thought reports; leader reviews and
training; candidates), decided by ``city_duties_plan`` with its own planned few (``DUTY_MISSES``).
The large tables (attendance, talks, dues, thought reports) are written with ``insert_rows``: COPY on
PostgreSQL, ``bulk_create`` elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from groups.enums import (
    AppointmentMode,
    CultivationStageKind,
    FilingStatus,
    GroupChangeKind,
    LeaderGrade,
    LeaderRole,
)
from groups.models import (
    CultivationCandidate,
    CultivationStage,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderReview,
    LeaderTraining,
    PartyGroup,
)
from groups.rules import one_year_before
from meetings.enums import AttendanceRole, MeetingKind, MeetingState
from meetings.models import AnnualPlan, Attendance, Meeting, Talk
from members.enums import (
    CommitteePost,
    Gender,
    MemberState,
    MemberStatus,
    OrganisationKind,
    ThoughtReportKind,
)
from members.models import (
    Branch,
    CommitteeMembership,
    DuesPayment,
    Member,
    Organisation,
    RuleSet,
    ThoughtReport,
    Unit,
)
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
from partygroup.months import add_months, block_start, month_start, months_between

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
        step("正在写入党费、思想汇报、组长考核和培训、培养对象…")
        counts.update(build_city_duties(by=by, seed=seed, today=today, log=step))
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
TALK_SUMMARY = "了解思想和工作情况，听取对党小组工作的意见。"
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
    calls it for a city set seeded before meetings existed). No history rows (docs/demo.md): meetings and
    plans with ``bulk_create``, attendance and talks with ``insert_rows`` (COPY on PostgreSQL);
    attendance only for the meetings of last calendar year (the annual report's year). One
    transaction; returns the number of rows per kind."""
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
                    (meeting.pk, member, "", "", AttendanceRole.ABSENT, "出差")
                    if member == absent
                    else (meeting.pk, member, "", "", AttendanceRole.PRESENT, "")
                    for member in present
                ]
            counts["出席记录"] += insert_rows(
                Attendance,
                ("meeting_id", "member_id", "person_name", "person_title", "role", "absence_reason"),
                attendance,
            )
            counts["谈心谈话"] += insert_rows(
                Talk,
                (
                    "group_id",
                    "talked_on",
                    "initiator_id",
                    "partner_id",
                    "place",
                    "topic",
                    "summary",
                    "recorded_by_id",
                    "created_at",
                ),
                [
                    (group, day, initiator, partner, "", "谈思想、谈工作", TALK_SUMMARY, by.pk, now)
                    for group, day, initiator, partner in plan.talks
                ],
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


# --- Members' duties (issue 5): dues, thought reports, reviews, training, cultivation ------------------
# The branches keep their ledgers from 1 January of last year (R-30/R-31 apply from then): the dues of
# every month since (360,000 rows for last year alone), quarterly thought reports, last year's and the
# year before's leader reviews, this year's and last year's training, a few candidates per branch. The
# deterministic few who fall behind (by position, as MISSES above: position % N == R):
DUTY_MISSES = {
    "R-31": (43, 7),  # members: the last one to three complete months unpaid
    "R-30": (53, 11),  # members: no thought report in the last five months
    "R-30w": (7, 3),  # probationary members: only oral reports since the last complete quarter began
    "R-28": (211, 5),  # group leaders: 不称职 in each of the last two years (replacement due)
    "R-35": (41, 9),  # leaders and deputies: no training in the past year
}
ONE_BAD_YEAR = (89, 17)  # group leaders: 不称职 last year only (no finding: not two in a row)
DUTY_BRANCH_CHUNK = 20  # branches written per round (~1,000 members: ~22,000 dues rows)
THOUGHT_SUMMARIES = (
    "汇报近期学习党的创新理论的体会和本职工作完成情况。",
    "汇报参加党小组学习、完成科室重点工作和遵守纪律的情况。",
    "汇报思想状况稳定，结合岗位工作谈了服务群众的体会和不足。",
)
WRITTEN_SUMMARY = "书面汇报本季度政治理论学习、履行岗位职责和遵守纪律情况，以及今后的努力方向。"
PROBATIONARY_SUMMARY = "预备党员书面思想汇报：汇报预备期内学习党章、参加组织生活和完成本职工作的情况。"
CANDIDATE_NOTES = {
    CultivationStageKind.APPLICANT: "本人递交入党申请书，党小组登记",
    CultivationStageKind.ACTIVIST: "支委会研究确定为入党积极分子",
    CultivationStageKind.DEVELOPMENT: "支委会研究确定为发展对象，报上级党委备案",
    CultivationStageKind.PROBATIONARY: "支部大会讨论通过，上级党委审批",
}


@dataclass(frozen=True, slots=True)
class DutyMember:
    pk: int
    position: int  # among all active members, by id
    group: int
    joined: dt.date | None
    probationary: bool
    name: str
    gender: str
    birth: dt.date | None


@dataclass(frozen=True, slots=True)
class DutyAppointment:
    pk: int
    position: int  # among all current appointments, by id
    group: int
    member: int
    role: str
    started: dt.date


@dataclass(frozen=True, slots=True)
class DutyGroup:
    pk: int
    position: int  # among all active groups, by id
    unit: int | None
    established: dt.date
    leader: int  # member id


@dataclass(frozen=True, slots=True)
class DutyBranch:
    """What the duties builder needs of a branch, read from the database (``city_duty_branches``)."""

    pk: int
    position: int
    groups: tuple[DutyGroup, ...]
    members: tuple[DutyMember, ...]
    appointments: tuple[DutyAppointment, ...]


@dataclass(frozen=True, slots=True)
class CityCandidate:
    branch: int
    group: int
    unit: int | None
    name: str
    gender: str
    birth: dt.date
    stages: tuple[tuple[str, dt.date], ...]  # in order; the last is the current stage
    contacts: tuple[int, ...]
    member: int | None


@dataclass
class CityDutiesPlan:
    dues: list[tuple[int, dt.date, Decimal, dt.date]]  # (member, month, amount, paid on)
    reports: list[tuple[int, dt.date, str, dt.date, dt.date, str]]  # (member, day, kind, from, to, text)
    reviews: list[tuple[int, int, str]]  # (appointment, year, grade)
    trainings: list[tuple[int, dt.date, str]]  # (member, day, title)
    candidates: list[CityCandidate]
    expected: dict[str, set[int]]  # rule → ids of members or groups


def ledger_start(today: dt.date) -> dt.date:
    """The city branches keep their ledgers from 1 January of last year."""
    return dt.date(today.year - 1, 1, 1)


def _duty_misses(rule: str, position: int) -> bool:
    every, rest = DUTY_MISSES[rule]
    return position % every == rest


def _dues_amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(200, 2000)) / 10  # 20.0 … 199.9 元 a month (0.5 %–2 % of income)


def city_duties_plan(branches: Sequence[DutyBranch], *, today: dt.date, seed: int) -> CityDutiesPlan:
    """The duties of ``branches`` (no database; the same arguments always give the same plan)."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data)
    this_month = month_start(today)
    start = ledger_start(today)
    last_block = add_months(block_start(this_month, 3), -3)  # the last complete quarter
    year_ago = one_year_before(today)
    plan = CityDutiesPlan([], [], [], [], [], {rule: set() for rule in ("R-28", "R-30", "R-31", "R-35")})
    for branch in branches:
        day_of = {g.pk: 5 + (g.position * 7) % 20 for g in branch.groups}
        for m in branch.members:
            tracked = max(start, month_start(m.joined)) if m.joined else start
            day = day_of[m.group]
            amount = _dues_amount(rng)
            # every month from the tracking start (this month too once collected) …
            unpaid = 0
            if _duty_misses("R-31", m.position) and tracked == start:
                unpaid = 1 + (m.position // DUTY_MISSES["R-31"][0]) % 3  # … but the last 1–3 months
                plan.expected["R-31"].add(m.pk)
            for month in months_between(tracked, this_month):
                paid_on = max(_on(month, day), m.joined or month)
                if paid_on >= today or (unpaid and month >= add_months(this_month, -unpaid)):
                    continue
                due = (
                    amount if month.year < today.year else (amount * Decimal("1.05")).quantize(Decimal("0.1"))
                )
                plan.dues.append((m.pk, month, due.quantize(Decimal("0.01")), paid_on))
            # a report at the end of every quarter (probationary members: written) …
            silent = (
                _duty_misses("R-30", m.position) and tracked == start and not m.probationary
            )  # … but nothing for five months
            oral_only = m.probationary and _duty_misses("R-30w", m.position)
            if oral_only and tracked <= last_block:
                plan.expected["R-30"].add(m.pk)
            if silent:
                plan.expected["R-30"].add(m.pk)
            for month in months_between(tracked, this_month):
                if month.month % 3:
                    continue
                received = max(_on(month, day + 2), (m.joined or month) + dt.timedelta(days=3))
                if received >= today or month_start(received) != month:
                    continue
                if silent and month >= add_months(this_month, -5):
                    continue
                written = (m.probationary and not (oral_only and month >= last_block)) or month.month in (
                    6,
                    12,
                )
                if m.probationary and written:
                    text = PROBATIONARY_SUMMARY
                elif written:
                    text = WRITTEN_SUMMARY
                else:
                    text = THOUGHT_SUMMARIES[(m.position + month.month) % len(THOUGHT_SUMMARIES)]
                kind = ThoughtReportKind.WRITTEN if written else ThoughtReportKind.ORAL
                period_from = max(add_months(month, -2), tracked)
                plan.reports.append((m.pk, received, kind, period_from, month, text))

        # the year-end reviews of the last two years; R-35: this year's and last year's training.
        leaders = {g.pk: g for g in branch.groups}
        for a in branch.appointments:
            group = leaders[a.group]
            for offset in (2, 1):
                year = today.year - offset
                if a.started >= dt.date(year, 7, 1):
                    continue
                grade = LeaderGrade.EXCELLENT if rng.random() < 0.2 else LeaderGrade.COMPETENT
                if a.role == LeaderRole.LEADER and (
                    _duty_misses("R-28", group.position)
                    or (offset == 1 and group.position % ONE_BAD_YEAR[0] == ONE_BAD_YEAR[1])
                ):
                    grade = LeaderGrade.INCOMPETENT
                plan.reviews.append((a.pk, year, grade))
            if (
                a.role == LeaderRole.LEADER
                and _duty_misses("R-28", group.position)
                and a.started < dt.date(today.year - 2, 7, 1)
            ):
                plan.expected["R-28"].add(group.pk)
            trained = today - dt.timedelta(days=60 + (branch.position * 11) % 240)
            earlier = trained - dt.timedelta(days=365)
            if a.started <= earlier:
                plan.trainings.append((a.member, earlier, f"{earlier.year}年市直机关党小组组长培训班"))
            if _duty_misses("R-35", a.position):
                if a.started <= year_ago:
                    plan.expected["R-35"].add(a.member)
            elif a.started <= trained:
                plan.trainings.append((a.member, trained, f"{trained.year}年市直机关党小组组长培训班"))

        # an applicant, an activist and a development candidate per branch; the probationary
        # members' cultivation records, linked to them.
        plan.candidates += _city_candidates(branch, rng, today)
    return plan


def _city_candidates(branch: DutyBranch, rng: random.Random, today: dt.date) -> list[CityCandidate]:
    """An applicant, an activist (one contact: the leader) and a development candidate (the leader and
    the deputy or the leader) per branch, each in a different group; and the probationary members'
    records (applied 800 days before joining, or when the group was founded if later)."""
    groups = branch.groups
    deputies = {a.group: a.member for a in branch.appointments if a.role == LeaderRole.DEPUTY}
    out = []
    kinds = (
        (CultivationStageKind.APPLICANT, 30 + branch.position % 150),
        (CultivationStageKind.ACTIVIST, 420 + branch.position % 200),
        (CultivationStageKind.DEVELOPMENT, 900 + branch.position % 100),
    )
    for index, (stage, applied_days) in enumerate(kinds):
        group = groups[(branch.position + index) % len(groups)]
        applied = max(today - dt.timedelta(days=applied_days), group.established)
        stages = [(CultivationStageKind.APPLICANT, applied)]
        contacts: tuple[int, ...] = ()
        if stage != CultivationStageKind.APPLICANT:
            stages.append((CultivationStageKind.ACTIVIST, applied + dt.timedelta(days=90)))
            contacts = (group.leader,)
        if stage == CultivationStageKind.DEVELOPMENT:
            developed = max(
                today - dt.timedelta(days=100 + branch.position % 200), applied + dt.timedelta(days=500)
            )
            developed = min(developed, today)
            stages.append((CultivationStageKind.DEVELOPMENT, developed))
            contacts = (group.leader, deputies.get(group.pk, group.leader))
        gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
        out.append(
            CityCandidate(
                branch=branch.pk,
                group=group.pk,
                unit=group.unit,
                name=random_name(rng, gender),
                gender=gender,
                birth=random_date(rng, dt.date(1990, 1, 1), dt.date(2004, 12, 31)),
                stages=tuple(stages),
                contacts=tuple(dict.fromkeys(contacts)),
                member=None,
            )
        )
    by_pk = {g.pk: g for g in groups}
    for m in branch.members:
        if not m.probationary or m.joined is None or m.birth is None:
            continue
        group = by_pk[m.group]
        applied = min(max(m.joined - dt.timedelta(days=800), group.established), m.joined)
        activist = min(applied + dt.timedelta(days=100), m.joined)
        developed = min(max(m.joined - dt.timedelta(days=300), activist), m.joined)
        stages = (
            (CultivationStageKind.APPLICANT, applied),
            (CultivationStageKind.ACTIVIST, activist),
            (CultivationStageKind.DEVELOPMENT, developed),
            (CultivationStageKind.PROBATIONARY, m.joined),
        )
        out.append(
            CityCandidate(
                branch=branch.pk,
                group=m.group,
                unit=group.unit,
                name=m.name,
                gender=m.gender,
                birth=m.birth,
                stages=stages,
                contacts=(group.leader,),
                member=m.pk,
            )
        )
    return out


def city_duty_branches(today: dt.date) -> list[DutyBranch]:
    """The active groups, members and current appointments of every branch, by id (5 queries)."""
    groups_of: dict[int, list[DutyGroup]] = {}
    leaders = dict(
        LeaderAppointment.objects.current(today)
        .filter(role=LeaderRole.LEADER)
        .values_list("group_id", "member_id")
        .order_by("group_id", "started_on")
    )
    for position, (pk, branch_id, unit_id, established) in enumerate(
        PartyGroup.objects.active(today)
        .order_by("pk")
        .values_list("pk", "branch_id", "unit_id", "established_on")
    ):
        if pk in leaders:
            groups_of.setdefault(branch_id, []).append(
                DutyGroup(pk, position, unit_id, established, leaders[pk])
            )
    group_of = dict(
        GroupMembership.objects.current(today).values_list("member_id", "group_id").order_by("member_id")
    )
    members_of: dict[int, list[DutyMember]] = {}
    rows = (
        Member.objects.filter(state=MemberState.ACTIVE)
        .order_by("pk")
        .values_list("pk", "branch_id", "joined_on", "status", "name", "gender", "birth_date")
    )
    for position, (pk, branch_id, joined, status, name, gender, birth) in enumerate(rows.iterator(5000)):
        if pk in group_of:
            members_of.setdefault(branch_id, []).append(
                DutyMember(
                    pk,
                    position,
                    group_of[pk],
                    joined,
                    status == MemberStatus.PROBATIONARY,
                    name,
                    gender,
                    birth,
                )
            )
    appointments_of: dict[int, list[DutyAppointment]] = {}
    for position, (pk, group_id, branch_id, member_id, role, started) in enumerate(
        LeaderAppointment.objects.current(today)
        .order_by("pk")
        .values_list("pk", "group_id", "group__branch_id", "member_id", "role", "started_on")
    ):
        appointments_of.setdefault(branch_id, []).append(
            DutyAppointment(pk, position, group_id, member_id, role, started)
        )
    return [
        DutyBranch(
            pk,
            position,
            tuple(groups_of.get(pk, ())),
            tuple(members_of.get(pk, ())),
            tuple(appointments_of.get(pk, ())),
        )
        for position, pk in enumerate(Branch.objects.order_by("pk").values_list("pk", flat=True))
        if groups_of.get(pk)
    ]


def city_duties_plans(branches: Sequence[DutyBranch], *, today: dt.date, seed: int):
    """``city_duties_plan`` in chunks of ``DUTY_BRANCH_CHUNK`` branches (bounded memory): yields
    (chunk, plan). The tests merge the plans' ``expected`` to know what the duty checks must find."""
    for first in range(0, len(branches), DUTY_BRANCH_CHUNK):
        chunk = branches[first : first + DUTY_BRANCH_CHUNK]
        yield chunk, city_duties_plan(chunk, today=today, seed=seed + 7919 * (first + 1))


def insert_rows(model: type[models.Model], attnames: Sequence[str], rows: Sequence[tuple]) -> int:
    """Insert plain rows (values in ``attnames`` order; every concrete column but the id, since COPY
    applies no Django defaults) without building model instances. On PostgreSQL one ``COPY … FROM
    STDIN`` (CSV; a quoted empty string stays an empty string, an unquoted empty field is NULL) — about
    five times faster than ``bulk_create`` for the city set's 860,000 duty rows; elsewhere
    ``bulk_create``. Returns the number of rows."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
        return len(model.objects.bulk_create(objs, batch_size=BATCH_SIZE))
    columns = {f.attname: f.column for f in model._meta.concrete_fields}
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    for row in rows:
        writer.writerow([None if v is None else v if isinstance(v, int) else str(v) for v in row])
    buffer.seek(0)
    quote = connection.ops.quote_name
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(columns[a]) for a in attnames)}) "
        "FROM STDIN WITH (FORMAT csv)"
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(sql, buffer)
    return len(rows)


def build_city_duties(
    *, by, seed: int = CITY_SEED, today: dt.date | None = None, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Add the members' duties to the city set (``build_city`` calls it last; the bench may call it for
    a city set seeded before issue 5). Sets every branch's ledger start (with history), then writes
    without history rows (as the meetings): the 860,000 dues and report rows with ``insert_rows`` (COPY
    on PostgreSQL), the rest with ``bulk_create``. One transaction; returns the row counts."""
    today = today or timezone.localdate()
    now = timezone.now()
    branches = city_duty_branches(today)
    counts = {"党费": 0, "思想汇报": 0, "组长考核": 0, "组长培训": 0, "培养对象": 0}
    done = 0
    with transaction.atomic():
        rows = list(Branch.objects.filter(pk__in=[b.pk for b in branches]))
        for branch in rows:
            branch.ledger_start_on = ledger_start(today)
        bulk_update_with_history(
            rows,
            Branch,
            ["ledger_start_on"],
            batch_size=BATCH_SIZE,
            default_user=by,
            default_change_reason=REASON,
        )
        for chunk, plan in city_duties_plans(branches, today=today, seed=seed):
            counts["党费"] += insert_rows(
                DuesPayment,
                (
                    "member_id",
                    "month",
                    "amount_due",
                    "amount_paid",
                    "paid_on",
                    "is_lump_sum",
                    "note",
                    "collected_by_id",
                    "created_at",
                ),
                [
                    (m, month, amount, amount, paid_on, False, "", by.pk, now)
                    for m, month, amount, paid_on in plan.dues
                ],
            )
            counts["思想汇报"] += insert_rows(
                ThoughtReport,
                (
                    "member_id",
                    "received_on",
                    "kind",
                    "period_start",
                    "period_end",
                    "summary",
                    "received_by_id",
                    "created_at",
                ),
                [
                    (m, day, kind, first, last, text, by.pk, now)
                    for m, day, kind, first, last, text in plan.reports
                ],
            )
            counts["组长考核"] += len(
                LeaderReview.objects.bulk_create(
                    [
                        LeaderReview(
                            appointment_id=appointment,
                            year=year,
                            grade=grade,
                            notes=str(LeaderGrade(grade).label),
                            reviewed_on=dt.date(year, 12, 20),
                            reviewed_by=by,
                        )
                        for appointment, year, grade in plan.reviews
                    ],
                    batch_size=BATCH_SIZE,
                )
            )
            counts["组长培训"] += len(
                LeaderTraining.objects.bulk_create(
                    [
                        LeaderTraining(
                            member_id=member,
                            trained_on=day,
                            title=title,
                            hours=Decimal("16"),
                            organiser="中共娄底市直属机关工作委员会",
                            recorded_by=by,
                        )
                        for member, day, title in plan.trainings
                    ],
                    batch_size=BATCH_SIZE,
                )
            )
            counts["培养对象"] += _write_candidates(plan.candidates, by=by)
            done += len(chunk)
            log(f"党费 {counts['党费']}，思想汇报 {counts['思想汇报']}（党支部 {done}/{len(branches)}）")
    return counts


def _write_candidates(candidates: Sequence[CityCandidate], *, by) -> int:
    objs = CultivationCandidate.objects.bulk_create(
        [
            CultivationCandidate(
                branch_id=c.branch,
                group_id=c.group,
                unit_id=c.unit,
                name=c.name,
                gender=c.gender,
                birth_date=c.birth,
                stage=c.stages[-1][0],
                stage_started_on=c.stages[-1][1],
                member_id=c.member,
                created_by=by,
            )
            for c in candidates
        ],
        batch_size=BATCH_SIZE,
    )
    CultivationStage.objects.bulk_create(
        [
            CultivationStage(
                candidate=obj,
                stage=stage,
                started_on=day,
                decided_by_note=CANDIDATE_NOTES[stage],
                recorded_by=by,
            )
            for obj, c in zip(objs, candidates, strict=True)
            for stage, day in c.stages
        ],
        batch_size=BATCH_SIZE,
    )
    through = CultivationCandidate.contacts.through
    through.objects.bulk_create(
        [
            through(cultivationcandidate_id=obj.pk, member_id=member)
            for obj, c in zip(objs, candidates, strict=True)
            for member in c.contacts
        ],
        batch_size=BATCH_SIZE,
    )
    return len(objs)

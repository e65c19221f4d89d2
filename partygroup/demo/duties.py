"""The members' duties part of the demo (issue 5), written through the services of every app.

Runs after ``core`` and ``meetings`` (it uses their groups, members, accounts and meeting helpers).
Relative to the day it runs (``ctx.today``; ``Y1`` is last year, ``Y2`` the year before):

- every branch keeps its ledgers in the system from 1 January of ``Y1`` (``Branch.ledger_start_on``,
  so R-30 and R-31 apply);
- R-31 dues: every member paid every month from the ledger start (or joining) to last month, most
  at the group meeting through ``groups.services.dues_record_month`` (the leader's collection), the
  retired members quarterly in advance and members outside a group through
  ``members.services.dues_record_many``; this month is collected where the group has met already;
- R-30 thought reports: 办公室党小组 reports monthly, everyone else quarterly, probationary members in
  writing every quarter (``members.services.thought_report_record``);
- R-28 leader reviews for ``Y1`` (and ``Y2``) of every leader and deputy in office in that year,
  the interviews (约谈) of the one rated 不称职; R-35 the leaders' training of this year and last;
- R-22 cultivation: candidates in every stage, the group's opinions recorded in held meetings whose
  agenda has seed 002's second item (then reported and archived); R-32 posts and commitments of the
  members without a party post; R-33 points ratings in the Loudi-rule-set branch.

One deliberate finding per rule (``ctx.expect``): R-28, R-30, R-31, R-35 (docs/demo.md tells why).
The services stamp ``created_at`` with the time of seeding; as the meetings part does, the records
are then moved to the day they would have been entered (never later than now).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from groups import services as group_services
from groups.enums import CultivationStageKind, LeaderGrade
from groups.models import (
    CultivationCandidate,
    CultivationStage,
    GroupMembership,
    LeaderAppointment,
    LeaderInterview,
    LeaderReview,
    LeaderTraining,
)
from meetings import annual_report
from meetings import services as meeting_services
from meetings.enums import MeetingKind, MeetingState, Recommendation, TopicCategory
from meetings.models import CultivationOpinion, Meeting
from members import services as member_services
from members.enums import Gender, MemberState, MemberStatus, PointsGrade, ThoughtReportKind
from members.models import DuesPayment, Member, MemberPost, PointsRating, ThoughtReport
from members.rules import is_membership_month
from partygroup.audit import audited_save
from partygroup.demo.base import DEMO_SEED, DemoContext
from partygroup.demo.meetings import (
    GroupLife,
    Plan,
    Topic,
    _backdate,
    _in_month,
    _lives,
    _run,
    _stamp,
    _weekday_before,
)
from partygroup.months import add_months, block_start, month_label, month_start, months_between

COVERED_RULES = ("R-22", "R-28", "R-30", "R-31", "R-32", "R-33", "R-35")
DEMO_USERNAMES: tuple[str, ...] = ()  # this part acts through the accounts core and meetings made
SEED = DEMO_SEED + 5  # amounts, points and pools: their own stream, independent of the earlier parts

# Who records for a group: its leader's account (宣传科党小组 has no leader: the branch secretary).
GROUP_USERS = {
    "office": "zuzhang_bangongshi",
    "budget": "zuzhang_yusuan",
    "treasury": "zuzhang_guoku",
    "procure": "zuzhang_caigou",
    "general": "zuzhang_zonghe",
    "service": "zuzhang_fuwu",
    "publicity": "shuji_gongwei",
    "resources": "zuzhang_ziran",
}
BRANCH_USERS = {
    "finance": "shuji_caizheng",
    "retirees": "shuji_lituixiu",
    "resources": "shuji_ziran",
    "committee_office": "shuji_gongwei",
}
BRANCH_DAY = 20  # members outside a group pay and report to the branch committee around this day
MONTHLY_GROUPS = frozenset({"office"})  # R-30: these groups' members report every month
ARREARS_MONTHS = 3  # 何磊 has not paid the last three complete months
ARREARS_MEMBER = "tre3"
OVERDUE_MEMBER = "off6"  # 赵雨萱 gave only oral reports since the last complete quarter began
UNTRAINED_LEADER = "bud1"  # R-35: 吴国平 missed this year's leaders' training
INCOMPETENT_LEADER = "w2"  # 汪俊杰, 不称职 in Y2 and Y1 → replacement due
LUMP_SUM_MEMBER = "director"  # 周建华's voluntary one-off large payment (一次性交纳大额党费) in July of Y1
POINTS_BRANCH = "resources"  # the only branch under the Loudi rule set (R-33 enabled)
M, F = Gender.MALE, Gender.FEMALE


# --- Shared helpers --------------------------------------------------------------------------------
def _users(names: Iterable[str]) -> dict[str, object]:
    return {u.username: u for u in get_user_model().objects.filter(username__in=set(names))}


def _restamp(model: type[models.Model], field_name: str, stamps: dict[int, dt.datetime]) -> None:
    """Move the ``created_at``-like stamps to when the records would have been entered (one update per
    distinct time, never later than now)."""
    now = timezone.now()
    by_stamp: dict[dt.datetime, list[int]] = defaultdict(list)
    for pk, stamp in stamps.items():
        by_stamp[min(stamp, now)].append(pk)
    for stamp, pks in by_stamp.items():
        model.objects.filter(pk__in=pks).update(**{field_name: stamp})


@dataclass(frozen=True)
class Span:
    group: str  # key in ctx.groups
    started: dt.date
    ended: dt.date | None


class Duties:
    """What every section needs: members, their group spans, the accounts, the days."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.today = ctx.today
        self.this_month = month_start(ctx.today)
        self.ledger_start = dt.date(ctx.today.year - 1, 1, 1)
        self.lives: dict[str, GroupLife] = _lives(ctx)
        self.users = _users([*GROUP_USERS.values(), *BRANCH_USERS.values()])
        self.key_of_group = {g.pk: k for k, g in ctx.groups.items()}
        self.key_of_member = {m.pk: k for k, m in ctx.members.items()}
        self.branch_key = {b.pk: k for k, b in ctx.branches.items()}
        self.members = dict(ctx.members)
        for member in Member.objects.filter(pk__in=[m.pk for m in self.members.values()]):
            self.members[self.key_of_member[member.pk]] = member  # fresh: state, status, left_on
        self.spans: dict[str, list[Span]] = defaultdict(list)
        for member_id, group_id, started, ended in GroupMembership.objects.filter(
            member_id__in=list(self.key_of_member)
        ).values_list("member_id", "group_id", "started_on", "ended_on"):
            self.spans[self.key_of_member[member_id]].append(
                Span(self.key_of_group[group_id], started, ended)
            )
        # Arrived from another branch this year (core): records before are copied from their papers.
        self.arrived = {k: ctx.days_ago(25) for k in ("n19", "n20", "n21", "n22")}
        self.arrived["newcomer"] = min(ctx.today, max(dt.date(ctx.today.year, 1, 5), ctx.days_ago(50)))

    def group_in(self, key: str, month: dt.date) -> str | None:
        """The member's group during ``month`` (the latest joined if they moved), None outside groups."""
        end = add_months(month, 1)
        spans = [s for s in self.spans[key] if s.started < end and (s.ended is None or s.ended > month)]
        return max(spans, key=lambda s: s.started).group if spans else None

    def branch_of(self, key: str) -> str:
        return self.branch_key[self.members[key].branch_id]

    def user_for(self, key: str, group: str | None):
        return self.users[GROUP_USERS[group] if group else BRANCH_USERS[self.branch_of(key)]]

    def day_for(self, group: str | None, month: dt.date) -> dt.date:
        return _in_month(month, self.lives[group].day if group else BRANCH_DAY)

    def tracked(self) -> list[str]:
        """Every member with a joining date, in the demo's order (left members up to their leaving)."""
        return [k for k, m in self.members.items() if m.joined_on is not None]


# --- Ledger start (R-30, R-31) ---------------------------------------------------------------------
def _ledger_start(duties: Duties) -> None:
    for branch in duties.ctx.branches.values():
        branch.refresh_from_db()
        branch.ledger_start_on = duties.ledger_start
        audited_save(branch, by=duties.ctx.by, reason="演示数据：启用党员台账（思想汇报、党费）")


# --- R-31 dues -------------------------------------------------------------------------------------
def _dues_amounts(duties: Duties) -> dict[str, Decimal]:
    """Each member's monthly dues of last year, in 角 (0.5 %–2 % of the income, the rates of the
    Party's dues rules); this year's are 5 % higher (the yearly adjustment of the base)."""
    rng = random.Random(SEED)  # noqa: S311  (reproducible demo data)
    amounts = {}
    for key, member in duties.members.items():
        if duties.branch_of(key) == "retirees":
            tenths = rng.randrange(160, 320)
        elif member.is_leading_cadre:
            tenths = rng.randrange(1500, 2100)
        elif member.status == MemberStatus.PROBATIONARY:
            tenths = rng.randrange(200, 360)
        elif any(word in member.post for word in ("科长", "主任")):
            tenths = rng.randrange(600, 1100)
        else:
            tenths = rng.randrange(300, 700)
        amounts[key] = Decimal(tenths) / 10
    return amounts


def _due(amounts: dict[str, Decimal], key: str, month: dt.date, this_year: int) -> Decimal:
    base = amounts[key]
    if month.year >= this_year:
        base = (base * Decimal("1.05")).quantize(Decimal("0.1"))
    return base.quantize(Decimal("0.01"))


def _dues(duties: Duties) -> dict[int, dt.datetime]:
    """Every membership month paid from the ledger start, except 何磊's last three (R-31)."""
    ctx, today, this_month = duties.ctx, duties.today, duties.this_month
    amounts = _dues_amounts(duties)
    arrears = {add_months(this_month, -k) for k in range(1, ARREARS_MONTHS + 1)}
    quarter_end = add_months(block_start(this_month, 3), 2)  # the retired prepay the current quarter
    stamps: dict[int, dt.datetime] = {}
    for month in months_between(duties.ledger_start, quarter_end):
        batches: dict[tuple[str, str], list[member_services.DuesEntry]] = defaultdict(list)
        for key in duties.tracked():
            member = duties.members[key]
            if not is_membership_month(month, member.joined_on, member.left_on):
                continue
            if key == ARREARS_MEMBER and month >= min(arrears):
                continue  # seconded to the province; the last months are not paid
            group = duties.group_in(key, month)
            retired = duties.branch_of(key) == "retirees"
            if month > this_month and not retired:
                continue
            # The retired pay quarterly, in advance, at the branch's first meeting of the quarter.
            paid_on = _in_month(block_start(month, 3), 5) if retired else duties.day_for(group, month)
            paid_on = max(paid_on, member.joined_on)
            if member.left_on is not None:
                paid_on = min(paid_on, member.left_on - dt.timedelta(days=1))
            if paid_on >= today:
                continue  # not collected yet
            note = ""
            if key in duties.arrived and month < month_start(duties.arrived[key]):
                note = "在原党支部交纳，据组织关系介绍信登记"
            elif retired:
                note = "按季度预交"
            due = _due(amounts, key, month, today.year)
            paid = due
            lump = key == LUMP_SUM_MEMBER and month == dt.date(today.year - 1, 7, 1)
            if lump:
                paid, note = Decimal("12000.00"), "庆祝建党节，自愿一次性交纳大额党费"
            entry = member_services.DuesEntry(
                member=member, amount_due=due, amount_paid=paid, paid_on=paid_on, is_lump_sum=lump, note=note
            )
            batches[(group or "", duties.branch_of(key))].append(entry)
        for (group, branch), entries in batches.items():
            user = duties.users[GROUP_USERS[group] if group else BRANCH_USERS[branch]]
            if group:
                payments = group_services.dues_record_month(
                    group=ctx.groups[group], month=month, entries=entries, by=user
                )
            else:
                payments = member_services.dues_record_many(
                    month=month,
                    entries=entries,
                    by=user,
                    reason=f"{ctx.branches[branch].name}收缴{month_label(month)}党费",
                )
            stamps.update({p.pk: _stamp(p.paid_on, 17) for p in payments})
    member = duties.members[ARREARS_MEMBER]
    first, last = min(arrears), max(arrears)
    ctx.expect(
        "R-31",
        member.name,
        f"{member.name}借调省财政厅后，{month_label(first)}至{last.month}月的党费未交（未委托他人代交）。",
    )
    return stamps


# --- R-30 thought reports --------------------------------------------------------------------------
ORAL = (
    "汇报近期学习党的创新理论的体会和本职工作完成情况，表示将继续加强学习、改进作风。",
    "汇报参加党小组学习和完成科室重点工作的情况，对党小组活动提出了增加业务交流的建议。",
    "汇报思想状况稳定，结合“我为群众办实事”谈了服务群众的体会和不足。",
    "汇报落实党员承诺事项的进展，查找了工作标准不够高的问题，提出了改进措施。",
)
WRITTEN = (
    "书面汇报本季度政治理论学习、履行岗位职责和遵守纪律情况，查找了学用结合不够的不足及整改打算。",
    "书面汇报对照党章规定的党员义务的自查情况，以及在重点工作中发挥党员作用的具体事例。",
    "书面汇报参加支部和党小组组织生活的收获，对今后的学习和工作提出了努力方向。",
)
PROBATIONARY = (
    "预备党员书面思想汇报：本季度认真学习党章和党的基本知识，按照入党誓词严格要求自己，"
    "完成培养联系人布置的学习任务；不足是理论学习还不够系统，今后加强。",
    "预备党员书面思想汇报：汇报预备期内参加组织生活、完成本职工作和参加志愿服务的情况，"
    "请党组织和同志们继续帮助和考察。",
)
RETIRED = (
    "汇报离退休后坚持学习、参加社区党建活动的情况，身体健康，思想稳定。",
    "汇报参加支部学习和社区志愿服务的情况，对支部工作提出了关心老同志生活的建议。",
)


def _report_months(duties: Duties, key: str) -> list[tuple[dt.date, bool]]:
    """(month, quarter end) of each report from the tracking start: monthly in MONTHLY_GROUPS, else at
    the end of each quarter."""
    member = duties.members[key]
    first = max(month_start(member.joined_on), duties.ledger_start)
    months = []
    for month in months_between(first, duties.this_month):
        quarter_end = month.month % 3 == 0
        if quarter_end or duties.group_in(key, month) in MONTHLY_GROUPS:
            months.append((month, quarter_end))
    return months


def _thought_reports(duties: Duties) -> dict[int, dt.datetime]:
    """R-30: everyone reports on time; probationary members in writing every quarter — except
    赵雨萱, whose reports since the last complete quarter began were oral only."""
    ctx, today = duties.ctx, duties.today
    last_block = add_months(block_start(today, 3), -3)
    seconded_since, _reason = duties.lives["treasury"].away[ARREARS_MEMBER]
    stamps: dict[int, dt.datetime] = {}
    for index, key in enumerate(duties.tracked()):
        member = duties.members[key]
        for number, (month, quarter_end) in enumerate(_report_months(duties, key)):
            group = duties.group_in(key, month)
            received = max(duties.day_for(group, month), member.joined_on + dt.timedelta(days=3))
            if month_start(received) != month or received >= today:
                continue
            if member.left_on is not None and received >= member.left_on:
                continue
            probationary = member.status == MemberStatus.PROBATIONARY
            written = quarter_end and (probationary or month.month in (6, 12))
            if key == ARREARS_MEMBER and received >= seconded_since:
                written = True  # seconded: he sends his reports in writing
            if key == OVERDUE_MEMBER and month >= last_block:
                written = False  # no written report in the last complete quarter
            if duties.branch_of(key) == "retirees":
                summary = RETIRED[(index + number) % len(RETIRED)]
            elif written and probationary:
                summary = PROBATIONARY[(index + number) % len(PROBATIONARY)]
            elif written:
                summary = WRITTEN[(index + number) % len(WRITTEN)]
            else:
                summary = ORAL[(index + number) % len(ORAL)]
            if key == ARREARS_MEMBER and received >= seconded_since:
                summary = "借调省财政厅期间书面汇报思想和工作情况，表示在借调单位严守纪律、做好工作。"
            if key in duties.arrived and received < duties.arrived[key]:
                summary += "（在原党支部汇报，转入时据组织关系材料登记）"
            start = month if not quarter_end or group in MONTHLY_GROUPS else add_months(month, -2)
            report = member_services.thought_report_record(
                member=member,
                received_on=received,
                kind=ThoughtReportKind.WRITTEN if written else ThoughtReportKind.ORAL,
                summary=summary,
                period_start=max(start, month_start(member.joined_on)),
                period_end=month,
                received_by=duties.user_for(key, group),
                by=duties.user_for(key, group),
            )
            stamps[report.pk] = _stamp(received, 17, 30)
    member = duties.members[OVERDUE_MEMBER]
    quarter = f"{last_block.year}年第{'一二三四'[(last_block.month - 1) // 3]}季度"
    ctx.expect(
        "R-30",
        member.name,
        f"预备党员{member.name}{quarter}以来只作了口头汇报，没有交书面思想汇报（预备党员每季度一次）。",
    )
    return stamps


# --- R-28 leader reviews and interviews, R-35 training ---------------------------------------------
GRADES = {  # (member key, year offset: 1 for Y1, 2 for Y2) → grade; the rest are 称职
    ("off1", 1): LeaderGrade.EXCELLENT,
    ("n2", 1): LeaderGrade.EXCELLENT,
    ("tre1", 2): LeaderGrade.EXCELLENT,
    ("off2", 2): LeaderGrade.EXCELLENT,
    (INCOMPETENT_LEADER, 1): LeaderGrade.INCOMPETENT,
    (INCOMPETENT_LEADER, 2): LeaderGrade.INCOMPETENT,
}
NOTES = {
    LeaderGrade.EXCELLENT: "按月召开党小组会，记录规范；带头收缴党费、开展谈心谈话，党员评价好。",
    LeaderGrade.COMPETENT: "能够按照支部安排开展党小组活动，完成各项党务工作；组织学习的形式还可以更灵活。",
    LeaderGrade.INCOMPETENT: "党小组活动不经常，民主评议党员未按期开展，会议记录不完整；"
    "支部已责令分析原因、提出整改措施，限期改变工作面貌。",
}


def _reviews(duties: Duties) -> dict[int, dt.datetime]:
    """R-28: the year-end reviews of Y2 and Y1 of every leader and deputy in office on 1 December who
    had led for half a year; 汪俊杰 is 不称职 twice (replacement due) and is interviewed twice."""
    ctx = duties.ctx
    stamps: dict[int, dt.datetime] = {}
    reviewed: set[tuple[str, int]] = set()
    appointments = list(
        LeaderAppointment.objects.filter(group__in=list(ctx.groups.values()))
        .select_related("member", "group")
        .order_by("group_id", "role", "started_on", "pk")
    )
    for offset in (2, 1):
        year = ctx.today.year - offset
        for appointment in appointments:
            if not (
                appointment.started_on < dt.date(year, 7, 1)
                and (appointment.ended_on is None or appointment.ended_on > dt.date(year, 12, 1))
            ):
                continue
            key = duties.key_of_member[appointment.member_id]
            grade = GRADES.get((key, offset), LeaderGrade.COMPETENT)
            reviewed_on = _weekday_before(dt.date(year, 12, 20))
            review, _findings = group_services.leader_review_record(
                group=appointment.group,
                member=appointment.member,
                year=year,
                grade=grade,
                reviewed_on=reviewed_on,
                notes=NOTES[grade],
                by=duties.users[BRANCH_USERS[duties.branch_key[appointment.group.branch_id]]],
            )
            stamps[review.pk] = _stamp(reviewed_on, 16)
            reviewed.add((key, offset))
    if {(INCOMPETENT_LEADER, 1), (INCOMPETENT_LEADER, 2)} - reviewed:
        raise RuntimeError("演示数据：汪俊杰未在连续两年担任组长，无法构造 R-28 的示例。")
    return stamps


def _interviews(duties: Duties) -> dict[int, dt.datetime]:
    ctx = duties.ctx
    leader, group = duties.members[INCOMPETENT_LEADER], ctx.groups["general"]
    secretary = duties.members["w1"]
    y1 = ctx.today.year - 1
    stamps: dict[int, dt.datetime] = {}
    for day, content in (
        (
            _weekday_before(dt.date(y1, 1, 15)),
            f"通报{y1 - 1}年度考核为“不称职”的情况：党小组会不经常召开，记录不完整。"
            "要求其分析原因，一个月内提出整改措施，按月召开党小组会，年内开展民主评议党员。",
        ),
        (
            _weekday_before(dt.date(y1, 12, 28)),
            f"通报{y1}年度考核再次为“不称职”：整改措施落实不到位，民主评议党员仍未开展。"
            "支部将按规定研究调整党小组组长人选，请其做好工作交接准备。",
        ),
    ):
        interview = group_services.leader_interview_record(
            group=group,
            member=leader,
            interviewed_on=day,
            interviewer=f"支部书记 {secretary.name}",
            content=content,
            by=duties.users[BRANCH_USERS["committee_office"]],
        )
        stamps[interview.pk] = _stamp(day, 10)
    ctx.expect(
        "R-28",
        group.name,
        f"组长{leader.name}{y1 - 1}年度、{y1}年度连续两次考核为“不称职”，经约谈仍未改进，应予调整。",
    )
    return stamps


def _training(duties: Duties) -> dict[int, dt.datetime]:
    """R-35: the city's yearly leaders' training (last year's and this year's round) for every leader
    and deputy in office that day, a new leader's course for 谢涛; 吴国平 missed this year's."""
    ctx = duties.ctx
    rounds = (
        (_weekday_before(ctx.days_ago(480)), "市直机关党小组组长集中培训班", Decimal("16")),
        (_weekday_before(ctx.days_ago(120)), "市直机关党小组组长履职能力培训班", Decimal("16")),
    )
    appointments = list(
        LeaderAppointment.objects.filter(group__in=list(ctx.groups.values()))
        .select_related("member")
        .order_by("group_id", "role", "pk")
    )
    stamps: dict[int, dt.datetime] = {}
    recorder = duties.users[BRANCH_USERS["finance"]]
    for number, (day, title, hours) in enumerate(rounds):
        for appointment in appointments:
            key = duties.key_of_member[appointment.member_id]
            if not appointment.covers(day) or (number == 1 and key == UNTRAINED_LEADER):
                continue
            training = group_services.leader_training_record(
                member=appointment.member,
                trained_on=day,
                title=title,
                hours=hours,
                organiser="中共娄底市直属机关工作委员会",
                by=recorder,
            )
            stamps[training.pk] = _stamp(day, 18)
    new_leader = duties.members["pro2"]
    day = _weekday_before(ctx.days_ago(100))
    training = group_services.leader_training_record(
        member=new_leader,
        trained_on=day,
        title="新任党小组组长履职培训",
        hours=Decimal("8"),
        organiser="市财政局机关党委",
        by=recorder,
    )
    stamps[training.pk] = _stamp(day, 18)
    untrained = duties.members[UNTRAINED_LEADER]
    ctx.expect(
        "R-35",
        untrained.name,
        f"{untrained.name}因预算编审工作未参加{rounds[1][0].year}年党小组组长培训班，近一年没有培训记录。",
    )
    return stamps


# --- R-22 cultivation --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    key: str
    group: str
    name: str
    gender: str
    birth: dt.date | None  # None: the member's (``member`` key)
    unit: str | None
    applied_days_ago: int
    member: str = ""  # the Member record once probationary


CANDIDATES = (
    Candidate("roujie", "treasury", "罗杰", M, None, "f_treasury", 1000, member="tre5"),
    Candidate("dengkaiwen", "procure", "邓凯文", M, dt.date(1995, 12, 8), "f_procure", 900),
    Candidate("pengsiyu", "resources", "彭思雨", F, dt.date(1996, 7, 19), "n_plan", 700),
    Candidate("jiangyutong", "budget", "蒋雨桐", F, dt.date(1997, 9, 2), "f_budget", 520),
    Candidate("shaojiayi", "treasury", "邵嘉怡", F, dt.date(2001, 3, 8), "f_treasury", 200),
    Candidate("liuzihan", "resources", "刘子涵", M, dt.date(1997, 11, 30), "n_farm", 200),
    Candidate("suyuqing", "procure", "苏雨晴", F, dt.date(2000, 2, 14), "f_procure", 170),
    Candidate("zengsiyuan", "office", "曾思远", M, dt.date(1998, 4, 16), "f_office", 160),
    Candidate("majunxi", "budget", "马俊熙", M, dt.date(1999, 6, 21), "f_budget", 95),
)
# (days ago, candidate, next stage, contacts, basis); a meeting's opinions come before the step.
STEPS = (
    (920, "roujie", CultivationStageKind.ACTIVIST, ("tre2", "tre4"), "支委会研究确定为入党积极分子"),
    (820, "dengkaiwen", CultivationStageKind.ACTIVIST, ("pro3", "pro5"), "支委会研究确定为入党积极分子"),
    (600, "pengsiyu", CultivationStageKind.ACTIVIST, ("n6", "n11"), "支委会听取党小组意见后研究确定"),
    (470, "roujie", CultivationStageKind.DEVELOPMENT, (), "支委会研究确定为发展对象，报机关党委预审"),
    (400, "jiangyutong", CultivationStageKind.ACTIVIST, ("bud2", "bud3"), "支委会听取党小组意见后研究确定"),
    (120, "shaojiayi", CultivationStageKind.ACTIVIST, ("tre1", "tre4"), "支委会听取党小组意见后研究确定"),
    (110, "suyuqing", CultivationStageKind.ACTIVIST, ("pro3", "pro4"), "支委会听取党小组意见后研究确定"),
    (110, "dengkaiwen", CultivationStageKind.DEVELOPMENT, (), "支委会研究确定为发展对象，报机关党委备案"),
    (0, "roujie", CultivationStageKind.PROBATIONARY, (), "支部大会讨论通过，机关党委审批"),  # on joining
)
TEMPLATE_ITEM = "讨论对入党申请人的意见、推荐吸收入党积极分子人选"  # seed 002, the second agenda item
DEVELOPMENT_ITEM = "讨论入党积极分子、发展对象的培养考察情况，提出推荐意见"
# (days ago, group, [(candidate, recommendation, opinion)]): the cultivation meetings.
OPINION_MEETINGS = (
    (
        630,
        "resources",
        (("pengsiyu", Recommendation.RECOMMEND, "入党动机端正，工作积极，同意推荐为入党积极分子。"),),
    ),
    (
        430,
        "budget",
        (("jiangyutong", Recommendation.RECOMMEND, "递交申请后主动向党组织靠拢，业务能力强，同意推荐。"),),
    ),
    (
        150,
        "treasury",
        (
            (
                "shaojiayi",
                Recommendation.RECOMMEND,
                "入党申请书对党的认识较深，群众基础好，同意推荐为入党积极分子。",
            ),
            (
                "roujie",
                Recommendation.RECOMMEND,
                "培养考察期满，政治审查合格，党员一致同意吸收其为预备党员，报支部大会讨论。",
            ),
        ),
    ),
    (
        130,
        "procure",
        (
            (
                "suyuqing",
                Recommendation.RECOMMEND,
                "工作认真，在政府采购专项检查中表现突出，同意推荐为入党积极分子。",
            ),
            (
                "dengkaiwen",
                Recommendation.RECOMMEND,
                "经过两年多的培养教育，已基本具备党员条件，同意推荐为发展对象。",
            ),
        ),
    ),
    (
        60,
        "resources",
        (
            (
                "liuzihan",
                Recommendation.DEFER,
                "递交申请时间不长，对党的基本知识了解还不够，建议继续教育考察后再推荐。",
            ),
            (
                "pengsiyu",
                Recommendation.RECOMMEND,
                "培养期满一年，思想汇报按时，群众评价好，同意推荐为发展对象。",
            ),
        ),
    ),
    (
        40,
        "office",
        (
            (
                "zengsiyuan",
                Recommendation.RECOMMEND,
                "积极参加单位志愿服务，同意推荐为入党积极分子人选，报支委会研究。",
            ),
        ),
    ),
    (
        40,
        "budget",
        (
            ("majunxi", Recommendation.DEFER, "刚递交入党申请书，建议由党小组指定党员加强联系，继续考察。"),
            (
                "jiangyutong",
                Recommendation.RECOMMEND,
                "培养期满一年，两名培养联系人意见一致，同意推荐为发展对象。",
            ),
        ),
    ),
)


def _cultivation_plan(day: dt.date, names: Sequence[str], with_activists: bool) -> Plan:
    applicants = "、".join(names)
    topics = [
        Topic(
            "学习《中国共产党发展党员工作细则》",
            TopicCategory.STUDY,
            "组长领学细则第二章至第四章，明确入党积极分子、发展对象的培养考察要求。",
        ),
        Topic(
            TEMPLATE_ITEM,
            TopicCategory.DEVELOPMENT,
            f"组长通报支委会征求党小组意见的要求，培养联系人介绍{applicants}的情况，党员逐一发表意见。",
        ),
    ]
    if with_activists:
        topics.append(
            Topic(
                DEVELOPMENT_ITEM,
                TopicCategory.DEVELOPMENT,
                "培养联系人汇报培养考察情况，党员逐一发表意见，形成党小组推荐意见。",
            )
        )
    return Plan(
        MeetingKind.GROUP_MEETING,
        day,
        f"专题党小组会：{TEMPLATE_ITEM}",
        topics,
        state=MeetingState.HELD,
        decide=False,
        request_note="支委会拟研究确定入党积极分子和发展对象，请党小组讨论提出意见。请支部审定会议内容。",
    )


def _opinion_meeting(
    duties: Duties,
    candidates: dict[str, CultivationCandidate],
    day: dt.date,
    group: str,
    opinions: Sequence[tuple[str, str, str]],
    stamps: dict[str, dict[int, dt.datetime]],
) -> Meeting:
    """A meeting held through the meetings services; the opinions are recorded while it is held (an
    archived record is read-only, R-12), then it is reported and archived (R-13) and backdated."""
    life = duties.lives[group]
    applicants = [
        candidates[k] for k, _r, _o in opinions if candidates[k].stage == CultivationStageKind.APPLICANT
    ]
    others = [
        candidates[k] for k, _r, _o in opinions if candidates[k].stage != CultivationStageKind.APPLICANT
    ]
    names = [c.name for c in applicants] or ["本组入党申请人"]
    meeting = _run(duties.ctx, life, _cultivation_plan(day, names, bool(others)))
    items = {item.number: item for item in meeting.agenda_items.all()}
    for key, recommendation, opinion in opinions:
        candidate = candidates[key]
        record = meeting_services.cultivation_opinion_record(
            candidate=candidate,
            meeting=meeting,
            recommendation=recommendation,
            opinion=opinion,
            agenda_item=items[2] if candidate.stage == CultivationStageKind.APPLICANT else items[3],
            by=life.leader,
        )
        stamps["opinion"][record.pk] = _stamp(day, 17, 30)
    meeting_services.meeting_report(
        meeting=meeting, by=life.leader, comment="党小组对培养对象的意见已报党支部。"
    )
    meeting_services.meeting_archive(meeting=meeting, by=life.approver, comment="记录完整，存档备查。")
    _backdate(meeting, day)
    return meeting


def _cultivation(duties: Duties) -> dict[str, dict[int, dt.datetime]]:
    """R-22: candidates in every stage (applicant, activist with contacts, development candidate,
    probationary member linked to the Member record), in date order with the group's opinions."""
    ctx = duties.ctx
    events: list[tuple[dt.date, int, str, object]] = []
    for spec in CANDIDATES:
        events.append((ctx.days_ago(spec.applied_days_ago), 0, "create", spec))
    for days, key, stage, contacts, basis in STEPS:
        day = (
            duties.members["tre5"].joined_on
            if stage == CultivationStageKind.PROBATIONARY
            else ctx.days_ago(days)
        )
        events.append((day, 2, "step", (key, stage, contacts, basis)))
    for days, group, opinions in OPINION_MEETINGS:
        events.append((_weekday_before(ctx.days_ago(days)), 1, "meeting", (group, opinions)))
    candidates: dict[str, CultivationCandidate] = {}
    stamps: dict[str, dict[int, dt.datetime]] = {"candidate": {}, "stage": {}, "opinion": {}}
    specs = {s.key: s for s in CANDIDATES}
    for day, _order, kind, payload in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == "create":
            spec = payload
            member = duties.members[spec.member] if spec.member else None
            group = ctx.groups[spec.group]
            candidate = group_services.candidate_create(
                group=group,
                name=spec.name,
                gender=spec.gender,
                birth_date=member.birth_date if member else spec.birth,
                applied_on=day,
                unit=ctx.units[spec.unit] if spec.unit else None,
                note="递交入党申请书",
                decided_by_note="本人递交入党申请书，党小组登记",
                by=duties.users[GROUP_USERS[spec.group]],
            )
            candidates[spec.key] = candidate
            stamps["candidate"][candidate.pk] = _stamp(day, 11)
        elif kind == "step":
            key, stage, contacts, basis = payload
            spec = specs[key]
            candidates[key] = group_services.candidate_advance_stage(
                candidate=candidates[key],
                stage=stage,
                started_on=day,
                decided_by_note=basis,
                contacts=[duties.members[c] for c in contacts] if contacts else None,
                member=duties.members[spec.member] if stage == CultivationStageKind.PROBATIONARY else None,
                by=duties.users[BRANCH_USERS[duties.branch_key[ctx.groups[spec.group].branch_id]]],
            )
        else:
            group, opinions = payload
            _opinion_meeting(duties, candidates, day, group, opinions, stamps)
    for candidate in candidates.values():
        for stage in candidate.stages.all():
            stamps["stage"][stage.pk] = _stamp(stage.started_on, 11, 30)
    return stamps


# --- R-32 posts and commitments, R-33 points -----------------------------------------------------------
POSTS = (
    ("政策宣传岗", "宣传财政惠民政策，每季度到联系社区开展一次政策宣讲。"),
    ("联系群众岗", "联系服务对象，每月收集一次意见建议并及时反馈办理情况。"),
    ("业务攻坚岗", "牵头完成本科室一项重点业务任务，按期保质完成。"),
    ("文明督导岗", "带头遵守机关文明规范，督促做好办公区域环境整治。"),
    ("志愿服务岗", "每季度参加一次社区志愿服务活动，带动身边群众参与。"),
    ("学习帮带岗", "结对帮带一名年轻同志，每月共同学习一次党的理论和业务知识。"),
    ("安全保密岗", "协助做好科室网络安全和保密检查，每月自查一次并记录。"),
)
RETIRED_POSTS = (
    ("关心下一代岗", "每季度到社区青少年活动中心开展一次革命传统教育。"),
    ("邻里调解岗", "协助社区调解邻里纠纷，及时反映群众诉求。"),
    ("政策宣传岗", "向社区老年群众宣传养老、医保政策，每月一次。"),
    ("社区志愿服务岗", "参加社区卫生环境整治和文明劝导，每月不少于两次。"),
)


def _without_post(duties: Duties) -> list[str]:
    """Active members who hold no party post: not a leader or deputy, not on the committee, no cadre."""
    ctx = duties.ctx
    posts = {
        duties.key_of_member[pk]
        for pk in LeaderAppointment.objects.current(ctx.today)
        .filter(member_id__in=list(duties.key_of_member))
        .values_list("member_id", flat=True)
    }
    for branch in ctx.branches.values():
        posts |= {
            duties.key_of_member[pk]
            for pk in branch.committee_memberships.current(ctx.today).values_list("member_id", flat=True)
        }
    return [
        key
        for key, member in duties.members.items()
        if member.state == MemberState.ACTIVE
        and not member.is_leading_cadre
        and key not in posts
        and key not in duties.arrived
    ]


def _posts(duties: Duties) -> dict[int, dt.datetime]:
    """R-32: each member without a party post takes a post and a public commitment every year (made
    public in March; later for those who joined since)."""
    ctx = duties.ctx
    stamps: dict[int, dt.datetime] = {}
    for index, key in enumerate(_without_post(duties)):
        member = duties.members[key]
        pool = RETIRED_POSTS if duties.branch_of(key) == "retirees" else POSTS
        for year in (ctx.today.year - 1, ctx.today.year):
            publicised = max(_weekday_before(dt.date(year, 3, 10)), member.joined_on + dt.timedelta(days=30))
            if publicised >= ctx.today or publicised.year != year:
                continue
            title, commitment = pool[(index + year) % len(pool)]
            group = duties.group_in(key, month_start(publicised))
            post = member_services.member_post_record(
                member=member,
                year=year,
                title=title,
                commitment=commitment,
                publicised_on=publicised,
                by=duties.user_for(key, group),
            )
            stamps[post.pk] = _stamp(publicised, 9)
    return stamps


def _points(duties: Duties) -> dict[int, dt.datetime]:
    """R-33: last year's points rating (党员积分定等) of the Loudi-rule-set branch's members."""
    ctx = duties.ctx
    rng = random.Random(SEED + 1)  # noqa: S311  (reproducible demo data)
    year = ctx.today.year - 1
    rated_on = _weekday_before(dt.date(ctx.today.year, 1, 12))
    stamps: dict[int, dt.datetime] = {}
    for key, member in duties.members.items():
        if duties.branch_of(key) != POINTS_BRANCH or key in duties.arrived or member.joined_on.year > year:
            continue
        points = Decimal(rng.randrange(780, 985, 5)) / 10
        if points >= 90:
            grade = PointsGrade.EXCELLENT
        elif points >= 80:
            grade = PointsGrade.QUALIFIED
        else:
            grade = PointsGrade.BASICALLY_QUALIFIED
        rating = member_services.points_rating_record(
            member=member,
            year=year,
            points=points,
            grade=grade,
            note="年终积分定等，经支委会审定并公示无异议",
            by=duties.users[BRANCH_USERS[POINTS_BRANCH]],
        )
        stamps[rating.pk] = _stamp(min(rated_on, ctx.today), 15)
    return stamps


# --- R-34 annual reports ----------------------------------------------------------------------------
REPORT_GROUPS = ("office", "budget", "treasury", "procure")  # the big branch's groups
AWAITING_ARCHIVE = "procure"  # submitted, in the secretary's queue
NEXT_YEAR = (
    "1. 坚持每月召开党小组会，把学习党的创新理论和研究科室业务结合起来；\n"
    "2. 按月收缴党费，督促党员按时汇报思想和工作情况；\n"
    "3. 协助支部做好入党积极分子、发展对象的培养考察；\n"
    "4. 落实设岗定责、公开承诺，发挥党员先锋模范作用。"
)


def _annual_reports(duties: Duties) -> None:
    """R-34: last year's reports of the big branch's groups through ``meetings.annual_report``: drafted
    from the year's figures by the leader, submitted, archived by the branch — one still awaiting the
    archive. They are written at the time of seeding (the frozen figures are counted on that day)."""
    ctx = duties.ctx
    year = ctx.today.year - 1
    secretary = duties.users[BRANCH_USERS["finance"]]
    for key in REPORT_GROUPS:
        leader = duties.users[GROUP_USERS[key]]
        report = annual_report.annual_report_save(
            group=ctx.groups[key], year=year, by=leader, next_year_plans=NEXT_YEAR
        )
        report = annual_report.annual_report_submit(report=report, by=leader, comment="请支部审阅。")
        if key != AWAITING_ARCHIVE:
            annual_report.annual_report_archive(report=report, by=secretary, comment="已审阅，存档备查。")


def build(ctx: DemoContext) -> None:
    ctx.cover(*COVERED_RULES)
    ctx.log("正在建立党员台账：党费、思想汇报、组长考核和培训、入党积极分子培养…")
    duties = Duties(ctx)
    _ledger_start(duties)
    _restamp(DuesPayment, "created_at", _dues(duties))
    _restamp(ThoughtReport, "created_at", _thought_reports(duties))
    _restamp(LeaderReview, "created_at", _reviews(duties))
    _restamp(LeaderInterview, "created_at", _interviews(duties))
    _restamp(LeaderTraining, "created_at", _training(duties))
    cultivation = _cultivation(duties)
    _restamp(CultivationCandidate, "created_at", cultivation["candidate"])
    _restamp(CultivationStage, "recorded_at", cultivation["stage"])
    _restamp(CultivationOpinion, "created_at", cultivation["opinion"])
    _restamp(MemberPost, "created_at", _posts(duties))
    _restamp(PointsRating, "created_at", _points(duties))
    _annual_reports(duties)

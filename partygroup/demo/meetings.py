"""The meetings part of the demo: a year of organisational life, written through ``meetings.services``.

Runs after ``core`` (it uses the groups, members and accounts core made). Every meeting walks the real
workflow — ``meeting_create`` → ``meeting_submit`` (→ ``meeting_return`` → resubmit) →
``meeting_approve`` → ``meeting_notify`` → ``minutes_save`` (+ ``life_record_save`` /
``evaluations_save``) marked held → ``meeting_report`` → ``meeting_archive`` — acting as the group's
leader and a branch committee member, so transitions, history and every validation are real. Talks go
through ``talk_record``, plans through ``annual_plan_save``, a correction through ``addendum_add``.

What it writes, relative to the day it runs (``ctx.today``) so the demo stays valid whenever it is seeded:

- every active group: a group meeting in each of the 12 complete months before this one (R-10), the
  organisational life meetings of January and July with their before/during/after record and
  rectification measures (R-18), the democratic evaluation in February (R-19), heart-to-heart talks
  two and six months ago (R-20) and this year's and last year's plans (R-17); the big branch's
  groups also hold themed party days (R-21) and decide matters that later meetings follow up (R-16);
- the big branch: meetings of this month in every workflow state (draft … archived, returned,
  cancelled), so each role's screen has something to show;
- exactly one deliberate violation per cadence rule (``ctx.expect``; docs/demo.md tells why).

The services stamp workflow steps with the current time; the demo replays the past, so afterwards it
moves those stamps (transition times, the notice's send time, the archive time, addenda, plans and
talks' record times) to when they would have happened. The history rows keep the seeding time: they
record when the data was entered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from groups.enums import LeaderRole
from groups.models import LeaderAppointment, PartyGroup
from meetings import services
from meetings.enums import (
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    HalfDay,
    MeetingKind,
    MeetingState,
    TopicCategory,
)
from meetings.models import (
    ActionItem,
    AnnualPlan,
    Meeting,
    MeetingAddendum,
    MeetingNotice,
    MeetingTransition,
    Talk,
)
from meetings.rules import add_months, month_start
from meetings.selectors import roster_on
from members.enums import MemberStatus
from members.models import Member
from partygroup.demo.base import DemoContext, create_account

COVERED_RULES = ("R-10", "R-17", "R-18", "R-19", "R-20")
# Leaders of the other branches' groups, so their meetings can be recorded by them.
LEADER_ACCOUNTS = (
    ("zuzhang_zonghe", "general", "w2"),
    ("zuzhang_fuwu", "service", "w4"),
    ("zuzhang_ziran", "resources", "n2"),
)
DEMO_USERNAMES = tuple(username for username, _group, _member in LEADER_ACCOUNTS)
HISTORY_MONTHS = 12  # complete months of meetings before this one: the whole R-10 window
LIFE_MONTHS = (1, 7)  # organisational life meetings: the year's in January, the half-year's in July
EVALUATION_MONTH = 2  # democratic evaluation of members
TALK_ROUNDS = (2, 6)  # months ago: the leader talks with every member

ABSENCE_REASONS = (
    "出差（赴省财政厅参加业务培训）",
    "病假",
    "公休假",
    "参加市委巡察工作",
    "外出参加项目评审会",
    "事假（家中老人住院）",
    "陪同局领导下乡调研",
)


# --- What the meetings talk about (seed 002's topics, R-23) ------------------------------------------
@dataclass(frozen=True)
class Topic:
    title: str
    category: str
    record: str
    action: str = ""  # the decided matter, if any
    measures: str = ""


STUDY_TOPICS = {
    1: Topic(
        "学习市直机关工委年度党建工作要点", TopicCategory.STUDY, "组长领学工作要点，对照本组实际逐条讨论。"
    ),
    2: Topic("学习《中国共产党党员教育管理工作条例》", TopicCategory.STUDY, "集体学习条例第三章、第四章。"),
    3: Topic("学习全国两会精神", TopicCategory.STUDY, "观看政府工作报告解读视频，交流学习体会。"),
    4: Topic(
        "学习《中国共产党纪律处分条例》", TopicCategory.STUDY, "逐章学习六项纪律的规定，结合岗位谈认识。"
    ),
    5: Topic(
        "学习习近平新时代中国特色社会主义思想专题摘编", TopicCategory.STUDY, "学习第五专题，组员轮流领读。"
    ),
    6: Topic("学习《中国共产党章程》党员一章", TopicCategory.STUDY, "对照党员的八项义务逐条自查。"),
    7: Topic("学习习近平总书记在庆祝建党纪念大会上的重要讲话", TopicCategory.STUDY, "组长领学讲话原文。"),
    8: Topic("学习中央八项规定及其实施细则精神", TopicCategory.STUDY, "学习实施细则并通报典型问题。"),
    9: Topic("学习《党政机关厉行节约反对浪费条例》", TopicCategory.STUDY, "结合公务接待、差旅管理谈落实。"),
    10: Topic("学习党的创新理论最新成果", TopicCategory.STUDY, "学习机关党委下发的学习材料。"),
    11: Topic(
        "开展警示教育，学习违纪违法典型案例通报", TopicCategory.STUDY, "学习市纪委通报的三起典型案例。"
    ),
    12: Topic("学习《中国共产党支部工作条例（试行）》", TopicCategory.STUDY, "学习组织生活制度相关条款。"),
}
SECOND_TOPICS = {
    1: Topic(
        "传达支部委员会关于年度工作计划的决议，研究本组落实措施",
        TopicCategory.RESOLUTION,
        "传达支部年度工作计划，讨论本组学习和活动安排。",
        "制定本组年度学习计划并报支部",
        "对照支部计划列出每月学习篇目",
    ),
    2: Topic(
        "讨论推进支部布置的“我为群众办实事”项目分工",
        TopicCategory.BRANCH_WORK,
        "讨论本科室承担的办实事项目和党员分工。",
        "梳理本科室便民服务事项清单",
        "逐项列出办理时限和责任人",
    ),
    3: Topic(
        "讨论对入党申请人的意见，推荐吸收入党积极分子人选",
        TopicCategory.DEVELOPMENT,
        "听取入党申请人培养联系人的介绍，逐一发表意见。",
        "向支部报送入党积极分子推荐人选及考察意见",
        "整理组内讨论意见，形成书面材料",
    ),
    4: Topic(
        "研究贯彻支部关于开展党纪学习教育的决议",
        TopicCategory.RESOLUTION,
        "传达支部决议，研究本组学习安排。",
        "每名党员撰写一篇党纪学习心得",
        "下次党小组会上交流",
    ),
    5: Topic(
        "讨论本组在年中重点工作中设置党员先锋岗",
        TopicCategory.BRANCH_WORK,
        "讨论先锋岗设置和党员承诺内容。",
        "公示本组党员先锋岗和承诺事项",
        "在科室公示栏张贴",
    ),
    6: Topic(
        "评选推荐“优秀共产党员”人选",
        TopicCategory.OUTSTANDING,
        "对照评选条件，组内民主推荐。",
        "将推荐人选事迹材料报支部",
        "由组长审核后报送",
    ),
    7: Topic(
        "听取预备党员思想汇报，讨论考察意见",
        TopicCategory.DEVELOPMENT,
        "预备党员汇报思想和工作情况，党员逐一提出意见。",
        "向支部报送预备党员考察意见",
        "由培养联系人执笔",
    ),
    8: Topic(
        "讨论下半年重点工作中的党员承诺事项",
        TopicCategory.BRANCH_WORK,
        "每名党员报告承诺事项的进展。",
        "更新党员承诺事项台账",
        "标注完成进度",
    ),
    9: Topic(
        "研究贯彻支部关于开展廉政风险点排查的决议",
        TopicCategory.RESOLUTION,
        "传达支部决议，讨论本科室岗位风险点。",
        "完成本科室廉政风险点排查表",
        "每个岗位至少查找两个风险点",
    ),
    10: Topic(
        "讨论发展对象培养考察情况",
        TopicCategory.DEVELOPMENT,
        "培养联系人介绍发展对象表现，党员发表意见。",
        "向支部报送发展对象考察意见",
        "附党员意见汇总",
    ),
    11: Topic(
        "讨论年终工作总结中党员作用发挥情况",
        TopicCategory.BRANCH_WORK,
        "党员逐一报告一年来承诺事项完成情况。",
        "形成本组年度工作情况报告初稿",
        "组长执笔，下次会议讨论",
    ),
    12: Topic(
        "研究支部关于做好年度组织生活会准备工作的通知",
        TopicCategory.RESOLUTION,
        "传达通知要求，安排会前学习、谈心谈话和征求意见。",
        "开展会前谈心谈话并征求意见",
        "组长与每名党员谈话一次",
    ),
}
STUDY_VIEWS = (
    "通过学习，进一步认识到{topic}的重要意义，要结合本职工作抓好落实。",
    "对照学习内容查找自身差距，工作中还存在学用结合不够的问题，今后要加强。",
    "建议把集中学习和个人自学结合起来，每月交流一次心得。",
    "要把学习成果转化为推动业务工作的实际行动，做到学有所获、学有所用。",
    "学习后感触很深，要在日常工作中严守纪律规矩，守住底线。",
)
DISCUSSION_VIEWS = (
    "同意支部的安排，建议明确时间节点，责任落实到人。",
    "本组可以结合科室业务特点，把这项工作和日常工作统筹推进。",
    "建议先摸清情况，再形成书面意见报支部。",
    "我愿意承担具体工作，争取按期完成。",
    "对有关人选没有不同意见，建议支部继续加强培养考察。",
)
LIFE_VIEWS = (
    "自我批评：理论学习时紧时松，有时以业务忙为由放松学习。对组长的意见：希望多组织业务交流。",
    "自我批评：服务群众主动性不够，办事有时不够耐心。对同志们的意见：希望多交流工作方法。",
    "自我批评：工作标准不够高，满足于完成任务。批评意见：建议党小组活动形式更加灵活多样。",
    "自我批评：纪律意识还需加强，请示报告不够及时。诚恳接受大家的批评，认真整改。",
)
EVALUATION_VIEWS = (
    "作党性分析：能够坚定理想信念，完成岗位任务；不足是学习不够深入。自评为合格。",
    "对照合格党员标准逐条检查，认为自己在发挥先锋作用方面还有差距，自评为合格。",
    "互评意见：同志们工作认真负责，团结协作好；建议在理论学习上再下功夫。",
)
LEADER_VIEWS = {
    "study": "大家谈得很实在。学习要常态化，会后每人结合岗位再深入学习，把成果体现在工作中。",
    "discussion": "综合大家的意见，本组意见一致。会后按分工抓好落实，我负责向支部报告。",
    "life": "我先带头作对照检查：理论学习不够系统，抓党小组工作有时偏重业务。请大家对我提出批评意见。",
    "evaluation": "大家的党性分析实事求是，互评坦诚。评议结果会后报党支部。",
}
DEPUTY_VIEW = "赞同大家的意见，我协助组长抓好具体落实。"

LIFE_RECORDS = {
    1: {
        "theme": "年度组织生活会：对照党章党规，查找差距不足",
        "before_study": "会前组织学习党章、《中国共产党纪律处分条例》和支部下发的学习材料。",
        "before_talks": "组长与每名党员逐一谈心谈话，党员之间相互谈心。",
        "before_opinions": "通过座谈和意见箱征求服务对象和群众意见6条。",
        "during_problems": "理论学习不够系统，联系服务群众不够主动，工作标准不够高。",
        "during_criticism": "组长带头开展批评和自我批评，党员逐一发言，相互提出批评意见。",
        "during_direction": "加强理论学习，改进工作作风，提高服务质量。",
    },
    7: {
        "theme": "半年组织生活会：围绕党纪学习教育查摆问题",
        "before_study": "会前集中学习党纪学习教育读本，观看警示教育片。",
        "before_talks": "组长与党员谈心谈话，听取对党小组工作的意见。",
        "before_opinions": "向科室职工征求意见4条。",
        "during_problems": "纪律意识还需增强，落实工作的时效性不够。",
        "during_criticism": "组长首先作自我批评，党员依次发言，开展相互批评。",
        "during_direction": "严格落实请示报告制度，压缩办事时限。",
    },
}
RECTIFICATIONS = (
    ("坚持每周五下午集中学习一小时", "建立学习台账，组长每月检查"),
    ("压缩业务办理时限，推行一次性告知", "制定办事指南并在窗口公示"),
)


# --- The groups and who acts for them ------------------------------------------------------------------
@dataclass(frozen=True)
class Observer:
    """列席 (R-14): a member of another group (``member`` key) or a person outside the system."""

    title: str
    member: str = ""
    name: str = ""


@dataclass
class GroupLife:
    key: str  # ctx.groups key
    leader: object  # the user who records (the group's leader or deputy)
    approver: object  # the branch committee member who approves and archives
    day: int  # usual day of the month
    place: str
    observer: Observer | None = None
    cadre_note: str = ""  # "组织关系在我们党小组的…参加会议"
    away: dict[str, tuple[dt.date, str]] = field(default_factory=dict)  # member key → since, reason
    skip_months: frozenset[dt.date] = frozenset()
    last_day: dt.date | None = None  # no meetings from this day (the leader left)
    light: bool = False  # shorter minutes: the study item only, two speakers before the leader
    open_items: list[tuple[ActionItem, bool]] = field(default_factory=list)  # (matter, slow)
    sequence: int = 0


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _superuser():
    """宣传科党小组 has no leader since 夏丽娟 left, and the services let only a current leader write: its
    records are entered (补录) by the superuser admin."""
    admin = get_user_model().objects.get(username="admin")
    if not admin.is_superuser:
        raise ValidationError(
            "演示数据需要超级用户 admin 补录宣传科党小组的记录，但现有的 admin 不是超级用户。"
        )
    return admin


def _leader_accounts(ctx: DemoContext) -> None:
    for username, group, key in LEADER_ACCOUNTS:
        create_account(
            ctx, username=username, role="党小组组长", note=ctx.groups[group].name, member=ctx.members[key]
        )


# --- Dates -------------------------------------------------------------------------------------------
def _weekday_before(day: dt.date) -> dt.date:
    """The day itself, or the Friday before when it falls on a weekend."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def _weekday_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _in_month(month: dt.date, day: int) -> dt.date:
    return _weekday_before(month.replace(day=day))


def _stamp(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


# --- One meeting through the workflow ------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """What one meeting is: its kind, date, agenda and how far its workflow goes."""

    kind: str
    day: dt.date
    title: str
    topics: Sequence[Topic]
    state: str = MeetingState.ARCHIVED
    start: dt.time = dt.time(15, 0)
    returned_with: str = ""  # returned once with this comment, then resubmitted
    request_note: str = "请支部审定会议内容和开法。"
    life: dict[str, str] | None = None
    after_followup: str = ""
    decide: bool = True


def _leader_on(group: PartyGroup, day: dt.date) -> tuple[Member, set[int]]:
    """The leader on ``day`` and the ids of leader and deputies (R-15 counts both)."""
    rows = list(LeaderAppointment.objects.current(day).filter(group=group).select_related("member"))
    leader = next(a.member for a in rows if a.role == LeaderRole.LEADER)
    return leader, {a.member_id for a in rows}


def _minutes(ctx: DemoContext, life: GroupLife, meeting: Meeting, plan: Plan) -> dict:
    """Valid, realistic minutes (R-14 … R-16) for ``minutes_save``."""
    group = ctx.groups[life.key]
    roster = roster_on(group, plan.day)
    leader, leader_ids = _leader_on(group, plan.day)
    others = [m for m in roster if m.pk not in leader_ids]
    absences: dict[int, str] = {}
    for key, (since, reason) in life.away.items():
        if plan.day >= since and ctx.members[key].pk in {m.pk for m in roster}:
            absences[ctx.members[key].pk] = reason
    available = [m for m in others if m.pk not in absences]
    if len(roster) >= 4 and available and plan.kind != MeetingKind.LIFE_MEETING:
        absentee = available[life.sequence % len(available)]
        absences[absentee.pk] = ABSENCE_REASONS[life.sequence % len(ABSENCE_REASONS)]
    present = [m for m in roster if m.pk not in absences]
    speakers = [m for m in present if m.pk not in leader_ids]
    attendance = [services.AttendanceInput(role=AttendanceRole.PRESENT, member=m) for m in present]
    attendance += [
        services.AttendanceInput(role=AttendanceRole.ABSENT, member=m, absence_reason=absences[m.pk])
        for m in roster
        if m.pk in absences
    ]
    observer_speech: services.SpeechInput | None = None
    observer_line = ""
    if life.observer is not None:
        obs = life.observer
        member = ctx.members[obs.member] if obs.member else None
        if member is None or member.pk not in {m.pk for m in roster}:
            name = member.name if member else obs.name
            attendance.append(
                services.AttendanceInput(
                    role=AttendanceRole.OBSERVER,
                    member=member,
                    person_name="" if member else obs.name,
                    person_title=obs.title,
                )
            )
            observer_line = f"{obs.title}{name}同志列席会议。"
            observer_speech = services.SpeechInput(
                speaker=member,
                speaker_name="" if member else obs.name,
                views="本组议题准备充分，讨论认真，希望会后抓好议定事项的落实。",
            )
    recorder = speakers[0] if speakers else leader
    deputies = [m for m in present if m.pk in leader_ids and m.pk != leader.pk]

    def speeches(index: int, pool: Sequence[str], topic: Topic) -> list[services.SpeechInput]:
        count = min(2 if life.light else 3, len(speakers))
        chosen = [speakers[(life.sequence + index + i) % len(speakers)] for i in range(count)]
        chosen = list(dict.fromkeys(chosen))
        short = topic.title.removeprefix("学习")[:16]
        views = [
            services.SpeechInput(
                speaker=m, views=pool[(life.sequence + index + i) % len(pool)].format(topic=short)
            )
            for i, m in enumerate(chosen)
        ]
        views += [services.SpeechInput(speaker=m, views=DEPUTY_VIEW) for m in deputies]
        leader_view = services.SpeechInput(speaker=leader, views=LEADER_VIEWS[_tone(plan.kind, topic)])
        if plan.kind == MeetingKind.LIFE_MEETING:  # the leader speaks first
            return [leader_view, *views]
        extra = [observer_speech] if observer_speech is not None and index == len(plan.topics) - 1 else []
        return [*views, *extra, leader_view]  # members first, the leader last

    items = [
        services.AgendaItemInput(
            title=t.title,
            category=t.category,
            record=t.record,
            speeches=speeches(i, VIEW_POOLS[_tone(plan.kind, t)], t),
        )
        for i, t in enumerate(plan.topics)
    ]
    actions = []
    if plan.decide:
        owners = speakers or [leader]
        for number, topic in enumerate(plan.topics, 1):
            if topic.action:
                owner = owners[(life.sequence + number) % len(owners)]
                actions.append(
                    services.ActionItemInput(
                        description=topic.action,
                        measures=topic.measures,
                        owner=owner,
                        due_on=plan.day + dt.timedelta(days=25),
                        agenda_number=number,
                    )
                )
        if plan.kind == MeetingKind.LIFE_MEETING:  # rectification measures
            for i, (description, measures) in enumerate(RECTIFICATIONS):
                owner = leader if i == 0 else owners[life.sequence % len(owners)]
                actions.append(
                    services.ActionItemInput(
                        description=description,
                        measures=measures,
                        owner=owner,
                        due_on=plan.day + dt.timedelta(days=60 + 30 * i),
                        is_rectification=True,
                        agenda_number=len(plan.topics),
                    )
                )
    follow_ups = []
    if plan.kind == MeetingKind.GROUP_MEETING:
        for item, slow in life.open_items:
            done = not slow or item.status == ActionItemStatus.IN_PROGRESS
            completed = min(item.due_on, plan.day - dt.timedelta(days=1))
            follow_ups.append(
                services.FollowUpInput(
                    action_item=item,
                    note="已按要求完成。" if done else "正在推进，已形成初稿，下月完成。",
                    status_after=ActionItemStatus.DONE if done else ActionItemStatus.IN_PROGRESS,
                    completed_on=completed if done else None,
                )
            )
    count_line = f"应到{len(roster)}人，实到{len(present)}人"
    absent = [f"{m.name}同志（{absences[m.pk]}）" for m in roster if m.pk in absences]
    if absent:
        count_line += f"，{'、'.join(absent)}缺席"
    cadre = f"组织关系在我们党小组的{life.cadre_note}参加会议，" if life.cadre_note else ""
    numerals = "一二三四五"
    agenda_line = "；".join(f"{numerals[i]}是{t.title}" for i, t in enumerate(plan.topics))
    # The PDF prints "<host>（主持人）：" before the opening and the summary (seed 002's template).
    opening = (
        f"根据党支部工作安排，今天我们召开{MeetingKind(plan.kind).label}。{cadre}{count_line}。"
        f"{observer_line}今天会议主要有{len(plan.topics)}个议题：{agenda_line}。"
    )
    decided = "；".join(a.description for a in actions)
    summary = "今天的会议大家发言踊跃，讨论充分。" + (
        f"会议议定：{decided}，请责任人按时完成。" if decided else "会后请大家抓好落实。"
    )
    start = plan.start
    end = (dt.datetime.combine(plan.day, start) + dt.timedelta(minutes=90)).time()
    return {
        "held_on": plan.day,
        "half_day": HalfDay.MORNING if start.hour < 12 else HalfDay.AFTERNOON,
        "start_time": start,
        "end_time": end,
        "place": life.place,
        "host": leader,
        "recorder": recorder,
        "opening": opening,
        "chair_summary": summary,
        "attendance": attendance,
        "agenda_items": items,
        "action_items": actions,
        "follow_ups": follow_ups,
    }


VIEW_POOLS = {
    "study": STUDY_VIEWS,
    "discussion": DISCUSSION_VIEWS,
    "life": LIFE_VIEWS,
    "evaluation": EVALUATION_VIEWS,
}


def _tone(kind: str, topic: Topic) -> str:
    if kind == MeetingKind.LIFE_MEETING:
        return "life"
    if kind == MeetingKind.EVALUATION:
        return "evaluation"
    return "study" if topic.category == TopicCategory.STUDY else "discussion"


def _evaluations(group: PartyGroup, day: dt.date, sequence: int) -> list[services.EvaluationInput]:
    """R-19: every member's party-spirit analysis and the peer result."""
    roster = roster_on(group, day)
    results = []
    for i, member in enumerate(roster):
        grade = EvaluationGrade.EXCELLENT if (i + sequence) % 4 == 0 else EvaluationGrade.QUALIFIED
        note = "预备党员，参加评议" if member.status == MemberStatus.PROBATIONARY else ""
        results.append(
            services.EvaluationInput(
                member=member,
                self_evaluation=f"{member.name}对照合格党员标准作党性分析：政治立场坚定，能完成岗位任务；"
                "不足是理论学习不够深入，今后加强。",
                peer_result=grade,
                note=note,
            )
        )
    return results


def _run(ctx: DemoContext, life: GroupLife, plan: Plan) -> Meeting:
    """Walk one meeting through the services to ``plan.state``; returns it."""
    group = ctx.groups[life.key]
    leader, approver = life.leader, life.approver
    meeting = services.meeting_create(
        group=group,
        kind=plan.kind,
        title=plan.title,
        planned_date=plan.day,
        planned_start=plan.start,
        planned_place=life.place,
        agenda="\n".join(t.title for t in plan.topics),
        request_note=plan.request_note,
        by=leader,
    )
    state = plan.state
    if state == MeetingState.CANCELLED:
        services.meeting_submit(meeting=meeting, by=leader, comment="请支部审定。")
        services.meeting_cancel(
            meeting=meeting, by=leader, comment="因全市政府采购专项检查，会议取消，议题并入下次党小组会。"
        )
        return meeting
    if state == MeetingState.DRAFT:
        return meeting
    services.meeting_submit(meeting=meeting, by=leader, comment="请支部审定会议内容。")
    if plan.returned_with:
        services.meeting_return(meeting=meeting, by=approver, comment=plan.returned_with)
        if state == MeetingState.RETURNED:
            return meeting
        services.meeting_update_request(
            meeting=meeting, by=leader, request_note=plan.request_note + "已按支部意见修改。"
        )
        services.meeting_submit(meeting=meeting, by=leader, comment="已按支部意见修改，请审定。")
    if state == MeetingState.SUBMITTED:
        return meeting
    services.meeting_approve(meeting=meeting, by=approver, comment="同意。请按时召开并做好记录。")
    if state == MeetingState.APPROVED:
        return meeting
    services.meeting_notify(meeting=meeting, by=leader)
    if state == MeetingState.NOTIFIED:
        return meeting
    if plan.life is not None:
        services.life_record_save(meeting=meeting, by=leader, **plan.life)
    minutes = _minutes(ctx, life, meeting, plan)
    if plan.kind == MeetingKind.EVALUATION:
        services.evaluations_save(
            meeting=meeting, results=_evaluations(group, plan.day, life.sequence), by=leader
        )
    services.minutes_save(meeting=meeting, by=leader, mark_held=True, **minutes)
    _track_items(life, meeting, minutes)
    if state in {MeetingState.REPORTED, MeetingState.ARCHIVED}:
        services.meeting_report(meeting=meeting, by=leader, comment="会议情况和党员意见已报党支部。")
        if plan.after_followup:
            services.life_record_save(meeting=meeting, by=leader, after_followup=plan.after_followup)
    if state == MeetingState.ARCHIVED:
        services.meeting_archive(meeting=meeting, by=approver, comment="记录完整，存档备查。")
    _backdate(meeting, plan.day)
    life.sequence += 1
    meeting.refresh_from_db()
    return meeting


def _track_items(life: GroupLife, meeting: Meeting, minutes: dict) -> None:
    """Decided matters carried to the next group meetings until done (R-16); every third is slow."""
    followed = {f.action_item.pk for f in minutes["follow_ups"]}
    still_open = []
    for item, slow in life.open_items:
        if item.pk in followed:
            item.refresh_from_db()
            if item.status != ActionItemStatus.DONE:
                still_open.append((item, False))
        else:
            still_open.append((item, slow))
    new = [(item, item.pk % 3 == 0) for item in meeting.action_items.order_by("pk")]
    life.open_items = still_open + new


def _backdate(meeting: Meeting, day: dt.date) -> None:
    """Move the workflow stamps of a held meeting to when they would have happened (capped at now)."""
    now = timezone.now()
    transitions = list(MeetingTransition.objects.filter(meeting=meeting).order_by("pk"))
    requested = {MeetingState.SUBMITTED, MeetingState.RETURNED, MeetingState.APPROVED, MeetingState.NOTIFIED}
    before = [t for t in transitions if t.to_state in requested]
    stamps: dict[int, dt.datetime] = {}
    for i, transition in enumerate(before):  # the request, over the ten days before the meeting
        stamps[transition.pk] = _stamp(day - dt.timedelta(days=10 - 2 * i), 9 + i)
    after = {MeetingState.HELD: (0, 17), MeetingState.REPORTED: (1, 10), MeetingState.ARCHIVED: (6, 15)}
    for transition in transitions:
        if transition.to_state in after:
            days, hour = after[transition.to_state]
            stamps[transition.pk] = _stamp(day + dt.timedelta(days=days), hour)
    previous = None
    for transition in transitions:  # keep the order, never in the future
        stamp = min(stamps[transition.pk], now - dt.timedelta(minutes=len(transitions)))
        if previous is not None and stamp <= previous:
            stamp = previous + dt.timedelta(minutes=1)
        transition.at = previous = stamp
        if transition.to_state == MeetingState.NOTIFIED:
            MeetingNotice.objects.filter(meeting=meeting).update(sent_at=stamp)
        if transition.to_state == MeetingState.ARCHIVED:
            Meeting.objects.filter(pk=meeting.pk).update(archived_at=stamp)
            Meeting.history.filter(id=meeting.pk, archived_at__isnull=False).update(archived_at=stamp)
    MeetingTransition.objects.bulk_update(transitions, ["at"])


# --- The schedule of one group -----------------------------------------------------------------------------
def _series(ctx: DemoContext, life: GroupLife, *, life_months=LIFE_MONTHS, evaluation=True, party_day=None):
    """The plans of the past complete months: group meetings, life meetings, evaluation, party day."""
    this_month = month_start(ctx.today)
    group = ctx.groups[life.key]
    plans: list[Plan] = []
    for back in range(HISTORY_MONTHS, 0, -1):
        month = add_months(this_month, -back)
        day = _in_month(month, life.day)
        if (
            day < group.established_on
            or (life.last_day and day >= life.last_day)
            or month in life.skip_months
        ):
            continue
        topics = (
            (STUDY_TOPICS[month.month],)
            if life.light
            else (STUDY_TOPICS[month.month], SECOND_TOPICS[month.month])
        )
        plans.append(
            Plan(
                MeetingKind.GROUP_MEETING,
                day,
                f"{month.year}年{month.month}月党小组会：{topics[0].title}",
                topics,
            )
        )
        if month.month in life_months:
            record = LIFE_RECORDS[month.month]
            plans.append(_life_plan(_in_month(month, life.day + 6), record))
        if evaluation and month.month == EVALUATION_MONTH:
            plans.append(_evaluation_plan(_in_month(month, life.day + 8)))
        if party_day is not None and month.month == party_day[0]:
            plans.append(party_day[1](month))
    return plans


def _life_plan(day: dt.date, record: dict[str, str], *, state=MeetingState.ARCHIVED) -> Plan:
    topics = (
        Topic(
            "通报会前学习、谈心谈话和征求意见情况",
            TopicCategory.ORGANISATIONAL_LIFE,
            "组长通报会前准备情况。",
        ),
        Topic(
            "开展批评和自我批评，明确整改方向",
            TopicCategory.ORGANISATIONAL_LIFE,
            "组长带头作对照检查，党员逐一发言并相互批评。",
        ),
    )
    return Plan(
        MeetingKind.LIFE_MEETING,
        day,
        record["theme"],
        topics,
        state=state,
        start=dt.time(9, 0),
        life=record,
        after_followup="整改措施已列入台账，组长每月检查一次进展，已向支部报告。",
        request_note="请支部审定组织生活会方案，会前已完成学习、谈心谈话和征求意见。",
    )


def _evaluation_plan(day: dt.date) -> Plan:
    topics = (
        Topic(
            "党员个人党性分析和自评",
            TopicCategory.ORGANISATIONAL_LIFE,
            "每名党员对照合格党员标准作党性分析。",
        ),
        Topic("党员互评和民主测评", TopicCategory.OUTSTANDING, "党员逐一互评，填写民主测评表。"),
    )
    return Plan(
        MeetingKind.EVALUATION,
        day,
        f"{day.year}年度民主评议党员",
        topics,
        start=dt.time(9, 0),
        decide=False,
        request_note="按支部民主评议党员工作安排，请审定评议方案。",
    )


def _party_day(month: dt.date, *, volunteer: bool) -> Plan:
    if volunteer:
        day = _in_month(month, 5)
        title = "学雷锋志愿服务主题党日"
        topics = (
            Topic("重温入党誓词", TopicCategory.STUDY, "全体党员在党旗前重温入党誓词。"),
            Topic(
                "到社区开展政策宣传志愿服务", TopicCategory.OTHER, "在社区服务站宣传惠民政策，解答群众咨询。"
            ),
        )
    else:
        day = _in_month(month, 1)
        title = "“七一”主题党日：重温入党誓词、参观革命纪念馆"
        topics = (
            Topic("重温入党誓词", TopicCategory.STUDY, "全体党员在党旗前重温入党誓词。"),
            Topic("参观市革命烈士纪念馆", TopicCategory.STUDY, "参观展陈并由讲解员讲述革命先烈事迹。"),
        )
    return Plan(
        MeetingKind.PARTY_DAY,
        day,
        title,
        topics,
        start=dt.time(9, 0),
        decide=False,
        returned_with="请在方案中明确活动安全预案和参加人员名单。" if volunteer else "",
        request_note="主题党日须经支部批准（R-21），请审定活动方案。",
    )


def _run_all(ctx: DemoContext, life: GroupLife, plans: list[Plan]) -> list[Meeting]:
    return [_run(ctx, life, plan) for plan in sorted(plans, key=lambda p: (p.day, p.kind))]


# --- Talks and plans -------------------------------------------------------------------------------
def _talks(
    ctx: DemoContext,
    life: GroupLife,
    *,
    rounds: Sequence[int] = TALK_ROUNDS,
    skip: frozenset[str] = frozenset(),
    extra: Sequence[tuple[str, dt.date, str]] = (),
) -> None:
    """R-20: the leader talks with every member in each round (months ago); newcomers on arrival."""
    group = ctx.groups[life.key]
    this_month = month_start(ctx.today)
    skip_ids = {ctx.members[k].pk for k in skip}
    latest: dict[int, dt.date] = {}
    for back in rounds:
        day = _in_month(add_months(this_month, -back), min(life.day + 3, 26))
        if day < group.established_on or (life.last_day and day >= life.last_day):
            continue
        leader, _ids = _leader_on(group, day)
        for member in roster_on(group, day):
            if member.pk == leader.pk or member.pk in skip_ids:
                continue
            _talk(ctx, life, day, leader, member, "谈思想、谈工作，听取对党小组工作的意见")
            latest[member.pk] = max(latest.get(member.pk, day), day)
    for member in roster_on(group, ctx.today):  # newcomers since the last round: a talk on arrival
        since = group.memberships.filter(member=member).latest("started_on").started_on
        day = since + dt.timedelta(days=5)
        if member.pk in skip_ids or member.pk in latest or day >= ctx.today:
            continue
        if LeaderAppointment.objects.current(day).filter(group=group, member=member).exists():
            continue
        leader, _ids = _leader_on(group, day)
        _talk(ctx, life, day, leader, member, "新编入党小组谈话：介绍本组情况和学习安排")
    for key, day, topic in extra:
        leader, _ids = _leader_on(group, day)
        _talk(ctx, life, day, leader, ctx.members[key], topic)


def _talk(
    ctx: DemoContext, life: GroupLife, day: dt.date, initiator: Member, partner: Member, topic: str
) -> None:
    talk = services.talk_record(
        group=ctx.groups[life.key],
        talked_on=day,
        initiator=initiator,
        partner=partner,
        topic=topic,
        summary=f"{partner.name}同志思想稳定，工作积极，对党小组工作提出了加强业务学习的建议；"
        f"{initiator.name}同志鼓励其在工作中发挥党员作用。",
        place="组长办公室",
        by=life.leader,
    )
    Talk.objects.filter(pk=talk.pk).update(created_at=_stamp(day, 17))


def _annual_plans(ctx: DemoContext, life: GroupLife, years: Sequence[int]) -> None:
    """R-17: the year's plan, made in January (or when the group was founded)."""
    group = ctx.groups[life.key]
    for year in years:
        if year < group.established_on.year:
            continue
        items = [
            services.PlanItemInput(month=m, topic=STUDY_TOPICS[m].title, category=TopicCategory.STUDY)
            for m in range(1, 13)
        ]
        items += [
            services.PlanItemInput(
                month=m,
                topic=LIFE_RECORDS[m]["theme"],
                kind=MeetingKind.LIFE_MEETING,
                category=TopicCategory.ORGANISATIONAL_LIFE,
            )
            for m in LIFE_MONTHS
        ]
        items.append(
            services.PlanItemInput(
                month=EVALUATION_MONTH,
                topic="民主评议党员",
                kind=MeetingKind.EVALUATION,
                category=TopicCategory.ORGANISATIONAL_LIFE,
            )
        )
        plan = services.annual_plan_save(
            group=group,
            year=year,
            items=items,
            summary=f"{year}年党小组会每月召开1次，1月、7月召开组织生活会，2月开展民主评议党员，"
            "组长每季度与党员谈心谈话。",
            meetings_per_year=12,
            by=life.leader,
        )
        made = max(dt.date(year, 1, 10), group.established_on)
        stamp = min(_stamp(made, 10), timezone.now())
        AnnualPlan.objects.filter(pk=plan.pk).update(created_at=stamp)


# --- The demo's groups ---------------------------------------------------------------------------------
def _lives(ctx: DemoContext) -> dict[str, GroupLife]:
    users: dict[str, object] = {}

    def user(name: str):
        if name not in users:
            users[name] = _superuser() if name == "admin" else _user(name)
        return users[name]

    this_month = month_start(ctx.today)
    seconded = _in_month(add_months(this_month, -8), 10)
    return {
        "office": GroupLife(
            "office", user("zuzhang_bangongshi"), user("shuji_caizheng"), 8, "局机关三楼党员活动室",
            Observer("支部纪检委员", member="tre2"), cadre_note="周建华局长",
        ),
        "budget": GroupLife(
            "budget", user("zuzhang_yusuan"), user("zuzhi_caizheng"), 12, "预算科会议室",
            Observer("支部组织委员", member="off2"), cadre_note="李喆副局长",
        ),
        "treasury": GroupLife(
            "treasury", user("zuzhang_guoku"), user("shuji_caizheng"), 16, "国库科会议室",
            Observer("局机关党委专职副书记", name="邓志远"), cadre_note="王琰副局长",
            away={"tre3": (seconded, "借调省财政厅工作")},
        ),
        "procure": GroupLife(
            "procure", user("zuzhang_caigou"), user("shuji_caizheng"), 20, "政府采购监管科会议室",
            Observer("局长", member="director"),
        ),
        "general": GroupLife(
            "general", user("zuzhang_zonghe"), user("shuji_gongwei"), 10, "工委二楼会议室",
            Observer("支部组织委员", member="w4"), light=True,
        ),
        "service": GroupLife(
            "service", user("zuzhang_fuwu"), user("shuji_gongwei"), 14, "机关服务中心办公室",
            Observer("支部书记", member="w1"), light=True,
        ),
        "publicity": GroupLife(
            "publicity", user("admin"), user("shuji_gongwei"), 12, "宣传科办公室",
            Observer("支部书记", member="w1"),
            skip_months=frozenset({add_months(this_month, -1)}),
            last_day=_leaving_day(ctx, "w7"), light=True,
        ),
        "resources": GroupLife(
            "resources", user("zuzhang_ziran"), user("shuji_ziran"), 18, "局机关五楼会议室",
            Observer("市自然资源局机关党委专职副书记", name="贺立群"), cadre_note="段振宇副局长",
            light=True,
        ),
    }  # fmt: skip


def _leaving_day(ctx: DemoContext, key: str) -> dt.date:
    return ctx.members[key].left_on or ctx.today


def _finance(ctx: DemoContext, lives: dict[str, GroupLife], years: Sequence[int]) -> None:
    """The big branch: a full year for each of its 4 groups, plus this month's meetings in every state."""
    this_month = month_start(ctx.today)
    party_days = {
        "office": (7, lambda m: _party_day(m, volunteer=False)),
        "budget": (7, lambda m: _party_day(m, volunteer=False)),
        "treasury": (3, lambda m: _party_day(m, volunteer=True)),
        "procure": (3, lambda m: _party_day(m, volunteer=True)),
    }
    for key in ("office", "budget", "treasury", "procure"):
        life = lives[key]
        _run_all(ctx, life, _series(ctx, life, party_day=party_days[key]))
        if key == "treasury":  # 何磊 was seconded 8 months ago; his last talk was before he left
            talked = _in_month(add_months(this_month, -8), 5)
            _talks(
                ctx,
                life,
                skip=frozenset({"tre3"}),
                extra=[("tre3", talked, "借调前谈话：了解思想状况和借调安排")],
            )
        else:
            _talks(ctx, life)
        _annual_plans(ctx, life, years)
    ctx.expect(
        "R-20", "何磊", "何磊借调省财政厅已8个月，其间党小组未与其谈心谈话（R-20，6个月内应至少一次）。"
    )
    # A correction to an archived record is an addendum, never an edit.
    office = lives["office"]
    archived = Meeting.objects.filter(
        group=ctx.groups["office"], kind=MeetingKind.GROUP_MEETING, state=MeetingState.ARCHIVED
    ).order_by("-held_on")[2]
    addendum = services.addendum_add(
        meeting=archived,
        text="原记录中一名缺席人员的请假原因记为“病假”，经核对请假审批单应为“公休假”，特此补正。",
        reason="记录人核对请假审批单时发现笔误",
        by=office.approver,
    )
    stamp = min(archived.archived_at + dt.timedelta(days=5), timezone.now())
    MeetingAddendum.objects.filter(pk=addendum.pk).update(created_at=stamp)
    _this_month(ctx, lives)


def _this_month(ctx: DemoContext, lives: dict[str, GroupLife]) -> None:
    """Meetings of these weeks in every workflow state, so every role's screen has work in it."""
    today = ctx.today

    def topics(day: dt.date) -> tuple[Topic, Topic]:
        return STUDY_TOPICS[day.month], SECOND_TOPICS[day.month]

    def title(day: dt.date) -> str:
        return f"{day.year}年{day.month}月党小组会：{STUDY_TOPICS[day.month].title}"

    def past(days: int) -> dt.date:
        return _weekday_before(today - dt.timedelta(days=days))

    def ahead(days: int) -> dt.date:
        return _weekday_after(today + dt.timedelta(days=days))

    group = MeetingKind.GROUP_MEETING
    plans = [
        ("office", Plan(group, past(2), title(past(2)), topics(past(2)), state=MeetingState.HELD)),
        ("treasury", Plan(group, past(6), title(past(6)), topics(past(6)), state=MeetingState.REPORTED)),
        ("budget", Plan(group, ahead(3), title(ahead(3)), topics(ahead(3)), state=MeetingState.NOTIFIED)),
        ("office", _party_day_plan(ahead(12), MeetingState.APPROVED)),
        ("treasury", Plan(group, ahead(9), title(ahead(9)), topics(ahead(9)), state=MeetingState.SUBMITTED)),
        ("resources", Plan(group, ahead(6), title(ahead(6)), topics(ahead(6)), state=MeetingState.SUBMITTED)),
        (
            "procure",
            Plan(
                group, ahead(8), title(ahead(8)), topics(ahead(8)), state=MeetingState.RETURNED,
                returned_with="议题二涉及政府采购项目评审，请先与支部纪检委员沟通，补充回避安排后再报。",
            ),
        ),
        ("budget", Plan(group, ahead(20), title(ahead(20)), topics(ahead(20)), state=MeetingState.DRAFT)),
        ("procure", Plan(group, ahead(1), title(ahead(1)), topics(ahead(1)), state=MeetingState.CANCELLED)),
    ]  # fmt: skip
    for key, plan in plans:
        _run(ctx, lives[key], plan)


def _party_day_plan(day: dt.date, state: str) -> Plan:
    topics = (
        Topic("重温入党誓词", TopicCategory.STUDY, "全体党员在党旗前重温入党誓词。"),
        Topic("开展“党员进社区”政策宣传志愿服务", TopicCategory.OTHER, "在社区宣传财政惠民政策。"),
    )
    return Plan(
        MeetingKind.PARTY_DAY, day, "“党员进社区”主题党日", topics, state=state, start=dt.time(9, 0),
        decide=False, request_note="主题党日须经支部批准（R-21），请审定活动方案。",
    )  # fmt: skip


def _committee_office(ctx: DemoContext, lives: dict[str, GroupLife], years: Sequence[int]) -> None:
    """市直机关工委机关党支部: R-19 (综合科), R-17 (机关服务中心), R-10 (宣传科)."""
    this_month = month_start(ctx.today)
    # 综合科党小组: the year's evaluation was last held 14 months ago.
    general = lives["general"]
    last_evaluation = _in_month(add_months(this_month, -14), 20)
    _run_all(ctx, general, [*_series(ctx, general, evaluation=False), _evaluation_plan(last_evaluation)])
    _talks(ctx, general)
    _annual_plans(ctx, general, years)
    ctx.expect(
        "R-19",
        "综合科党小组",
        f"上次民主评议党员在{last_evaluation.year}年{last_evaluation.month}月，已超过12个月。",
    )

    # 机关服务中心党小组: last year's plan, none yet for this year (R-17; not due in January).
    service = lives["service"]
    _run_all(ctx, service, _series(ctx, service))
    _talks(ctx, service)
    _annual_plans(ctx, service, [y for y in years if y < ctx.today.year])
    due_month = ctx.branches["committee_office"].organisation.effective_rule_set().annual_plan_due_month
    if ctx.today.month > due_month:
        ctx.expect("R-17", "机关服务中心党小组", f"组长尚未制定{ctx.today.year}年度计划（应在年初制定）。")

    # 宣传科党小组: its leader left 40 days ago; last month nobody convened a meeting.
    publicity = lives["publicity"]
    life_day = _in_month(add_months(this_month, -3), 20)
    _run_all(
        ctx,
        publicity,
        [
            *_series(ctx, publicity, life_months=(), evaluation=False),
            _life_plan(life_day, LIFE_RECORDS[7] | {"theme": "新编党小组组织生活会：对照党员标准查找差距"}),
        ],
    )
    _talks(ctx, publicity, rounds=(3, 6))
    _annual_plans(ctx, publicity, years)
    missed = add_months(this_month, -1)
    ctx.expect(
        "R-10",
        "宣传科党小组",
        f"组长夏丽娟组织关系转出后无人召集，{missed.year}年{missed.month}月未召开党小组会。",
    )


def _resources(ctx: DemoContext, lives: dict[str, GroupLife], years: Sequence[int]) -> None:
    """自然资源局机关党小组 (Loudi rule set): the half-year's life meeting is overdue (R-18)."""
    this_month = month_start(ctx.today)
    life = lives["resources"]
    last_life = _in_month(add_months(this_month, -8), 24)
    plans = [
        *_series(ctx, life, life_months=()),
        _life_plan(_in_month(add_months(this_month, -14), 24), LIFE_RECORDS[1]),
        _life_plan(last_life, LIFE_RECORDS[7]),
    ]
    _run_all(ctx, life, [p for p in plans if p.day >= ctx.groups["resources"].established_on])
    _talks(ctx, life)
    _annual_plans(ctx, life, years)
    ctx.expect(
        "R-18",
        "自然资源局机关党小组",
        f"上次组织生活会在{last_life.year}年{last_life.month}月，因党小组拟调整而推迟，已超过6个月。",
    )


def build(ctx: DemoContext) -> None:
    ctx.cover(*COVERED_RULES)
    ctx.log("正在建立会议、谈心谈话和年度计划（一年的组织生活）…")
    _leader_accounts(ctx)
    lives = _lives(ctx)
    years = (ctx.today.year - 1, ctx.today.year)
    _finance(ctx, lives, years)
    ctx.log("正在建立其他党支部的会议记录…")
    _committee_office(ctx, lives, years)
    _resources(ctx, lives, years)

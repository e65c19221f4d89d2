"""Choices and the meeting workflow's transition table (R-11, R-13, R-21)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class MeetingKind(models.TextChoices):
    GROUP_MEETING = "group_meeting", _("党小组会")
    LIFE_MEETING = "life_meeting", _("组织生活会")
    EVALUATION = "evaluation", _("民主评议党员")
    PARTY_DAY = "party_day", _("主题党日")


# The title printed on the minutes for each kind.
MINUTES_TITLES = {
    MeetingKind.GROUP_MEETING: "党小组会议记录",
    MeetingKind.LIFE_MEETING: "党小组组织生活会记录",
    MeetingKind.EVALUATION: "民主评议党员会议记录",
    MeetingKind.PARTY_DAY: "主题党日活动记录",
}


class MeetingState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已请示")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已批准")
    NOTIFIED = "notified", _("已通知")
    HELD = "held", _("已召开")
    REPORTED = "reported", _("已上报")
    ARCHIVED = "archived", _("已存档")
    CANCELLED = "cancelled", _("已取消")


# States in which the meeting has taken place (counts for the cadence rules ).
HELD_STATES = frozenset({MeetingState.HELD, MeetingState.REPORTED, MeetingState.ARCHIVED})
# States in which the request (agenda, planned date) may still be edited by the leader.
EDITABLE_REQUEST_STATES = frozenset({MeetingState.DRAFT, MeetingState.RETURNED})
# States in which the minutes may be written or corrected by the leader.
MINUTES_EDITABLE_STATES = frozenset({MeetingState.NOTIFIED, MeetingState.HELD})


class Actor(models.TextChoices):
    LEADER = "leader", _("党小组组长或副组长")
    COMMITTEE = "committee", _("支委会成员（书记、组织委员、纪检委员）")


class Action(models.TextChoices):
    SUBMIT = "submit", _("向党支部请示")
    APPROVE = "approve", _("批准")
    RETURN = "return", _("退回修改")
    NOTIFY = "notify", _("通知全体党员")
    HOLD = "hold", _("记录召开情况")
    REPORT = "report", _("上报党支部")
    ARCHIVE = "archive", _("存档")
    CANCEL = "cancel", _("取消")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: str
    rule_id: str
    comment_required: bool = False


# The whole workflow in one table (STYLE.md): action → allowed source states, target, who, rule.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            Action.SUBMIT,
            frozenset({MeetingState.DRAFT, MeetingState.RETURNED}),
            MeetingState.SUBMITTED,
            Actor.LEADER,
            "R-11",
        ),
        Transition(
            Action.APPROVE,
            frozenset({MeetingState.SUBMITTED}),
            MeetingState.APPROVED,
            Actor.COMMITTEE,
            "R-11",
        ),
        Transition(
            Action.RETURN,
            frozenset({MeetingState.SUBMITTED}),
            MeetingState.RETURNED,
            Actor.COMMITTEE,
            "R-11",
            comment_required=True,
        ),
        Transition(
            Action.NOTIFY, frozenset({MeetingState.APPROVED}), MeetingState.NOTIFIED, Actor.LEADER, "R-11"
        ),
        Transition(Action.HOLD, frozenset({MeetingState.NOTIFIED}), MeetingState.HELD, Actor.LEADER, "R-12"),
        Transition(
            Action.REPORT, frozenset({MeetingState.HELD}), MeetingState.REPORTED, Actor.LEADER, "R-13"
        ),
        Transition(
            Action.ARCHIVE, frozenset({MeetingState.REPORTED}), MeetingState.ARCHIVED, Actor.COMMITTEE, "R-12"
        ),
        Transition(
            Action.CANCEL,
            frozenset(
                {
                    MeetingState.DRAFT,
                    MeetingState.SUBMITTED,
                    MeetingState.RETURNED,
                    MeetingState.APPROVED,
                    MeetingState.NOTIFIED,
                }
            ),
            MeetingState.CANCELLED,
            Actor.LEADER,
            "R-11",
            comment_required=True,
        ),
    ]
}


class HalfDay(models.TextChoices):
    MORNING = "am", _("上午")
    AFTERNOON = "pm", _("下午")
    EVENING = "eve", _("晚上")


class AttendanceRole(models.TextChoices):
    PRESENT = "present", _("参加")
    ABSENT = "absent", _("缺席")
    OBSERVER = "observer", _("列席")


class TopicCategory(models.TextChoices):
    """R-23: the topics the seeds name for group meetings."""

    STUDY = "study", _("组织开展学习")
    RESOLUTION = "resolution", _("研究贯彻执行支部决议")
    BRANCH_WORK = "branch_work", _("讨论推进支部布置的工作")
    ORGANISATIONAL_LIFE = "organisational_life", _("召开组织生活会")
    DEVELOPMENT = "development", _("研究推荐和发展党员工作")
    OUTSTANDING = "outstanding", _("评选优秀党员")
    DISCIPLINE = "discipline", _("讨论不合格党员处置和违纪党员处分")
    OTHER = "other", _("其他")


class ActionItemStatus(models.TextChoices):
    OPEN = "open", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    DROPPED = "dropped", _("已撤销")


OPEN_ACTION_STATUSES = frozenset({ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS})


class EvaluationGrade(models.TextChoices):
    """R-19: the peer-evaluation result of a member."""

    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASICALLY_QUALIFIED = "basic", _("基本合格")
    UNQUALIFIED = "unqualified", _("不合格")


class NoticeStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    NO_EMAIL = "no_email", _("无电子邮箱，需另行通知")
    FAILED = "failed", _("发送失败")


class Recommendation(models.TextChoices):
    """R-22 (002 template, 2nd agenda item): the group's recommendation on a person it cultivates."""

    RECOMMEND = "recommend", _("推荐")
    DEFER = "defer", _("暂缓")
    NOT_RECOMMEND = "not_recommend", _("不推荐")

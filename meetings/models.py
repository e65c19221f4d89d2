"""Meetings (党小组会, 组织生活会, 民主评议党员, 主题党日), their minutes, talks and annual plans.

A ``Meeting`` moves through the workflow of ``meetings.enums.TRANSITIONS`` (R-11, R-13); every step
is a ``MeetingTransition`` row (who, when, comment). Once archived a meeting and everything
attached to it is read-only (R-12); corrections are ``MeetingAddendum`` rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from groups.enums import CultivationStageKind
from groups.models import CultivationCandidate, PartyGroup
from meetings.annual_enums import AnnualReportState, ReportAction
from meetings.enums import (
    HELD_STATES,
    MINUTES_TITLES,
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    HalfDay,
    MeetingKind,
    MeetingState,
    NoticeStatus,
    Recommendation,
    TopicCategory,
)
from members.models import Member

REPORT_LINE_DEFAULT = "我们组如实向支部委员会报告大家的意见。"


class MeetingQuerySet(models.QuerySet):
    def held(self):
        return self.filter(state__in=HELD_STATES)


class Meeting(models.Model):
    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.CharField(_("会议类别"), max_length=20, choices=MeetingKind.choices)
    state = models.CharField(
        _("状态"), max_length=12, choices=MeetingState.choices, default=MeetingState.DRAFT
    )
    title = models.CharField(_("会议主题"), max_length=200)
    planned_date = models.DateField(_("拟召开日期"))
    planned_start = models.TimeField(_("拟开始时间"), null=True, blank=True)
    planned_place = models.CharField(_("拟召开地点"), max_length=200, blank=True)
    agenda = models.TextField(
        _("拟定议题"), help_text=_("R-11：会前向党支部请示确定的会议内容，每行一个议题")
    )
    request_note = models.TextField(_("请示说明"), blank=True)
    # Set when held: the minutes carry the details; these make month queries cheap.
    held_on = models.DateField(_("召开日期"), null=True, blank=True, db_index=True)
    archive_number = models.CharField(_("存档编号"), max_length=40, blank=True)
    archived_at = models.DateTimeField(_("存档时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MeetingQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-planned_date", "-id"]
        indexes = [
            models.Index(fields=["group", "kind", "held_on"], name="meeting_group_kind_held"),
            models.Index(fields=["state"], name="meeting_state"),
            # The meeting lists' order: the first page is read off this index instead of sorting
            # every visible meeting (organisation staff see all 137,676 of the city set).
            models.Index(fields=["-planned_date", "-id"], name="meeting_planned_desc"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["archive_number"],
                condition=~Q(archive_number=""),
                name="meeting_unique_archive_number",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["held", "reported", "archived"], held_on__isnull=False)
                | (~Q(state__in=["held", "reported", "archived"]) & Q(held_on__isnull=True)),
                name="meeting_held_on_iff_held",
                violation_error_message=_("只有已召开的会议才有召开日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.get_kind_display()}（{self.planned_date:%Y-%m-%d}）{self.title}"

    @property
    def is_archived(self) -> bool:
        return self.state == MeetingState.ARCHIVED

    @property
    def minutes_title(self) -> str:
        return MINUTES_TITLES[MeetingKind(self.kind)]

    def agenda_lines(self) -> list[str]:
        return [line.strip() for line in self.agenda.splitlines() if line.strip()]


class MeetingTransition(models.Model):
    """One workflow step: who did what, when, with which comment (R-11, R-13)."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField(_("操作"), max_length=12)
    from_state = models.CharField(_("原状态"), max_length=12, choices=MeetingState.choices)
    to_state = models.CharField(_("新状态"), max_length=12, choices=MeetingState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("操作时间"), auto_now_add=True)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        verbose_name = _("会议流程记录")
        verbose_name_plural = _("会议流程记录")
        ordering = ["meeting", "at", "id"]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.from_state} → {self.to_state}"


class Minutes(models.Model):
    """R-14: the record of a held meeting, in the order of seed 002's template."""

    meeting = models.OneToOneField(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="minutes"
    )
    held_on = models.DateField(_("日期"))
    half_day = models.CharField(_("上午/下午"), max_length=3, choices=HalfDay.choices)
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=200)
    host = models.ForeignKey(Member, verbose_name=_("主持人"), on_delete=models.PROTECT, related_name="+")
    recorder = models.ForeignKey(Member, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+")
    opening = models.TextField(
        _("开场说明"), blank=True, help_text=_("主持人说明会议召开依据、到会情况和议题")
    )
    chair_summary = models.TextField(_("主持人总结"), help_text=_("R-16：会议结束前归纳小结"))
    report_line = models.CharField(_("向支部报告"), max_length=200, default=REPORT_LINE_DEFAULT)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("会议记录")
        verbose_name_plural = _("会议记录")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="minutes_end_after_start",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}"


class Attendance(models.Model):
    """R-14: present / absent with a reason / observer (列席, possibly from outside the group)."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="attendances"
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("党员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attendances",
    )
    person_name = models.CharField(
        _("姓名（系统外人员）"), max_length=50, blank=True, help_text=_("列席人员不在本系统时填写")
    )
    person_title = models.CharField(
        _("职务"), max_length=60, blank=True, help_text=_("如：副局长、支部组织委员")
    )
    role = models.CharField(_("出席情况"), max_length=10, choices=AttendanceRole.choices)
    absence_reason = models.CharField(_("缺席原因"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("出席情况")
        verbose_name_plural = _("出席情况")
        ordering = ["meeting", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                condition=Q(member__isnull=False),
                name="attendance_unique_member",
                violation_error_message=_("同一人在出席名单中只能出现一次。"),
            ),
            models.CheckConstraint(
                condition=~Q(role="absent") | ~Q(absence_reason=""),
                name="attendance_absent_has_reason",
                violation_error_message=_("缺席人员必须注明缺席原因。"),
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False) | (~Q(person_name="") & Q(role="observer")),
                name="attendance_person_identified",
                violation_error_message=_("系统外人员只能作为列席人员，且必须填写姓名。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} {self.get_role_display()}"

    @property
    def display_name(self) -> str:
        return self.member.name if self.member_id else self.person_name


class AgendaItem(models.Model):
    """R-14: a numbered agenda item (议题一、议题二 …) with its record."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="agenda_items"
    )
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("议题"), max_length=200)
    category = models.CharField(
        _("议题类别"), max_length=20, choices=TopicCategory.choices, default=TopicCategory.STUDY
    )
    record = models.TextField(_("议题记录"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["meeting", "number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="agendaitem_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Speech(models.Model):
    """R-14/R-15: a speaker's main views on an agenda item, kept in speaking order."""

    agenda_item = models.ForeignKey(
        AgendaItem, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="speeches"
    )
    order = models.PositiveSmallIntegerField(_("发言顺序"))
    speaker = models.ForeignKey(
        Member, verbose_name=_("发言人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    speaker_name = models.CharField(_("发言人（系统外人员）"), max_length=50, blank=True)
    views = models.TextField(_("主要观点"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("发言")
        verbose_name_plural = _("发言")
        ordering = ["agenda_item", "order"]
        constraints = [
            models.UniqueConstraint(fields=["agenda_item", "order"], name="speech_unique_order"),
            models.CheckConstraint(
                condition=Q(speaker__isnull=False) | ~Q(speaker_name=""),
                name="speech_has_speaker",
                violation_error_message=_("请填写发言人。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.speaker.name if self.speaker_id else self.speaker_name


class ActionItem(models.Model):
    """R-16: a decided matter (议定事项) with measures, owner and due date, followed up until done."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("议定会议"), on_delete=models.PROTECT, related_name="action_items"
    )
    agenda_item = models.ForeignKey(
        AgendaItem,
        verbose_name=_("所属议题"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("议定事项"))
    measures = models.TextField(_("落实措施"), blank=True)
    owner = models.ForeignKey(
        Member, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="action_items"
    )
    due_on = models.DateField(_("完成时限"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN
    )
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)
    is_rectification = models.BooleanField(
        _("整改措施"), default=False, help_text=_("R-18：组织生活会后的整改措施")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("议定事项")
        verbose_name_plural = _("议定事项")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(completed_on__isnull=False),
                name="actionitem_done_has_date",
                violation_error_message=_("已完成的议定事项必须填写完成日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:40]


class ActionFollowUp(models.Model):
    """R-16: a later meeting's follow-up of an open decided matter."""

    action_item = models.ForeignKey(
        ActionItem, verbose_name=_("议定事项"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("跟进会议"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    note = models.TextField(_("进展情况"))
    status_after = models.CharField(_("跟进后状态"), max_length=12, choices=ActionItemStatus.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("议定事项跟进")
        verbose_name_plural = _("议定事项跟进")
        constraints = [
            models.UniqueConstraint(fields=["action_item", "meeting"], name="followup_unique_per_meeting"),
        ]

    def __str__(self) -> str:
        return f"{self.action_item} @ {self.meeting_id}"


class LifeMeetingRecord(models.Model):
    """R-18: an organisational life meeting's before / during / after steps."""

    meeting = models.OneToOneField(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="life_record"
    )
    theme = models.CharField(_("会议主题"), max_length=200)
    before_study = models.TextField(_("会前：围绕主题组织学习"))
    before_talks = models.TextField(_("会前：开展谈心谈话"))
    before_opinions = models.TextField(_("会前：听取意见"))
    during_problems = models.TextField(_("会上：查摆问题"))
    during_criticism = models.TextField(_("会上：批评和自我批评"))
    during_direction = models.TextField(_("会上：明确整改方向"))
    after_followup = models.TextField(_("会后：整改落实情况"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("组织生活会记录")
        verbose_name_plural = _("组织生活会记录")

    def __str__(self) -> str:
        return self.theme


class EvaluationResult(models.Model):
    """R-19: one member's self-evaluation and peer-evaluation result in a democratic evaluation."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="evaluations"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="evaluations"
    )
    self_evaluation = models.TextField(_("党性分析和个人自评"))
    peer_result = models.CharField(_("党员互评结果"), max_length=12, choices=EvaluationGrade.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("民主评议结果")
        verbose_name_plural = _("民主评议结果")
        ordering = ["meeting", "member__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                name="evaluation_unique_member",
                violation_error_message=_("该党员在本次评议中已有结果。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_peer_result_display()}"


class MeetingAddendum(models.Model):
    """A correction to an archived meeting: never an edit, always a new linked record (R-12)."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.PROTECT, related_name="addenda"
    )
    number = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("更正/补充内容"))
    reason = models.CharField(_("原因"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("会议记录补正")
        verbose_name_plural = _("会议记录补正")
        ordering = ["meeting", "number"]
        constraints = [models.UniqueConstraint(fields=["meeting", "number"], name="addendum_unique_number")]

    def __str__(self) -> str:
        return f"{self.meeting_id} 补正{self.number}"


class MeetingNotice(models.Model):
    """R-11: the notice of an approved meeting's agenda to every member of the group."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="notices"
    )
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发送人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("会议通知")
        verbose_name_plural = _("会议通知")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.subject


class NoticeRecipient(models.Model):
    notice = models.ForeignKey(
        MeetingNotice, verbose_name=_("通知"), on_delete=models.CASCADE, related_name="recipients"
    )
    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(_("电子邮箱"), blank=True)
    status = models.CharField(_("发送状态"), max_length=10, choices=NoticeStatus.choices)
    error = models.CharField(_("错误信息"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("通知对象")
        verbose_name_plural = _("通知对象")
        constraints = [models.UniqueConstraint(fields=["notice", "member"], name="recipient_unique")]

    def __str__(self) -> str:
        return f"{self.member} {self.get_status_display()}"


class Talk(models.Model):
    """R-20: a heart-to-heart talk between two people (leader–member or member–member)."""

    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="talks"
    )
    talked_on = models.DateField(_("谈话日期"))
    initiator = models.ForeignKey(
        Member, verbose_name=_("谈话人"), on_delete=models.PROTECT, related_name="talks_initiated"
    )
    partner = models.ForeignKey(
        Member, verbose_name=_("谈话对象"), on_delete=models.PROTECT, related_name="talks_received"
    )
    place = models.CharField(_("地点"), max_length=200, blank=True)
    topic = models.CharField(_("谈话主题"), max_length=200)
    summary = models.TextField(_("谈话要点"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("谈心谈话")
        verbose_name_plural = _("谈心谈话")
        ordering = ["-talked_on", "-id"]
        indexes = [models.Index(fields=["group", "talked_on"], name="talk_group_date")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(initiator=F("partner")),
                name="talk_two_people",
                violation_error_message=_("谈心谈话须在两人之间进行。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiator} ↔ {self.partner}（{self.talked_on:%Y-%m-%d}）"


class AnnualPlan(models.Model):
    """R-17: the group's plan for the year (time, progress, meeting frequency)."""

    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="annual_plans"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    summary = models.TextField(_("总体安排"), blank=True)
    meetings_per_year = models.PositiveSmallIntegerField(_("计划党小组会次数"), default=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("制定人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("制定时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("年度计划")
        verbose_name_plural = _("年度计划")
        ordering = ["group", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "year"],
                name="annualplan_unique",
                violation_error_message=_("该党小组本年度已有计划。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.year}年度计划"


class AnnualPlanItem(models.Model):
    plan = models.ForeignKey(
        AnnualPlan, verbose_name=_("年度计划"), on_delete=models.CASCADE, related_name="items"
    )
    month = models.PositiveSmallIntegerField(_("月份"))
    kind = models.CharField(
        _("活动类别"), max_length=20, choices=MeetingKind.choices, default=MeetingKind.GROUP_MEETING
    )
    topic = models.CharField(_("主题"), max_length=200)
    category = models.CharField(
        _("议题类别"), max_length=20, choices=TopicCategory.choices, default=TopicCategory.STUDY
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("年度计划安排")
        verbose_name_plural = _("年度计划安排")
        ordering = ["plan", "month", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12),
                name="planitem_month_range",
                violation_error_message=_("月份应在1至12之间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month}月 {self.topic}"


class CultivationOpinion(models.Model):
    """R-22: the group's opinion and recommendation on a person it cultivates, given in a held meeting
    (seed 002's second agenda item: “讨论对入党申请人的意见、推荐吸收入党积极分子人选”)."""

    candidate = models.ForeignKey(
        CultivationCandidate, verbose_name=_("培养对象"), on_delete=models.PROTECT, related_name="opinions"
    )
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.PROTECT, related_name="cultivation_opinions"
    )
    agenda_item = models.ForeignKey(
        AgendaItem,
        verbose_name=_("所属议题"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    proposed_stage = models.CharField(
        _("推荐为"),
        max_length=15,
        choices=CultivationStageKind.choices,
        blank=True,
        help_text=_("推荐进入的下一培养阶段，如：入党积极分子"),
    )
    recommendation = models.CharField(_("推荐意见"), max_length=15, choices=Recommendation.choices)
    opinion = models.TextField(_("党小组意见"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党小组对培养对象的意见")
        verbose_name_plural = _("党小组对培养对象的意见")
        ordering = ["-meeting__held_on", "candidate__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "meeting"],
                name="opinion_one_per_meeting",
                violation_error_message=_("本次会议已登记对该培养对象的意见。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate.name} {self.get_recommendation_display()}"


# --- The annual work report (R-34) ------------------------------------------------------------------
class AnnualReport(models.Model):
    """R-34: the group's report of its year's work to the branch (年度工作情况报告).

    The figures are drafted from the year's data (``meetings.annual_data``); the leader writes the
    narrative sections. While a draft (or returned) the figures are computed live; at each
    submission they are frozen in ``snapshot`` (JSON), so the submitted and the archived report never
    change when later data changes. Archived reports are read-only for everyone.
    Workflow: ``meetings.annual_enums.REPORT_TRANSITIONS``; every step is an
    ``AnnualReportTransition`` row (who, when, comment).
    """

    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="annual_reports"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    state = models.CharField(
        _("状态"), max_length=12, choices=AnnualReportState.choices, default=AnnualReportState.DRAFT
    )
    basic_situation = models.TextField(_("一、基本情况"), blank=True)
    main_work = models.TextField(_("二、主要工作"), blank=True)
    problems = models.TextField(_("三、存在问题"), blank=True)
    next_year_plans = models.TextField(_("四、下一年打算"), blank=True)
    snapshot = models.JSONField(
        _("报送时的数据"),
        default=dict,
        blank=True,
        help_text=_("报送党支部时冻结的年度数据；草稿没有快照"),
    )
    snapshot_at = models.DateTimeField(_("数据冻结时间"), null=True, blank=True)
    archive_number = models.CharField(_("存档编号"), max_length=40, blank=True)
    archived_at = models.DateTimeField(_("存档时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("起草人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("起草时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("年度工作情况报告")
        verbose_name_plural = _("年度工作情况报告")
        ordering = ["-year", "group__name", "id"]
        indexes = [models.Index(fields=["year", "state"], name="annualreport_year_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "year"],
                name="annualreport_one_per_year",
                violation_error_message=_("该党小组本年度已有年度工作情况报告。"),
            ),
            models.UniqueConstraint(
                fields=["archive_number"],
                condition=~Q(archive_number=""),
                name="annualreport_unique_archive_number",
            ),
            models.CheckConstraint(
                condition=~Q(state="archived") | ~Q(archive_number=""),
                name="annualreport_archived_has_number",
                violation_error_message=_("已存档的报告必须有存档编号。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.year}年度工作情况报告"

    @property
    def is_archived(self) -> bool:
        return self.state == AnnualReportState.ARCHIVED

    @property
    def title(self) -> str:
        return f"党小组{self.year}年度工作情况报告"


class AnnualReportTransition(models.Model):
    """One step of the annual report's workflow: who did what, when, with which comment (R-34)."""

    report = models.ForeignKey(
        AnnualReport, verbose_name=_("年度报告"), on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField(_("操作"), max_length=12, choices=ReportAction.choices)
    from_state = models.CharField(_("原状态"), max_length=12, choices=AnnualReportState.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=12, choices=AnnualReportState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("操作时间"), auto_now_add=True)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        verbose_name = _("年度报告流程记录")
        verbose_name_plural = _("年度报告流程记录")
        ordering = ["report", "at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.from_state} → {self.to_state}"

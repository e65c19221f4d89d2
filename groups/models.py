"""Party groups, who is in them (with history), who leads them, and the branch's decisions on them.

Date ranges are half-open: a membership or appointment runs from ``started_on`` (inclusive) to
``ended_on`` (exclusive; empty while current). A member moved on 1 September has the old
membership end on 1 September and the new one start on 1 September.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from groups.enums import (
    AppointmentMode,
    CultivationStageKind,
    FilingStatus,
    GroupChangeKind,
    LeaderGrade,
    LeaderRole,
)
from members.enums import Gender
from members.models import Branch, Member, Unit
from members.validators import validate_person_name


def _on_filter(on: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}started_on__lte": on}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": on})
    )


class PartyGroupQuerySet(models.QuerySet):
    def active(self, on: dt.date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(established_on__lte=on), Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=on))


class PartyGroup(models.Model):
    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField(_("党小组名称"), max_length=120)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("对应单位"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="groups",
        help_text=_("R-07：党小组宜与处室、科室、车间对应"),
    )
    established_on = models.DateField(_("建立日期"))
    dissolved_on = models.DateField(_("撤销日期"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)

    objects = PartyGroupQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党小组")
        verbose_name_plural = _("党小组")
        ordering = ["branch", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "name"],
                condition=Q(dissolved_on__isnull=True),
                name="group_unique_active_name",
                violation_error_message=_("本支部已有同名的党小组。"),
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=F("established_on")),
                name="group_dates_ordered",
                violation_error_message=_("撤销日期不能早于建立日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None or self.dissolved_on > timezone.localdate()

    def clean(self) -> None:
        if self.unit_id and self.branch_id and self.unit.branch_id != self.branch_id:
            raise ValidationError({"unit": _("对应单位不属于本支部。")})


class GroupMembershipQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None):
        return self.filter(_on_filter(on or timezone.localdate()))

    def overlapping(self, start: dt.date, end: dt.date | None):
        """Memberships whose [started_on, ended_on) overlaps [start, end)."""
        qs = self.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=start))
        if end is not None:
            qs = qs.filter(started_on__lt=end)
        return qs


class GroupMembership(models.Model):
    """A member's time in a group: the group history of R-06; one group at a time (R-09)."""

    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="memberships"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="memberships"
    )
    started_on = models.DateField(_("编入日期"))
    ended_on = models.DateField(_("调出日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = GroupMembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党小组成员")
        verbose_name_plural = _("党小组成员")
        ordering = ["member", "started_on"]
        constraints = [
            # one open membership per member (the overlap of closed ranges is checked in the service).
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_current_group",
                violation_error_message=_("该党员已编入一个党小组（R-09：同一时间只能编入一个党小组）。"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")),
                name="membership_dates_ordered",
                violation_error_message=_("调出日期必须晚于编入日期。"),
            ),
        ]
        indexes = [models.Index(fields=["group", "ended_on"], name="membership_group_open")]

    def __str__(self) -> str:
        return f"{self.member} @ {self.group}"

    def covers(self, day: dt.date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day < self.ended_on)


class GroupChange(models.Model):
    """R-05: the branch decides to create, adjust or dissolve a group and files it upwards."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="group_changes"
    )
    group = models.ForeignKey(
        PartyGroup,
        verbose_name=_("党小组"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
    )
    affected_groups = models.ManyToManyField(
        PartyGroup,
        verbose_name=_("涉及的党小组"),
        blank=True,
        related_name="affecting_changes",
        help_text=_("调整涉及多个党小组时，每个党小组都记录在此"),
    )
    kind = models.CharField(_("类别"), max_length=10, choices=GroupChangeKind.choices)
    summary = models.TextField(_("决定内容"))
    decided_on = models.DateField(_("支部决定日期"))
    document_number = models.CharField(_("会议记录/文件编号"), max_length=60)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    filing_status = models.CharField(
        _("备案状态"), max_length=15, choices=FilingStatus.choices, default=FilingStatus.PENDING
    )
    filed_on = models.DateField(_("报备日期"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报备人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_on = models.DateField(_("上级备案日期"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("备案人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation_comment = models.TextField(_("上级意见"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()  # affected_groups is set once, with the decision

    class Meta:
        verbose_name = _("党小组设置变更")
        verbose_name_plural = _("党小组设置变更")
        ordering = ["-decided_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(filed_on__isnull=True) | Q(filed_on__gte=F("decided_on")),
                name="groupchange_filed_after_decision",
                violation_error_message=_("报备日期不能早于支部决定日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.group or ''}（{self.decided_on:%Y-%m-%d}）"


class LeaderAppointmentQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None):
        return self.filter(_on_filter(on or timezone.localdate()))


class LeaderAppointment(models.Model):
    """R-24…R-26: a group leader or deputy, how they were chosen, and the branch's attestation."""

    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="appointments"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="leader_appointments"
    )
    role = models.CharField(_("职务"), max_length=10, choices=LeaderRole.choices, default=LeaderRole.LEADER)
    mode = models.CharField(_("产生方式"), max_length=15, choices=AppointmentMode.choices)
    started_on = models.DateField(_("任职日期"))
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)
    term_ends_on = models.DateField(
        _("任期届满日期"), null=True, blank=True, help_text=_("R-26：一般与支委会届期相同")
    )
    decision_number = models.CharField(_("支部决定编号"), max_length=60, blank=True)
    # the branch attests Art.10 (2)–(4) at appointment.
    attests_political_quality = models.BooleanField(
        _("政治素质高，具备一定的政策理论水平，熟悉党的基本知识"), default=False
    )
    attests_dedication = models.BooleanField(
        _("热爱党的工作，有较强的事业心和责任感，在党员和群众中有较高威信"), default=False
    )
    attests_organising_ability = models.BooleanField(
        _("组织协调能力较强，能够团结带领党员完成党支部交办的各项任务"), default=False
    )
    attestation_note = models.TextField(_("考察意见"), blank=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("考察人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    attested_at = models.DateTimeField(_("考察时间"), null=True, blank=True)
    end_reason = models.CharField(_("离任原因"), max_length=200, blank=True)

    objects = LeaderAppointmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党小组组长任职")
        verbose_name_plural = _("党小组组长任职")
        ordering = ["group", "role", "-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "role"],
                condition=Q(ended_on__isnull=True),
                name="appointment_one_current_per_role",
                violation_error_message=_("该党小组已有在任的同一职务，请先办理离任。"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("started_on")),
                name="appointment_dates_ordered",
                violation_error_message=_("离任日期必须晚于任职日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.get_role_display()} {self.member}"

    @property
    def is_fully_attested(self) -> bool:
        return self.attests_political_quality and self.attests_dedication and self.attests_organising_ability

    def covers(self, day: dt.date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day < self.ended_on)


# --- The leader's yearly review, interviews and training (R-28, R-35) ------------------------------
class LeaderReview(models.Model):
    """R-28 (seed 004 §四): the branch's yearly assessment of a leader or deputy as 优秀/称职/不称职.

    One per appointment and year; the service also refuses a second review of the same person in the
    same group and year. Two consecutive 不称职 of the current leader make replacement due (finding).
    """

    appointment = models.ForeignKey(
        LeaderAppointment, verbose_name=_("任职"), on_delete=models.PROTECT, related_name="reviews"
    )
    year = models.PositiveSmallIntegerField(_("考核年度"))
    grade = models.CharField(_("考核等次"), max_length=12, choices=LeaderGrade.choices)
    notes = models.TextField(_("考核意见"), blank=True)
    reviewed_on = models.DateField(_("考核日期"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("考核人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党小组组长年度考核")
        verbose_name_plural = _("党小组组长年度考核")
        ordering = ["-year", "appointment__group__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "year"],
                name="leaderreview_one_per_year",
                violation_error_message=_("该组长本年度已有考核结果（R-28）。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment.member} {self.year}年度 {self.get_grade_display()}"


class LeaderInterview(models.Model):
    """R-28: the branch interviews (约谈) a leader who performs poorly: when, by whom, what was said."""

    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="leader_interviews"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("被约谈组长"), on_delete=models.PROTECT, related_name="leader_interviews"
    )
    interviewed_on = models.DateField(_("约谈日期"))
    interviewer = models.CharField(_("约谈人"), max_length=100, help_text=_("如：支部书记 张三"))
    content = models.TextField(_("约谈内容"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("约谈党小组组长")
        verbose_name_plural = _("约谈党小组组长")
        ordering = ["-interviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.group} {self.member}（{self.interviewed_on:%Y-%m-%d}）"


class LeaderTraining(models.Model):
    """R-35: a training a (future) leader or deputy attended: date, title, hours, organiser."""

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="leader_trainings"
    )
    trained_on = models.DateField(_("培训日期"))
    title = models.CharField(_("培训名称"), max_length=200)
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1)
    organiser = models.CharField(_("主办单位"), max_length=120)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党小组组长培训")
        verbose_name_plural = _("党小组组长培训")
        ordering = ["-trained_on", "-id"]
        indexes = [models.Index(fields=["member", "trained_on"], name="leadertraining_member_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0),
                name="leadertraining_hours_positive",
                violation_error_message=_("学时必须大于0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.title}（{self.trained_on:%Y-%m-%d}）"


# --- Cultivation (R-22) --------------------------------------------------------------------------
class CultivationCandidate(models.Model):
    """R-22: a person the group cultivates — not (yet) a member: applicant → activist → development
    candidate → probationary member. ``stage`` is the current stage; ``stages`` holds the date each
    stage began (the history, in order). ``member`` links the Member record once they join."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="cultivation_candidates"
    )
    group = models.ForeignKey(
        PartyGroup, verbose_name=_("党小组"), on_delete=models.PROTECT, related_name="cultivation_candidates"
    )
    name = models.CharField(_("姓名"), max_length=50, validators=[validate_person_name])
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所在单位"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cultivation_candidates",
    )
    stage = models.CharField(_("培养阶段"), max_length=15, choices=CultivationStageKind.choices)
    stage_started_on = models.DateField(_("本阶段开始日期"))
    contacts = models.ManyToManyField(
        Member,
        verbose_name=_("培养联系人"),
        blank=True,
        related_name="cultivation_contacts_for",
        help_text=_("1至2名本支部正式党员（入党积极分子阶段起必须确定）"),
    )
    member = models.OneToOneField(
        Member,
        verbose_name=_("入党后的党员记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cultivation_record",
    )
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords(m2m_fields=[contacts])

    class Meta:
        verbose_name = _("培养对象")
        verbose_name_plural = _("培养对象")
        ordering = ["branch", "group", "name", "id"]
        indexes = [models.Index(fields=["group", "stage"], name="candidate_group_stage")]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_stage_display()}）"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.group_id and self.branch_id and self.group.branch_id != self.branch_id:
            errors.setdefault("group", []).append(_("党小组不属于该党支部。"))
        if self.unit_id and self.branch_id and self.unit.branch_id != self.branch_id:
            errors.setdefault("unit", []).append(_("所在单位不属于该党支部。"))
        if self.birth_date and self.birth_date > timezone.localdate():
            errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天。"))
        if self.member_id and self.branch_id and self.member.branch_id != self.branch_id:
            errors.setdefault("member", []).append(_("关联的党员不属于该党支部。"))
        if errors:
            raise ValidationError(errors)


class CultivationStage(models.Model):
    """R-22: the day a candidate entered a stage and the decision behind it (who/when recorded)."""

    candidate = models.ForeignKey(
        CultivationCandidate, verbose_name=_("培养对象"), on_delete=models.PROTECT, related_name="stages"
    )
    stage = models.CharField(_("培养阶段"), max_length=15, choices=CultivationStageKind.choices)
    started_on = models.DateField(_("开始日期"))
    decided_by_note = models.CharField(
        _("确定依据"), max_length=200, blank=True, help_text=_("如：支委会2025年3月研究确定、支部大会决议")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("培养阶段记录")
        verbose_name_plural = _("培养阶段记录")
        ordering = ["candidate", "started_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "stage"],
                name="cultivationstage_once",
                violation_error_message=_("该培养对象已经历过这一阶段。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate.name} {self.get_stage_display()}（{self.started_on:%Y-%m-%d}）"

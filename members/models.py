"""The organisation and its people: rule sets, organisations, branches, units, members, roles.

``members`` depends on no other app of the project (STYLE.md): groups and meetings build on it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from members import rules
from members.enums import (
    CommitteePost,
    Gender,
    MemberState,
    MemberStatus,
    OrganisationKind,
    PersonalField,
    PointsGrade,
    ThoughtReportKind,
)
from members.validators import (
    id_number_birth_date,
    normalise_id_number,
    normalise_phone,
    validate_id_number,
    validate_mobile,
    validate_person_name,
)


class RuleSet(models.Model):
    """The rules an organisation works under (R-37), with the thresholds the checks read.

    Two rule sets are created by migration: the 2019 central rules (seed 000) and the Loudi 2023
    variant (seed 001, which also adopts the rural opinion's guideline values of seed 004).
    Thresholds are data, not constants in code.
    """

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    document_title = models.CharField(
        _("文件名称"),
        max_length=200,
        help_text=_("发现的问题引用条款时使用，如《中央和国家机关党小组工作规则（试行）》"),
    )
    issuer = models.CharField(_("发文机关"), max_length=120, blank=True)
    document_number = models.CharField(_("文号"), max_length=60, blank=True)
    effective_date = models.DateField(_("施行日期"))
    #
    split_threshold = models.PositiveSmallIntegerField(
        _("应划分党小组的党员人数"),
        default=20,
        help_text=_("R-01：党员人数达到此数的党支部一般应划分若干党小组"),
    )
    #
    min_group_members = models.PositiveSmallIntegerField(_("党小组最少党员数"), default=3)
    min_full_members = models.PositiveSmallIntegerField(_("党小组最少正式党员数"), default=1)
    #
    size_guideline_enabled = models.BooleanField(_("启用党小组人数指导范围（R-08）"), default=False)
    size_guideline_min = models.PositiveSmallIntegerField(_("党小组人数指导下限"), default=10)
    size_guideline_max = models.PositiveSmallIntegerField(_("党小组人数指导上限"), default=20)
    #
    group_meeting_interval_months = models.PositiveSmallIntegerField(_("党小组会间隔（月）"), default=1)
    annual_plan_due_month = models.PositiveSmallIntegerField(_("年度计划最迟制定月份"), default=1)
    life_meeting_interval_months = models.PositiveSmallIntegerField(_("组织生活会间隔（月）"), default=6)
    evaluation_interval_months = models.PositiveSmallIntegerField(_("民主评议党员间隔（月）"), default=12)
    talk_interval_months = models.PositiveSmallIntegerField(_("谈心谈话间隔（月）"), default=6)
    #
    thought_report_interval_months = models.PositiveSmallIntegerField(
        _("思想汇报最长间隔（月）"), default=3, help_text=_("R-30：每月一次，最长不超过一个季度")
    )
    probationary_report_interval_months = models.PositiveSmallIntegerField(
        _("预备党员书面汇报间隔（月）"), default=3
    )
    #
    points_rating_enabled = models.BooleanField(_("启用党员积分定等（R-33）"), default=False)
    dual_review_enabled = models.BooleanField(_("纳入支部书记“双述双评”（R-36）"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("规则集")
        verbose_name_plural = _("规则集")
        ordering = ["effective_date", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size_guideline_min__lte=models.F("size_guideline_max")),
                name="ruleset_size_guideline_range",
                violation_error_message=_("人数指导下限不能大于上限。"),
            ),
            models.CheckConstraint(
                condition=Q(min_group_members__gte=1) & Q(min_full_members__gte=1),
                name="ruleset_min_members_positive",
                violation_error_message=_("党小组最少党员数和最少正式党员数至少为1。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_date:%Y-%m-%d}施行）"


class Organisation(MP_Node):
    """A higher party organisation (工委 → 机关党委 → 党总支 …), stored as a materialised-path tree.

    Organisation staff see their node's whole subtree. ``rule_set`` is inherited by child nodes
    unless a child sets its own (R-37).
    """

    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(
        _("类别"), max_length=20, choices=OrganisationKind.choices, default=OrganisationKind.OTHER
    )
    rule_set = models.ForeignKey(
        RuleSet,
        verbose_name=_("规则集"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        help_text=_("留空则沿用上级组织的规则集"),
    )

    # No node_order_by: paths follow insertion order and never change when a sibling is added, so a
    # path cached for a request (organisation staff scope) cannot go stale.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("上级党组织")
        verbose_name_plural = _("上级党组织")

    def __str__(self) -> str:
        return self.name

    def effective_rule_set(self) -> RuleSet:
        """The node's own rule set, else the nearest ancestor's (R-37)."""
        if self.rule_set_id:
            return self.rule_set
        for ancestor in reversed(Organisation.objects.get_ancestors(self).select_related("rule_set")):
            if ancestor.rule_set_id:
                return ancestor.rule_set
        return RuleSet.objects.get(code=DEFAULT_RULE_SET_CODE)


DEFAULT_RULE_SET_CODE = "central-2019"


class Branch(models.Model):
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("上级党组织"), on_delete=models.PROTECT, related_name="branches"
    )
    name = models.CharField(_("支部名称"), max_length=120)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    committee_term_ends_on = models.DateField(
        _("支委会届满日期"), null=True, blank=True, help_text=_("R-26：党小组组长任期与支委会届期相同")
    )
    ledger_start_on = models.DateField(
        _("党员台账启用日期"),
        null=True,
        blank=True,
        help_text=_(
            "R-30/R-31：本支部自该日期所在月份起在系统中记录思想汇报和党费，逾期和欠交从该月"
            "（党员入党晚于该月的，从入党当月）起计算；留空表示尚未启用，不提示逾期和欠交"
        ),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党支部")
        verbose_name_plural = _("党支部")
        ordering = ["organisation__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                name="branch_unique_name",
                violation_error_message=_("同一上级组织下已有同名党支部。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An administrative unit (处室/科室/车间/村民组) members work in; groups align with units (R-07)."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.CASCADE, related_name="units"
    )
    name = models.CharField(_("单位名称"), max_length=120)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("所在单位")
        verbose_name_plural = _("所在单位")
        ordering = ["branch", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "name"],
                name="unit_unique_name",
                violation_error_message=_("本支部已有同名单位。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class MemberQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state=MemberState.ACTIVE)

    def full(self):
        return self.filter(status=MemberStatus.FULL)


class Member(models.Model):
    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=50, validators=[validate_person_name])
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = models.CharField(
        _("身份证号"), max_length=18, null=True, blank=True, unique=True, validators=[validate_id_number]
    )
    phone = models.CharField(_("手机号码"), max_length=20, blank=True, validators=[validate_mobile])
    email = models.EmailField(_("电子邮箱"), blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所在单位"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    post = models.CharField(_("职务"), max_length=60, blank=True, help_text=_("如：处长、副局长"))
    is_leading_cadre = models.BooleanField(
        _("党员领导干部"), default=False, help_text=_("R-35：党员领导干部带头参加所在党小组活动")
    )
    status = models.CharField(_("党员类别"), max_length=20, choices=MemberStatus.choices)
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    full_member_on = models.DateField(_("转正日期"), null=True, blank=True)
    state = models.CharField(
        _("在册状态"), max_length=10, choices=MemberState.choices, default=MemberState.ACTIVE
    )
    left_on = models.DateField(_("离册日期"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MemberQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        # By the branch's id, not its own ordering (which would join and sort on the organisation path).
        ordering = ["branch_id", "name", "id"]
        indexes = [
            models.Index(fields=["branch", "state"], name="member_branch_state"),
            models.Index(fields=["branch", "name", "id"], name="member_branch_name"),
        ]
        permissions = [("reveal_personal_data", _("可查看完整身份证号和手机号码"))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_full_member(self) -> bool:
        return self.status == MemberStatus.FULL

    @property
    def is_active(self) -> bool:
        return self.state == MemberState.ACTIVE

    def was_full_member_on(self, day: dt.date) -> bool:
        """Full member on ``day``: status full and (if known) full membership began by then."""
        if self.status != MemberStatus.FULL:
            return False
        return self.full_member_on is None or self.full_member_on <= day

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.id_number:
            self.id_number = normalise_id_number(self.id_number)
        else:
            self.id_number = None
        if self.phone:
            self.phone = normalise_phone(self.phone)
        today = timezone.localdate()
        if self.birth_date and self.birth_date > today:
            errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天。"))
        if self.id_number and self.birth_date:
            id_birth = id_number_birth_date(self.id_number)
            if id_birth and id_birth != self.birth_date:
                errors.setdefault("birth_date", []).append(
                    _("出生日期与身份证号中的出生日期（%(date)s）不一致。") % {"date": id_birth.isoformat()}
                )
        if self.joined_on and self.joined_on > today:
            errors.setdefault("joined_on", []).append(_("入党日期不能晚于今天。"))
        if self.joined_on and self.birth_date and self.joined_on <= self.birth_date:
            errors.setdefault("joined_on", []).append(_("入党日期必须晚于出生日期。"))
        if self.status == MemberStatus.PROBATIONARY:
            if not self.joined_on:
                errors.setdefault("joined_on", []).append(_("预备党员必须填写入党日期。"))
            if self.full_member_on:
                errors.setdefault("full_member_on", []).append(_("预备党员不应有转正日期。"))
        if self.full_member_on:
            if self.full_member_on > today:
                errors.setdefault("full_member_on", []).append(_("转正日期不能晚于今天。"))
            if self.joined_on and self.full_member_on < self.joined_on:
                errors.setdefault("full_member_on", []).append(_("转正日期不能早于入党日期。"))
        if self.state == MemberState.LEFT and not self.left_on:
            errors.setdefault("left_on", []).append(_("离册党员必须填写离册日期。"))
        if self.state == MemberState.ACTIVE and self.left_on:
            errors.setdefault("left_on", []).append(_("在册党员不应有离册日期。"))
        if self.unit_id and self.branch_id and self.unit.branch_id != self.branch_id:
            errors.setdefault("unit", []).append(_("所在单位不属于该党员的党支部。"))
        if errors:
            raise ValidationError(errors)


def mask_id_number(value: str | None) -> str:
    """110101********1234 — keeps the region (6) and the last 4 characters."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:-8] + "****" + value[-4:]


class CommitteeMembershipQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(started_on__lte=on), Q(ended_on__isnull=True) | Q(ended_on__gt=on))


class CommitteeMembership(models.Model):
    """A member's post on the branch committee (支部委员会): secretary, organisation, discipline …"""

    branch = models.ForeignKey(
        Branch, verbose_name=_("党支部"), on_delete=models.CASCADE, related_name="committee_memberships"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="committee_memberships"
    )
    post = models.CharField(_("职务"), max_length=20, choices=CommitteePost.choices)
    started_on = models.DateField(_("任职日期"))
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)

    objects = CommitteeMembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("支委会成员")
        verbose_name_plural = _("支委会成员")
        ordering = ["branch", "post"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "post"],
                condition=Q(ended_on__isnull=True) & Q(post="secretary"),
                name="committee_one_current_secretary",
                violation_error_message=_("本支部已有在任支部书记。"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=models.F("started_on")),
                name="committee_dates_ordered",
                violation_error_message=_("离任日期必须晚于任职日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.get_post_display()} {self.member}"

    def clean(self) -> None:
        if self.member_id and self.branch_id and self.member.branch_id != self.branch_id:
            raise ValidationError({"member": _("支委会成员必须是本支部党员。")})


class OrganisationStaff(models.Model):
    """Staff of an organisation department: read across the node's subtree, export reports."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("上级党组织"), on_delete=models.CASCADE, related_name="staff"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="organisation_roles",
    )
    can_view_personal_data = models.BooleanField(_("可查看完整个人信息"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("组织部门工作人员")
        verbose_name_plural = _("组织部门工作人员")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                name="orgstaff_unique",
                violation_error_message=_("该用户已是此组织的工作人员。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.user}"


class PersonalDataReveal(models.Model):
    """Log of every reveal of a masked ID number or phone number."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="reveals"
    )
    field = models.CharField(_("字段"), max_length=20, choices=PersonalField.choices)
    revealed_at = models.DateTimeField(_("查看时间"), default=timezone.now)
    context = models.CharField(_("场景"), max_length=60, blank=True, help_text=_("如：党员详情页、导出"))
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-revealed_at"]

    def __str__(self) -> str:
        return f"{self.user} → {self.member} {self.get_field_display()}"


# --- Members' ongoing duties (R-30 … R-33) --------------------------------------------------------
def _typed(value, kind):
    """``value`` if ``clean_fields`` could convert it, else None (its field error is reported anyway)."""
    return value if isinstance(value, kind) else None


class DuesPayment(models.Model):
    """R-31: one member's dues for one month (one row per member and month), who collected, when.

    ``month`` is the first day of the month paid for. A month is settled when ``amount_paid`` reaches
    ``amount_due``; arrears are the due months without a settled row (``members.rules``).
    """

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="dues_payments"
    )
    month = models.DateField(_("月份"), help_text=_("交纳的是哪个月的党费（记为该月第一天）"))
    amount_due = models.DecimalField(_("应交金额（元）"), max_digits=10, decimal_places=2)
    amount_paid = models.DecimalField(_("实交金额（元）"), max_digits=10, decimal_places=2)
    paid_on = models.DateField(_("交纳日期"))
    is_lump_sum = models.BooleanField(
        _("一次性交纳大额党费"),
        default=False,
        help_text=_("党员自愿一次性交纳大额党费时勾选，此时实交金额可超过每月上限（10000元）"),
    )
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收缴人"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党费交纳记录")
        verbose_name_plural = _("党费交纳记录")
        ordering = ["-month", "member__name", "id"]
        indexes = [models.Index(fields=["month"], name="dues_month")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "month"],
                name="dues_one_per_member_month",
                violation_error_message=_("该党员该月的党费已登记，不能重复交纳（R-31）。"),
            ),
            models.CheckConstraint(
                condition=Q(amount_due__gte=0) & Q(amount_paid__gte=0),
                name="dues_amounts_not_negative",
                violation_error_message=_("党费金额不能为负数。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.month:%Y年%m月} {self.amount_paid}元"

    @property
    def is_settled(self) -> bool:
        return self.amount_paid >= self.amount_due

    @property
    def shortfall(self) -> Decimal:
        return max(self.amount_due - self.amount_paid, Decimal("0.00"))

    def clean(self) -> None:
        if not self.member_id:
            return
        errors = rules.dues_problems(
            month=_typed(self.month, dt.date),
            amount_due=_typed(self.amount_due, Decimal),
            amount_paid=_typed(self.amount_paid, Decimal),
            paid_on=_typed(self.paid_on, dt.date),
            is_lump_sum=self.is_lump_sum,
            joined_on=self.member.joined_on,
            left_on=self.member.left_on,
            today=timezone.localdate(),
        )
        if errors:
            raise ValidationError(errors)


class ThoughtReport(models.Model):
    """R-30: a member's report of their thinking and work to the group (oral or written)."""

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="thought_reports"
    )
    received_on = models.DateField(_("汇报日期"))
    kind = models.CharField(_("汇报方式"), max_length=10, choices=ThoughtReportKind.choices)
    period_start = models.DateField(_("汇报期间（起）"), help_text=_("记为该月第一天"))
    period_end = models.DateField(_("汇报期间（止）"), help_text=_("记为该月第一天"))
    summary = models.TextField(_("主要内容"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("思想汇报")
        verbose_name_plural = _("思想汇报")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["member", "received_on"], name="thoughtreport_member_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="thoughtreport_period_ordered",
                violation_error_message=_("汇报期间的结束月份不能早于开始月份。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()}（{self.received_on:%Y-%m-%d}）"

    def clean(self) -> None:
        if not self.member_id:
            return
        errors = rules.thought_report_problems(
            received_on=_typed(self.received_on, dt.date),
            period_start=_typed(self.period_start, dt.date),
            period_end=_typed(self.period_end, dt.date),
            joined_on=self.member.joined_on,
            left_on=self.member.left_on,
            today=timezone.localdate(),
        )
        if errors:
            raise ValidationError(errors)


class MemberPost(models.Model):
    """R-32: a post and public commitment (设岗定责、公开承诺) taken by a member without a post."""

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="posts_taken"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("岗位"), max_length=100, help_text=_("如：政策宣传岗、联系群众岗"))
    commitment = models.TextField(_("承诺内容"))
    publicised_on = models.DateField(_("公开承诺日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("设岗定责、公开承诺")
        verbose_name_plural = _("设岗定责、公开承诺")
        ordering = ["-year", "member__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                name="memberpost_one_per_year",
                violation_error_message=_("该党员本年度已设岗承诺（R-32）。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.year}年 {self.title}"

    def clean(self) -> None:
        if not self.member_id:
            return
        errors: dict[str, list[str]] = {}
        today = timezone.localdate()
        problems = rules.year_problems(
            year=_typed(self.year, int),
            joined_on=self.member.joined_on,
            left_on=self.member.left_on,
            today=today,
            what=str(_("设岗承诺")),
        )
        if problems:
            errors["year"] = problems
        if self.publicised_on and self.publicised_on > today:
            errors["publicised_on"] = [_("公开承诺日期不能晚于今天。")]
        if errors:
            raise ValidationError(errors)


class PointsRating(models.Model):
    """R-33: a member's yearly points rating (党员积分定等) — only where the rule set enables it."""

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.PROTECT, related_name="points_ratings"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    points = models.DecimalField(_("积分"), max_digits=5, decimal_places=1)
    grade = models.CharField(_("等次"), max_length=12, choices=PointsGrade.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党员积分定等")
        verbose_name_plural = _("党员积分定等")
        ordering = ["-year", "member__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                name="pointsrating_one_per_year",
                violation_error_message=_("该党员本年度已有积分定等（R-33）。"),
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0),
                name="pointsrating_points_not_negative",
                violation_error_message=_("积分不能为负数。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.year}年 {self.get_grade_display()}"

    def clean(self) -> None:
        if not self.member_id:
            return
        problems = rules.year_problems(
            year=_typed(self.year, int),
            joined_on=self.member.joined_on,
            left_on=self.member.left_on,
            today=timezone.localdate(),
            what=str(_("积分定等")),
        )
        if problems:
            raise ValidationError({"year": problems})

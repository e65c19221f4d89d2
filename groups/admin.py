"""Admin of the groups app: scoped by ``groups.selectors``, writes through ``groups.services``.

- Every changelist, change page and history page starts from the user's selector
  (``groups_visible_to`` …): an object of another branch is simply not found (STYLE.md; django-rules
  does not filter querysets, FACTS.md).
- Adding a group, placing a member and appointing a leader go through the services, so hard rules
  (R-09 one group at a time, R-24 full members only, R-25 attestation) refuse the form with the rule's
  message and nothing is saved; R-05 records the branch's decision for filing.
- Nothing is deleted or reverted here: the history of groups, memberships and appointments is a
  record (R-06, R-29); group changes move through the filing workflow by the two actions.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from groups import services
from groups.enums import LeaderRole
from groups.models import (
    CultivationCandidate,
    CultivationStage,
    GroupChange,
    GroupMembership,
    LeaderAppointment,
    LeaderInterview,
    LeaderReview,
    LeaderTraining,
    PartyGroup,
)
from groups.selectors import (
    appointments_visible_to,
    candidates_visible_to,
    group_changes_visible_to,
    groups_visible_to,
    leader_interviews_visible_to,
    leader_reviews_visible_to,
    leader_trainings_visible_to,
    memberships_visible_to,
    roles_of,
)
from members.enums import MemberState
from members.models import Member, Unit
from members.selectors import branches_managed_by, branches_visible_to
from partygroup.admin import ScopedAdminMixin, ServiceAdminMixin, ServiceForm


# --- shared pieces -------------------------------------------------------------------------------
def branch_filter(field_path: str) -> type[admin.SimpleListFilter]:
    """A 党支部 filter listing only the branches the user may see (not every branch in the database)."""

    class BranchFilter(admin.SimpleListFilter):
        title = _("党支部")
        parameter_name = "branch"

        def lookups(self, request, model_admin):
            return [
                (str(pk), name) for pk, name in branches_visible_to(request.user).values_list("pk", "name")
            ]

        def queryset(self, request, queryset):
            value = self.value()
            if value and value.isdigit():
                return queryset.filter(**{field_path: int(value)})
            return queryset

    return BranchFilter


class CurrentFilter(admin.SimpleListFilter):
    """现任/已结束 for date ranges ``[started_on, ended_on)``."""

    title = _("状态")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("现任/现有")), ("no", _("已结束"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.current(timezone.localdate())
        if self.value() == "no":
            return queryset.filter(ended_on__lte=timezone.localdate())
        return queryset


class ScopedAdmin(SimpleHistoryAdmin):
    """Querysets from the user's selector; object pages only for objects in scope; no delete, no revert."""

    def scoped_queryset(self, request):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self, request):
        qs = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def in_scope(self, request, obj) -> bool:
        cache = request.__dict__.setdefault("_groups_admin_scope", {})
        key = (self.model, obj.pk)
        if key not in cache:
            cache[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return cache[key]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":  # a revert would bypass the services (R-09, R-24 …)
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ServiceForm):
            form = type(form.__name__, (form,), {"acting_user": request.user})
        return form

    def save_model(self, request, obj, form, change):
        if getattr(form, "saved_by_service", False):
            for finding in form.findings:
                messages.warning(request, f"{finding.rule_id}：{finding.message}（{finding.article}）")
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if getattr(form, "saved_by_service", False):
            return
        super().save_related(request, form, formsets, change)


def _can_manage_any_branch(request) -> bool:
    roles = roles_of(request.user)
    return roles.is_superuser or bool(roles.committee_branch_ids)


def _managed_groups(user):
    return groups_visible_to(user).active().filter(branch__in=branches_managed_by(user))


def _managed_members(user):
    return (
        Member.objects.filter(branch__in=branches_managed_by(user), state=MemberState.ACTIVE)
        .select_related("branch")
        .order_by("branch__name", "name", "pk")
    )


# --- PartyGroup ----------------------------------------------------------------------------------
class PartyGroupCreateForm(ServiceForm):
    """R-05: a new group is the branch's decision (date, minute/document number), recorded for filing."""

    decided_on = forms.DateField(label=_("支部决定日期"))
    document_number = forms.CharField(label=_("会议记录/文件编号"), max_length=60)
    summary = forms.CharField(label=_("决定内容"), widget=forms.Textarea, required=False)

    class Meta:
        model = PartyGroup
        fields = ["branch", "name", "unit", "established_on"]

    def run_service(self, data):
        group, findings = services.group_create(
            branch=data["branch"],
            name=data["name"],
            unit=data.get("unit"),
            established_on=data["established_on"],
            decided_on=data["decided_on"],
            document_number=data["document_number"],
            summary=data.get("summary") or "",
            by=self.acting_user,
        )
        self.findings = tuple(findings)
        return group


class CurrentMembershipInline(admin.TabularInline):
    model = GroupMembership
    verbose_name = _("现有党员")
    verbose_name_plural = _("现有党员（编入、调整请通过党小组调整办理）")
    fields = ["member", "started_on", "note"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).current(timezone.localdate()).select_related("member")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartyGroup)
class PartyGroupAdmin(ScopedAdmin):
    list_display = ["name", "branch", "unit", "leader", "member_count", "established_on", "dissolved_on"]
    list_select_related = ["branch", "branch__organisation", "unit"]
    search_fields = ["name", "branch__name", "unit__name"]
    list_filter = [branch_filter("branch_id"), "dissolved_on", "established_on"]
    ordering = ["branch__name", "name"]
    inlines = [CurrentMembershipInline]
    readonly_fields = ["branch", "established_on", "dissolved_on", "leader"]
    fields = ["branch", "name", "unit", "established_on", "dissolved_on", "leader", "note"]

    def scoped_queryset(self, request):
        today = timezone.localdate()
        current = Q(memberships__started_on__lte=today) & (
            Q(memberships__ended_on__isnull=True) | Q(memberships__ended_on__gt=today)
        )
        return (
            groups_visible_to(request.user)
            .annotate(current_member_count=Count("memberships", filter=current))
            .prefetch_related(
                Prefetch(
                    "appointments",
                    queryset=LeaderAppointment.objects.current(today)
                    .filter(role=LeaderRole.LEADER)
                    .select_related("member"),
                    to_attr="current_leaders",
                )
            )
        )

    @admin.display(description=_("组长"))
    def leader(self, obj):
        leaders = getattr(obj, "current_leaders", None)
        if leaders is None:
            leaders = list(obj.appointments.current().filter(role=LeaderRole.LEADER).select_related("member"))
        return "、".join(a.member.name for a in leaders) or "—"

    @admin.display(description=_("现有党员数"), ordering="current_member_count")
    def member_count(self, obj):
        return getattr(obj, "current_member_count", None)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PartyGroupCreateForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["branch", "name", "unit", "established_on", "decided_on", "document_number", "summary"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _can_manage_any_branch(request)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.has_perm("groups.manage_group", obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "branch":
            kwargs["queryset"] = branches_managed_by(request.user)
        elif db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.filter(
                branch__in=branches_managed_by(request.user)
            ).select_related("branch")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- GroupMembership -----------------------------------------------------------------------------
class MembershipStartForm(ServiceForm):
    """R-09: a member in no group is placed into one; a member already in a group is refused."""

    class Meta:
        model = GroupMembership
        fields = ["member", "group", "started_on", "note"]

    def run_service(self, data):
        return services.membership_start(
            member=data["member"],
            group=data["group"],
            started_on=data["started_on"],
            note=data.get("note") or "",
            by=self.acting_user,
        )


@admin.register(GroupMembership)
class GroupMembershipAdmin(ScopedAdmin):
    form = MembershipStartForm
    list_display = ["member", "group", "branch", "started_on", "ended_on"]
    list_select_related = ["member", "group", "group__branch"]
    search_fields = ["member__name", "group__name"]
    list_filter = [branch_filter("group__branch_id"), CurrentFilter]
    ordering = ["group__branch__name", "group__name", "member__name", "-started_on"]

    def scoped_queryset(self, request):
        return memberships_visible_to(request.user)

    @admin.display(description=_("党支部"), ordering="group__branch__name")
    def branch(self, obj):
        return obj.group.branch

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _can_manage_any_branch(request)

    def has_change_permission(self, request, obj=None):
        return False  # moves and ends go through the services (R-06 keeps each member's group history)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = _managed_groups(request.user)
        elif db_field.name == "member":
            kwargs["queryset"] = _managed_members(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- GroupChange (R-05 filing workflow) ----------------------------------------------------------
@admin.register(GroupChange)
class GroupChangeAdmin(ScopedAdmin):
    list_display = [
        "decided_on",
        "branch",
        "kind",
        "group",
        "document_number",
        "filing_status",
        "filed_on",
        "acknowledged_on",
    ]
    list_select_related = ["branch", "branch__organisation", "group"]
    list_filter = ["filing_status", "kind", branch_filter("branch_id")]
    search_fields = ["summary", "document_number", "group__name", "branch__name"]
    ordering = ["-decided_on", "-id"]
    actions = ["file_changes", "acknowledge_changes"]

    def scoped_queryset(self, request):
        return group_changes_visible_to(request.user)

    def has_add_permission(self, request):
        return False  # recorded by the services that create, adjust and dissolve groups

    def has_change_permission(self, request, obj=None):
        return False  # the filing status moves only through the actions below

    def has_file_permission(self, request):
        return _can_manage_any_branch(request)

    def has_acknowledge_permission(self, request):
        roles = roles_of(request.user)
        return roles.is_superuser or roles.is_org_staff

    def _run(self, request, queryset, *, perm, refusal, call, done):
        count = 0
        for change in queryset:
            if not request.user.has_perm(perm, change):
                messages.error(request, f"“{change}”：{refusal}")
                continue
            try:
                call(change)
            except ValidationError as exc:
                messages.error(request, f"“{change}”：{'；'.join(exc.messages)}")
            else:
                count += 1
        if count:
            messages.success(request, done % {"count": count})

    @admin.action(description=_("报上级备案"), permissions=["file"])
    def file_changes(self, request, queryset):
        today = timezone.localdate()
        self._run(
            request,
            queryset,
            perm="groups.file_group_change",
            refusal=gettext("只有本支部支委会成员才能报上级备案（R-05）。"),
            call=lambda change: services.group_change_file(change=change, filed_on=today, by=request.user),
            done=gettext("已报上级备案 %(count)d 项（R-05）。"),
        )

    @admin.action(description=_("上级已备案"), permissions=["acknowledge"])
    def acknowledge_changes(self, request, queryset):
        today = timezone.localdate()
        self._run(
            request,
            queryset,
            perm="groups.acknowledge_group_change",
            refusal=gettext("只有上级党组织的工作人员才能确认备案（R-05）。"),
            call=lambda change: services.group_change_acknowledge(change=change, on=today, by=request.user),
            done=gettext("已确认备案 %(count)d 项（R-05）。"),
        )


# --- LeaderAppointment (R-24 … R-26) -------------------------------------------------------------
class LeaderAppointForm(ServiceForm):
    """R-24 full members only, R-25 the branch attests each condition, R-26 mode and term."""

    class Meta:
        model = LeaderAppointment
        fields = [
            "group",
            "member",
            "role",
            "mode",
            "started_on",
            "term_ends_on",
            "decision_number",
            "attests_political_quality",
            "attests_dedication",
            "attests_organising_ability",
            "attestation_note",
        ]

    def run_service(self, data):
        return services.leader_appoint(
            group=data["group"],
            member=data["member"],
            role=data["role"],
            mode=data["mode"],
            started_on=data["started_on"],
            term_ends_on=data.get("term_ends_on"),
            decision_number=data.get("decision_number") or "",
            attests_political_quality=data["attests_political_quality"],
            attests_dedication=data["attests_dedication"],
            attests_organising_ability=data["attests_organising_ability"],
            attestation_note=data.get("attestation_note") or "",
            by=self.acting_user,
        )


class LeaderEndForm(ServiceForm):
    """Ending an appointment (离任) records the date and the reason."""

    class Meta:
        model = LeaderAppointment
        fields = ["ended_on", "end_reason"]

    def run_service(self, data):
        if not data.get("ended_on"):
            if data.get("end_reason"):
                raise ValidationError({"ended_on": gettext("填写离任原因时须填写离任日期。")})
            return None  # nothing to record
        return services.leader_end(
            appointment=self.instance,
            ended_on=data["ended_on"],
            reason=data.get("end_reason") or "",
            by=self.acting_user,
        )


@admin.register(LeaderAppointment)
class LeaderAppointmentAdmin(ScopedAdmin):
    list_display = ["group", "member", "role", "mode", "started_on", "ended_on", "term_ends_on", "attested"]
    list_select_related = ["group", "group__branch", "member"]
    search_fields = ["member__name", "group__name", "decision_number"]
    list_filter = [branch_filter("group__branch_id"), "role", "mode", CurrentFilter]
    ordering = ["group__branch__name", "group__name", "role", "-started_on"]

    def scoped_queryset(self, request):
        return appointments_visible_to(request.user)

    @admin.display(description=_("已确认组长条件（R-25）"), boolean=True)
    def attested(self, obj):
        return obj.is_fully_attested

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = LeaderAppointForm if obj is None else LeaderEndForm
        kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return LeaderAppointForm._meta.fields
        return [f.name for f in LeaderAppointment._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = {"ended_on", "end_reason"} if obj.ended_on is None else set()
        return [f.name for f in LeaderAppointment._meta.fields if f.name not in editable and f.name != "id"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _can_manage_any_branch(request)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.has_perm("groups.appoint_leader", obj.group))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = _managed_groups(request.user)
        elif db_field.name == "member":
            kwargs["queryset"] = _managed_members(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- Leader reviews, interviews and training; cultivation (R-22) --------------------------
# Written by the services (hard rules refuse the form, nothing saved), then shown read-only.
class GroupWorkAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return super().has_add_permission(request) and _can_manage_any_branch(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = _managed_groups(request.user)
        elif db_field.name == "member":
            kwargs["queryset"] = _managed_members(request.user)
        elif db_field.name == "appointment":
            kwargs["queryset"] = (
                LeaderAppointment.objects.filter(group__branch__in=branches_managed_by(request.user))
                .select_related("group", "member")
                .order_by("group__name", "-started_on")
            )
        elif db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.filter(branch__in=branches_managed_by(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "contacts":
            kwargs["queryset"] = _managed_members(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class LeaderReviewForm(ServiceForm):
    """R-28: the yearly grade of the leader or deputy of the chosen appointment."""

    class Meta:
        model = LeaderReview
        fields = ["appointment", "year", "grade", "reviewed_on", "notes"]

    def run_service(self, data):
        appointment = data["appointment"]
        review, findings = services.leader_review_record(
            group=appointment.group,
            member=appointment.member,
            year=data["year"],
            grade=data["grade"],
            reviewed_on=data["reviewed_on"],
            notes=data.get("notes") or "",
            by=self.acting_user,
        )
        self.findings = tuple(findings)
        return review


@admin.register(LeaderReview)
class LeaderReviewAdmin(GroupWorkAdmin):
    scope_selector = staticmethod(leader_reviews_visible_to)
    add_form = LeaderReviewForm
    list_display = ["appointment", "year", "grade", "reviewed_on", "reviewed_by"]
    list_select_related = ["appointment__group", "appointment__member", "reviewed_by"]
    list_filter = ["year", "grade"]
    search_fields = ["appointment__member__name", "appointment__group__name"]


class LeaderInterviewForm(ServiceForm):
    class Meta:
        model = LeaderInterview
        fields = ["group", "member", "interviewed_on", "interviewer", "content"]

    def run_service(self, data):
        return services.leader_interview_record(
            group=data["group"],
            member=data["member"],
            interviewed_on=data["interviewed_on"],
            interviewer=data["interviewer"],
            content=data["content"],
            by=self.acting_user,
        )


@admin.register(LeaderInterview)
class LeaderInterviewAdmin(GroupWorkAdmin):
    scope_selector = staticmethod(leader_interviews_visible_to)
    add_form = LeaderInterviewForm
    list_display = ["interviewed_on", "group", "member", "interviewer"]
    list_select_related = ["group", "member"]
    search_fields = ["member__name", "group__name", "interviewer"]
    date_hierarchy = "interviewed_on"


class LeaderTrainingForm(ServiceForm):
    class Meta:
        model = LeaderTraining
        fields = ["member", "trained_on", "title", "hours", "organiser"]

    def run_service(self, data):
        return services.leader_training_record(
            member=data["member"],
            trained_on=data["trained_on"],
            title=data["title"],
            hours=data["hours"],
            organiser=data["organiser"],
            by=self.acting_user,
        )


@admin.register(LeaderTraining)
class LeaderTrainingAdmin(GroupWorkAdmin):
    scope_selector = staticmethod(leader_trainings_visible_to)
    add_form = LeaderTrainingForm
    list_display = ["trained_on", "member", "title", "hours", "organiser"]
    list_select_related = ["member"]
    search_fields = ["member__name", "title", "organiser"]
    date_hierarchy = "trained_on"


class CandidateCreateForm(ServiceForm):
    """R-22: a new applicant (入党申请人); later stages are recorded by ``candidate_advance_stage``."""

    applied_on = forms.DateField(label=_("递交入党申请日期"))
    decided_by_note = forms.CharField(label=_("确定依据"), max_length=200, required=False)

    class Meta:
        model = CultivationCandidate
        fields = ["group", "name", "gender", "birth_date", "unit", "contacts", "note"]

    def run_service(self, data):
        return services.candidate_create(
            group=data["group"],
            name=data["name"],
            gender=data["gender"],
            birth_date=data["birth_date"],
            applied_on=data["applied_on"],
            unit=data.get("unit"),
            contacts=list(data.get("contacts") or []),
            note=data.get("note") or "",
            decided_by_note=data.get("decided_by_note") or "",
            by=self.acting_user,
        )


class CultivationStageInline(admin.TabularInline):
    model = CultivationStage
    fields = ["stage", "started_on", "decided_by_note", "recorded_by", "recorded_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CultivationCandidate)
class CultivationCandidateAdmin(GroupWorkAdmin):
    scope_selector = staticmethod(candidates_visible_to)
    add_form = CandidateCreateForm
    list_display = ["name", "group", "branch", "stage", "stage_started_on", "member"]
    list_select_related = ["group", "branch", "member"]
    list_filter = ["stage", branch_filter("branch_id")]
    search_fields = ["name", "group__name"]
    inlines = [CultivationStageInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

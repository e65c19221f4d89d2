"""Admin screens of the members app, scoped to the user (partygroup.admin.ScopedAdminMixin).

Every changelist lists only what ``members.selectors`` lets the user see (org staff: their subtree;
branch committee: their branches); an object outside the scope is "not found". ID numbers and
phone numbers are masked in lists, in the history and on the change page unless the user may
reveal them (``can_reveal_personal_data``); a change page that shows them in full is logged.
Members are imported and exported through ``members.importing`` / ``members.resources``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from members.enums import PersonalField
from members.forms import MemberConfirmImportForm, MemberExportForm, MemberImportForm
from members.importing import ImportFileError
from members.models import (
    Branch,
    CommitteeMembership,
    DuesPayment,
    Member,
    MemberPost,
    Organisation,
    OrganisationStaff,
    PersonalDataReveal,
    PointsRating,
    RuleSet,
    ThoughtReport,
    Unit,
    mask_id_number,
    mask_phone,
)
from members.resources import MemberCSV, MemberResource, MemberXLSX, export_members
from members.selectors import (
    branches_managed_by,
    branches_visible_to,
    can_reveal_personal_data,
    dues_payments_visible_to_staff,
    member_posts_visible_to_staff,
    member_roles,
    members_visible_to_staff,
    organisations_visible_to,
    points_ratings_visible_to_staff,
    thought_reports_visible_to_staff,
)
from members.services import (
    dues_record,
    member_post_record,
    member_save,
    personal_data_reveal_log,
    points_rating_record,
    thought_report_record,
)
from partygroup.admin import ScopedAdminMixin, ServiceAdminMixin, ServiceForm
from partygroup.http import client_ip

ADMIN_REVEAL_CONTEXT = "管理后台"


@admin.register(RuleSet)
class RuleSetAdmin(SimpleHistoryAdmin):
    """R-37: rule sets are configuration shared by organisations (model permissions only)."""

    list_display = ("name", "code", "effective_date", "split_threshold", "min_group_members")
    search_fields = ("name", "code", "document_title")
    ordering = ("effective_date", "code")


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, SimpleHistoryAdmin, TreeAdmin):
    form = movenodeform_factory(Organisation)
    scope_selector = staticmethod(organisations_visible_to)
    list_display = ("name", "kind", "rule_set")
    list_select_related = ("rule_set",)
    search_fields = ("name",)


@admin.register(Branch)
class BranchAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    scope_selector = staticmethod(branches_visible_to)
    view_rule = "members.view_branch_dashboard"
    change_rule = "members.manage_branch"
    list_display = ("name", "organisation", "established_on", "committee_term_ends_on")
    list_select_related = ("organisation",)
    search_fields = ("name",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = organisations_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BranchScopedAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Rows that belong to a branch (``obj.branch``): visible with the branch, managed by its committee."""

    scope_selector = staticmethod(branches_visible_to)
    scope_lookup = "branch"
    view_rule = "members.view_branch_dashboard"
    change_rule = "members.manage_branch"

    def rule_target(self, obj):
        return obj.branch

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "branch":
            kwargs["queryset"] = branches_managed_by(request.user)
        elif db_field.name == "member":
            kwargs["queryset"] = members_visible_to_staff(request.user).filter(
                branch__in=branches_managed_by(request.user)
            )
        elif db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.filter(branch__in=branches_managed_by(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Unit)
class UnitAdmin(BranchScopedAdmin):
    list_display = ("name", "branch")
    list_select_related = ("branch",)
    list_filter = (("branch", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name",)


@admin.register(CommitteeMembership)
class CommitteeMembershipAdmin(BranchScopedAdmin):
    list_display = ("branch", "post", "member", "started_on", "ended_on")
    list_select_related = ("branch", "member")
    list_filter = ("post", ("branch", admin.RelatedOnlyFieldListFilter))
    search_fields = ("member__name",)


@admin.register(OrganisationStaff)
class OrganisationStaffAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    scope_selector = staticmethod(organisations_visible_to)
    scope_lookup = "organisation"
    list_display = ("organisation", "user", "can_view_personal_data")
    list_select_related = ("organisation", "user")
    raw_id_fields = ("user",)
    search_fields = ("organisation__name", "user__username")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = organisations_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(PersonalDataReveal)
class PersonalDataRevealAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The log of reveals: read-only for everyone."""

    scope_selector = staticmethod(members_visible_to_staff)
    scope_lookup = "member"
    list_display = ("revealed_at", "user", "member", "field", "context", "ip_address")
    list_select_related = ("user", "member")
    list_filter = ("field", "context")
    search_fields = ("member__name", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberHistoryHelper(HistoricalRecordContextHelper):
    """The history page shows ID numbers and phones masked unless the user may reveal them."""

    def __init__(self, model, historical_record, *, reveal: bool):
        super().__init__(model, historical_record)
        self.reveal = reveal

    def prepare_delta_change_value(self, change, value):
        if not self.reveal and change.field == "id_number":
            return mask_id_number(value)
        if not self.reveal and change.field == "phone":
            return mask_phone(value)
        return super().prepare_delta_change_value(change, value)


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, ImportExportMixin, SimpleHistoryAdmin):
    show_full_result_count = False  # one COUNT(*) instead of two on large branches
    scope_selector = staticmethod(members_visible_to_staff)
    view_rule = "members.view_branch_dashboard"
    change_rule = "members.manage_branch"

    list_display = (
        "name",
        "gender",
        "masked_id_number_display",
        "masked_phone_display",
        "status",
        "state",
        "branch",
        "unit",
    )
    list_filter = ("status", "state", ("branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("branch", "unit")
    search_fields = ("name", "=id_number")
    search_help_text = _("按姓名或完整身份证号搜索")
    raw_id_fields = ("user",)

    # Import / export (docs/import.md)
    resource_classes = [MemberResource]
    import_formats = [MemberXLSX, MemberCSV]
    export_formats = [MemberXLSX, MemberCSV]
    import_form_class = MemberImportForm
    confirm_form_class = MemberConfirmImportForm
    export_form_class = MemberExportForm
    import_template_name = "admin/members/member/import.html"

    def rule_target(self, obj):
        return obj.branch

    # --- masking ------------------------------------------------------------------------------------
    @admin.display(description=_("身份证号"))
    def masked_id_number_display(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("手机号码"))
    def masked_phone_display(self, obj):
        return obj.masked_phone

    def may_reveal(self, request, obj) -> bool:
        """A new member's data is typed by the user; an existing member's only if they may reveal it."""
        return obj is None or can_reveal_personal_data(request.user, obj)

    def get_fieldsets(self, request, obj=None):
        personal = (
            ("id_number", "phone")
            if self.may_reveal(request, obj)
            else ("masked_id_number_display", "masked_phone_display")
        )
        fieldsets = [
            (
                None,
                {"fields": ("branch", "name", "gender", "birth_date", "unit", "post", "is_leading_cadre")},
            ),
            (_("党籍"), {"fields": ("status", "joined_on", "full_member_on", "state", "left_on")}),
            (_("个人信息"), {"fields": (*personal, "email", "user")}),
        ]
        if obj is not None:
            fieldsets.append((_("记录"), {"fields": ("created_at", "updated_at")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = ["created_at", "updated_at"]
        if not self.may_reveal(request, obj):
            readonly += ["masked_id_number_display", "masked_phone_display"]
        return readonly

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and request.method == "GET" and self.may_reveal(request, obj):
            personal_data_reveal_log(
                user=request.user,
                members=[obj],
                context=ADMIN_REVEAL_CONTEXT,
                fields=(PersonalField.ID_NUMBER, PersonalField.PHONE),
                ip_address=client_ip(request),
            )
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def get_historical_record_context_helper(self, request, historical_record):
        # One decision per member and request (the history page lists up to 100 records).
        cache = request.__dict__.setdefault("_member_reveal", {})
        member_id = historical_record.id
        if member_id not in cache:
            member = Member.objects.select_related("branch__organisation").filter(pk=member_id).first()
            cache[member_id] = member is not None and can_reveal_personal_data(request.user, member)
        return MemberHistoryHelper(self.model, historical_record, reveal=cache[member_id])

    # --- choices and saving -------------------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "branch":
            kwargs["queryset"] = branches_managed_by(request.user)
        elif db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.filter(branch__in=branches_managed_by(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        member_save(member=obj, by=request.user, reason=_("管理后台修改") if change else _("管理后台新增"))

    # --- import -------------------------------------------------------------------------------------
    def has_import_permission(self, request):
        roles = member_roles(request.user)
        return super().has_import_permission(request) and (roles.is_superuser or bool(roles.committee_posts))

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        context["upload_max_rows"] = settings.UPLOAD_MAX_ROWS
        context["upload_max_mb"] = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        return context

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        kwargs["branches"] = branches_managed_by(request.user).select_related("organisation")
        return kwargs

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        kwargs["branches"] = branches_managed_by(request.user).select_related("organisation")
        return kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["branch"] = import_form.cleaned_data["branch"].pk
        return initial

    def get_import_data_kwargs(self, **kwargs):
        form = kwargs.get("form")
        kwargs = super().get_import_data_kwargs(**kwargs)
        if form is not None and hasattr(form, "cleaned_data") and "branch" in form.cleaned_data:
            kwargs["branch"] = form.cleaned_data["branch"]
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", e.message)
        else:
            form.add_error(
                "import_file", _("无法读取该文件，请确认格式为 .xlsx 或 .csv，且选择的格式与文件一致。")
            )

    def process_result(self, result, request):
        report = getattr(result, "report", None)
        if report is None or not report.written:
            lines = report.error_lines()[:5] if report is not None else [result.file_error]
            messages.error(request, _("未导入任何数据。") + "；".join(lines))
            return HttpResponseRedirect(reverse("admin:members_member_import"))
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        messages.success(request, result.report.summary())

    # --- export -------------------------------------------------------------------------------------
    def get_export_data(self, file_format, request, queryset, **kwargs):
        if not self.has_export_permission(request):
            raise PermissionDenied
        form = kwargs.get("export_form")
        reveal = bool(form is not None and form.is_valid() and form.cleaned_data.get("reveal"))
        return export_members(
            queryset,
            request.user,
            file_format.get_extension(),
            reveal=reveal,
            ip_address=client_ip(request),
        )

    def get_export_filename(self, request, queryset, file_format):
        return f"members-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"


# --- Members' duties (R-30 … R-33): written by members.services, shown read-only ---------------------
class DutyAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Ledgers of a member's duties: rows of the members the user manages or reads
    (``members_visible_to_staff``); added by the branch committee through the services; never changed,
    deleted or reverted here (the history is the record)."""

    list_select_related = ("member", "member__branch")
    search_fields = ("member__name",)

    def has_add_permission(self, request):
        roles = member_roles(request.user)
        return super().has_add_permission(request) and (
            roles.is_superuser or bool(roles.committee_branch_ids)
        )

    @admin.display(description=_("党支部"), ordering="member__branch__name")
    def branch(self, obj):
        return obj.member.branch

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "member":
            kwargs["queryset"] = Member.objects.filter(
                branch__in=branches_managed_by(request.user)
            ).select_related("branch")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DuesPaymentForm(ServiceForm):
    class Meta:
        model = DuesPayment
        fields = ["member", "month", "amount_due", "amount_paid", "paid_on", "is_lump_sum", "note"]

    def run_service(self, data):
        return dues_record(
            member=data["member"],
            month=data["month"],
            amount_due=data["amount_due"],
            amount_paid=data["amount_paid"],
            paid_on=data["paid_on"],
            is_lump_sum=data.get("is_lump_sum", False),
            note=data.get("note") or "",
            by=self.acting_user,
        )


@admin.register(DuesPayment)
class DuesPaymentAdmin(DutyAdmin):
    scope_selector = staticmethod(dues_payments_visible_to_staff)
    add_form = DuesPaymentForm
    list_display = (
        "member",
        "branch",
        "month",
        "amount_due",
        "amount_paid",
        "paid_on",
        "collected_by",
        "is_lump_sum",
    )
    list_select_related = ("member", "member__branch", "collected_by")
    list_filter = ("is_lump_sum",)
    date_hierarchy = "month"


class ThoughtReportForm(ServiceForm):
    class Meta:
        model = ThoughtReport
        fields = ["member", "received_on", "kind", "period_start", "period_end", "summary"]

    def run_service(self, data):
        return thought_report_record(
            member=data["member"],
            received_on=data["received_on"],
            kind=data["kind"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            summary=data["summary"],
            by=self.acting_user,
        )


@admin.register(ThoughtReport)
class ThoughtReportAdmin(DutyAdmin):
    scope_selector = staticmethod(thought_reports_visible_to_staff)
    add_form = ThoughtReportForm
    list_display = ("member", "branch", "received_on", "kind", "period_start", "period_end", "received_by")
    list_select_related = ("member", "member__branch", "received_by")
    list_filter = ("kind",)
    date_hierarchy = "received_on"


class MemberPostForm(ServiceForm):
    class Meta:
        model = MemberPost
        fields = ["member", "year", "title", "commitment", "publicised_on"]

    def run_service(self, data):
        return member_post_record(
            member=data["member"],
            year=data["year"],
            title=data["title"],
            commitment=data["commitment"],
            publicised_on=data.get("publicised_on"),
            by=self.acting_user,
        )


@admin.register(MemberPost)
class MemberPostAdmin(DutyAdmin):
    scope_selector = staticmethod(member_posts_visible_to_staff)
    add_form = MemberPostForm
    list_display = ("member", "branch", "year", "title", "publicised_on")
    list_filter = ("year",)
    search_fields = ("member__name", "title")


class PointsRatingForm(ServiceForm):
    class Meta:
        model = PointsRating
        fields = ["member", "year", "points", "grade", "note"]

    def run_service(self, data):
        return points_rating_record(
            member=data["member"],
            year=data["year"],
            points=data["points"],
            grade=data["grade"],
            note=data.get("note") or "",
            by=self.acting_user,
        )


@admin.register(PointsRating)
class PointsRatingAdmin(DutyAdmin):
    scope_selector = staticmethod(points_ratings_visible_to_staff)
    add_form = PointsRatingForm
    list_display = ("member", "branch", "year", "points", "grade")
    list_filter = ("year", "grade")

"""Admin of the meetings app: scoped by ``meetings.selectors``, read-only where the record is a record.

- Every changelist and object page starts from the user's selector (``meetings_visible_to``,
  ``talks_visible_to``, ``groups_visible_to``) through ``partygroup.admin.ScopedAdminMixin``: a
  meeting of another branch is simply not found.
- The workflow (R-11, R-13), the minutes (R-14…R-16), talks (R-20) and annual plans (R-17) are written
  by ``meetings.services`` only, so the admin never edits their rows directly: a draft or returned
  request can be corrected here (through ``services.meeting_update_request``, so the same checks
  apply); attendance, agenda items, decided matters, transitions and notices are shown read-only.
- An ARCHIVED meeting and everything attached to it is read-only for everyone, superusers included
  (R-12): no change, no delete, no history revert. Corrections are addenda (``services.addendum_add``).
- The annual work reports (R-34) and their workflow steps are written by ``meetings.annual_report``
  only (drafted, submitted, returned, archived on the report pages): shown here read-only, scoped by
  ``annual_reports_visible_to``.
- Only a draft meeting may be deleted (one that never reached the branch); the bulk delete action is
  removed so a changelist selection can never delete an archived record.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from groups.selectors import groups_visible_to
from meetings import services
from meetings.annual_report import annual_reports_visible_to
from meetings.enums import EDITABLE_REQUEST_STATES, MeetingState
from meetings.models import (
    ActionItem,
    AgendaItem,
    AnnualPlan,
    AnnualPlanItem,
    AnnualReport,
    AnnualReportTransition,
    Attendance,
    CultivationOpinion,
    Meeting,
    MeetingAddendum,
    MeetingNotice,
    MeetingTransition,
    NoticeRecipient,
    Talk,
)
from meetings.selectors import cultivation_opinions_visible_to, meetings_visible_to, talks_visible_to
from partygroup.admin import NoRevertMixin, ReadOnlyAdminMixin, ReadOnlyInline, ScopedAdminMixin


class AttendanceInline(ReadOnlyInline):
    model = Attendance
    fields = ["member", "person_name", "person_title", "role", "absence_reason"]


class AgendaItemInline(ReadOnlyInline):
    model = AgendaItem
    fields = ["number", "title", "category", "record"]


class ActionItemInline(ReadOnlyInline):
    model = ActionItem
    fields = ["description", "owner", "due_on", "status", "completed_on", "is_rectification"]


class TransitionInline(ReadOnlyInline):
    model = MeetingTransition
    fields = ["action", "from_state", "to_state", "by", "at", "comment"]


class AddendumInline(ReadOnlyInline):
    model = MeetingAddendum
    fields = ["number", "text", "reason", "created_by", "created_at"]


class MeetingRequestForm(forms.ModelForm):
    """Saved by ``services.meeting_update_request`` (only a draft or returned request; R-11 checks)."""

    acting_user = None
    saved_by_service = False

    class Meta:
        model = Meeting
        fields = list(services.REQUEST_FIELDS)

    def _post_clean(self) -> None:
        if self.errors:
            return
        changes = {name: self.cleaned_data[name] for name in self.changed_data if name in self.fields}
        if not changes:
            self.saved_by_service = True
            return
        try:
            self.instance = services.meeting_update_request(
                meeting=self.instance, by=self.acting_user, **changes
            )
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, exc)
        else:
            self.saved_by_service = True


@admin.register(Meeting)
class MeetingAdmin(NoRevertMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope_selector = staticmethod(meetings_visible_to)
    change_rule = "meetings.edit_meeting"
    form = MeetingRequestForm
    list_display = [
        "title",
        "group",
        "branch_name",
        "kind",
        "state",
        "planned_date",
        "held_on",
        "archive_number",
    ]
    list_filter = ["kind", "state"]
    list_select_related = ["group", "group__branch"]
    search_fields = ["title", "archive_number", "group__name"]
    date_hierarchy = "planned_date"
    workflow_fields = (
        "group",
        "state",
        "held_on",
        "archive_number",
        "archived_at",
        "created_by",
        "created_at",
    )
    inlines = [AttendanceInline, AgendaItemInline, ActionItemInline, TransitionInline, AddendumInline]

    @admin.display(description=_("党支部"), ordering="group__branch__name")
    def branch_name(self, obj):
        return obj.group.branch.name

    def get_fields(self, request, obj=None):
        return [*services.REQUEST_FIELDS, *self.workflow_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state in EDITABLE_REQUEST_STATES:
            return list(self.workflow_fields)
        return [*services.REQUEST_FIELDS, *self.workflow_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False  # meetings start in the app, by the group's leader (services.meeting_create)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.state == MeetingState.ARCHIVED:
            return False  # for superusers too
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state != MeetingState.DRAFT:
            return False  # only a draft that never reached the branch; never an archived record
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not getattr(form, "saved_by_service", False):  # pragma: no cover - the form always saves
            raise PermissionDenied


@admin.register(Talk)
class TalkAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope_selector = staticmethod(talks_visible_to)
    list_display = ["talked_on", "group", "initiator", "partner", "topic"]
    list_select_related = ["group", "initiator", "partner"]
    search_fields = ["topic", "initiator__name", "partner__name", "group__name"]
    date_hierarchy = "talked_on"


class AnnualPlanItemInline(ReadOnlyInline):
    model = AnnualPlanItem
    fields = ["month", "kind", "topic", "category"]


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    scope_selector = staticmethod(groups_visible_to)
    scope_lookup = "group"
    list_display = ["group", "year", "meetings_per_year", "created_by", "created_at"]
    list_select_related = ["group", "created_by"]
    list_filter = ["year"]
    inlines = [AnnualPlanItemInline]


@admin.register(MeetingTransition)
class MeetingTransitionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = staticmethod(meetings_visible_to)
    scope_lookup = "meeting"
    list_display = ["meeting", "action", "from_state", "to_state", "by", "at", "comment"]
    list_select_related = ["meeting", "meeting__group", "by"]
    list_filter = ["action"]


class NoticeRecipientInline(ReadOnlyInline):
    model = NoticeRecipient
    fields = ["member", "email", "status", "error"]


@admin.register(MeetingNotice)
class MeetingNoticeAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = staticmethod(meetings_visible_to)
    scope_lookup = "meeting"
    list_display = ["subject", "meeting", "sent_by", "sent_at"]
    list_select_related = ["meeting", "meeting__group", "sent_by"]
    inlines = [NoticeRecipientInline]


@admin.register(CultivationOpinion)
class CultivationOpinionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """R-22: the group's opinions on the people it cultivates — recorded by the group's leader
    (``services.cultivation_opinion_record``), shown here read-only."""

    scope_selector = staticmethod(cultivation_opinions_visible_to)
    list_display = ["candidate", "meeting", "proposed_stage", "recommendation", "recorded_by", "created_at"]
    list_select_related = ["candidate", "meeting", "meeting__group", "recorded_by"]
    list_filter = ["recommendation", "proposed_stage"]
    search_fields = ["candidate__name", "meeting__title"]


# --- The annual work report (R-34) ------------------------------------------------------------------
class AnnualReportTransitionInline(ReadOnlyInline):
    model = AnnualReportTransition
    fields = ["action", "from_state", "to_state", "by", "at", "comment"]
    select_related = ("by",)


@admin.register(AnnualReport)
class AnnualReportAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """R-34: the groups' annual work reports, read-only (the leader drafts and submits, the branch
    returns or archives them on the report pages through ``meetings.annual_report``)."""

    scope_selector = staticmethod(annual_reports_visible_to)
    list_display = [
        "group",
        "branch_name",
        "year",
        "state",
        "archive_number",
        "snapshot_at",
        "created_by",
        "updated_at",
    ]
    list_filter = ["year", "state"]
    list_select_related = ["group", "group__branch", "created_by"]
    search_fields = ["group__name", "archive_number"]
    fields = [
        "group",
        "year",
        "state",
        "basic_situation",
        "main_work",
        "problems",
        "next_year_plans",
        "snapshot_at",
        "archive_number",
        "archived_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [AnnualReportTransitionInline]

    @admin.display(description=_("党支部"), ordering="group__branch__name")
    def branch_name(self, obj):
        return obj.group.branch.name


@admin.register(AnnualReportTransition)
class AnnualReportTransitionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_selector = staticmethod(annual_reports_visible_to)
    scope_lookup = "report"
    list_display = ["report", "action", "from_state", "to_state", "by", "at", "comment"]
    list_select_related = ["report", "report__group", "by"]
    list_filter = ["action", "report__year", "to_state"]
    search_fields = ["report__group__name"]

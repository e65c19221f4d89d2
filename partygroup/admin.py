"""Admin scoping shared by every app: changelists through a selector, objects through rules.

django-rules does not filter changelists (FACTS.md: its predicates see ``obj=None`` there), so an
admin that lists branch data must scope ``get_queryset`` itself. ``ScopedAdminMixin`` does both
halves in one place:

- ``get_queryset`` keeps only rows the user's selector returns (``scope_selector``, optionally
  through ``scope_lookup``, the path from this model to the selector's model). An object outside
  the scope is simply not found: Django's admin then redirects to the admin index with
  “ID 为“…”的 … 不存在。” (and the history pages answer 403/404).
- object permissions: ``view_rule`` / ``change_rule`` / ``delete_rule`` name django-rules
  permissions checked against ``rule_target(obj)`` (e.g. the object's branch), on top of the
  Django model permission the user needs anyway. Without a rule, an object is allowed when it is
  inside the scope.

Usage::

    class UnitAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
        scope_selector = staticmethod(branches_visible_to)
        scope_lookup = "branch"
        change_rule = "members.manage_branch"

        def rule_target(self, obj):
            return obj.branch

Records written only by services or background tasks are shown read-only: ``ReadOnlyAdminMixin``
(no add, change, delete or history revert; ``NoRevertMixin`` alone where a model admin allows some
edits) and ``ReadOnlyInline`` for their children. This module also registers the project app's own
model, the year-end export job (``ExportJobAdmin``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet

from partygroup.dashboard.permissions import is_org_staff_or_superuser
from partygroup.models import ExportJob, ExportPart
from partygroup.yearend.selectors import export_jobs_visible_to


class ScopedAdminMixin:
    #: ``selector(user) -> QuerySet`` of what the user may see (None: no scoping).
    scope_selector: Callable[[Any], QuerySet] | None = None
    #: Lookup from this model to the selector's model ("" when the selector returns this model).
    scope_lookup: str = ""
    #: django-rules permission names, checked with ``rule_target(obj)``.
    view_rule: str | None = None
    change_rule: str | None = None
    delete_rule: str | None = None  # defaults to ``change_rule``

    def rule_target(self, obj):
        return obj

    # --- rows ---------------------------------------------------------------------------------------
    def scope_queryset(self, request, queryset: QuerySet) -> QuerySet:
        selector = type(self).scope_selector
        if selector is None or request.user.is_superuser:
            return queryset  # superusers see everything: no IN (SELECT …) to plan
        visible = selector(request.user).order_by().values("pk")
        if self.scope_lookup:
            return queryset.filter(**{f"{self.scope_lookup}__in": visible})
        return queryset.filter(pk__in=visible)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    # --- objects ------------------------------------------------------------------------------------
    def _object_allowed(self, request, rule: str | None, obj) -> bool:
        if obj is None:
            return True
        if rule:
            return request.user.has_perm(rule, self.rule_target(obj))
        return self.scope_queryset(request, self.model._default_manager.filter(pk=obj.pk)).exists()

    def has_view_permission(self, request, obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            return True
        return super().has_view_permission(request, obj) and self._object_allowed(
            request, self.view_rule, obj
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._object_allowed(
            request, self.change_rule, obj
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._object_allowed(
            request, self.delete_rule or self.change_rule, obj
        )


class NoRevertMixin:
    """History pages are shown but never revert: a revert would bypass the services (and a workflow's
    rules, e.g. R-12 for an archived record)."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class NoWritesMixin:
    """No add, change or delete (a model admin's or an inline's)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdminMixin(NoWritesMixin, NoRevertMixin):
    """A (scoped) admin that only shows: no add, change, delete or revert. Put it before
    ``ScopedAdminMixin`` in the bases."""


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    """Children written by the services: shown, never added, changed or deleted here.
    ``select_related``: the foreign keys the rows show (one query for the inline, not one a row)."""

    extra = 0
    can_delete = False
    show_change_link = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [f.name for f in self.model._meta.fields]


class ServiceForm(forms.ModelForm):
    """A ModelForm saved by a service instead of ``Model.save()``.

    The service runs where Django would validate the model instance (``_post_clean``, the same hook
    ``UserCreationForm`` uses): it validates, applies the hard rules and saves in one transaction, so a
    refusal becomes a form error and nothing is saved. ``acting_user`` is set by the admin per request;
    ``findings`` (advisories the service returned) are shown as warnings by ``ServiceAdminMixin``.
    """

    acting_user = None
    saved_by_service = False
    findings: tuple = ()

    def run_service(self, data: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            result = self.run_service(self.cleaned_data)
        except ValidationError as exc:
            self._add_refusal(exc)
            return
        if result is not None:
            self.instance = result
        self.saved_by_service = True

    def _add_refusal(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class ServiceAdminMixin(NoRevertMixin):
    """An admin of records written only by services (ledgers, reviews, cultivation records):

    - adding goes through the model admin's ``ServiceForm`` (``add_form``), so the same checks refuse
      the form and nothing is saved; the service's advisories are shown as warnings;
    - a saved record is shown read-only: no change, no delete, no history revert (a revert would
      bypass the services). Put it before ``ScopedAdminMixin`` in the bases.
    """

    add_form: type[ServiceForm] | None = None

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None and self.add_form is not None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = None
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ServiceForm):
            form = type(form.__name__, (form,), {"acting_user": request.user})
        return form

    def get_fields(self, request, obj=None):
        if obj is None and self.add_form is not None:
            return [*self.add_form._meta.fields, *self.add_form.declared_fields]
        return super().get_fields(request, obj)

    def has_add_permission(self, request):
        return self.add_form is not None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not getattr(form, "saved_by_service", False):
            raise PermissionDenied  # only the service writes these records
        for finding in form.findings:
            messages.warning(request, f"{finding.rule_id}：{finding.message}（{finding.article}）")

    def save_related(self, request, form, formsets, change):
        if getattr(form, "saved_by_service", False):
            return
        super().save_related(request, form, formsets, change)


# --- The year-end export (partygroup.yearend) -------------------------------------------------------------
class ExportPartInline(ReadOnlyInline):
    model = ExportPart
    fields = ["index", "kind", "state", "done_count", "attempt", "runs", "started_at", "finished_at", "error"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The organisation-wide exports, read-only: a job is started, resumed and downloaded on its own
    pages (``partygroup.yearend``) and built by background tasks. Only superusers and organisation
    staff see them, each job only when ``export_jobs_visible_to`` shows it (every one of its
    branches in the staff member's subtree)."""

    scope_selector = staticmethod(export_jobs_visible_to)
    list_display = [
        "__str__",
        "organisation",
        "year",
        "as_of",
        "state",
        "branch_count",
        "group_count",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["year", "state"]
    list_select_related = ["organisation", "requested_by"]
    search_fields = ["organisation__name"]
    fields = [
        "organisation",
        "year",
        "as_of",
        "all_branches",
        "branches",
        "state",
        "branch_count",
        "group_count",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "workbook_size",
        "bundle_size",
        "resume_count",
        "error",
    ]
    inlines = [ExportPartInline]

    def has_view_permission(self, request, obj=None):
        return is_org_staff_or_superuser(request.user) and super().has_view_permission(request, obj)

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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet


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
        if selector is None:
            return queryset
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

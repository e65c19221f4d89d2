"""Fetch-and-authorise helpers shared by every app's views (healthchecks ``_get_check_for_user``).

Two steps, always in this order:

1. ``get_visible_or_404(queryset, **lookup)`` — the queryset is already scoped to the acting user
   (a selector such as ``meetings_visible_to(user)``), so an object of another branch, or one the
   user may not even see, is simply not found: **404**, without saying whether it exists.
2. ``require_perm(user, "app.perm", obj)`` — a permission declared once with django-rules decides
   what the visible object allows: **403** otherwise.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

M = TypeVar("M", bound=Model)

NOT_FOUND_MESSAGE = "未找到该记录，或您无权查看。"
FORBIDDEN_MESSAGE = "您没有进行此操作的权限。"


def get_visible_or_404(queryset: QuerySet[M], **lookup) -> M:
    """The one object of the user-scoped ``queryset`` matching ``lookup``, else ``Http404``."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError):
        # A malformed lookup value (e.g. a non-numeric id) is "not found" as well, never a 500.
        raise Http404(NOT_FOUND_MESSAGE) from None


def require_perm(user, perm: str, obj: object | None = None, message: str = FORBIDDEN_MESSAGE) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` has ``perm`` (on ``obj``, when given)."""
    if not user.has_perm(perm, obj):
        raise PermissionDenied(message)


def get_for_perm_or_404(queryset: QuerySet[M], user, perm: str, **lookup) -> M:
    """Both steps at once: 404 outside the user's scope, then 403 without ``perm`` on the object."""
    obj = get_visible_or_404(queryset, **lookup)
    require_perm(user, perm, obj)
    return obj


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the server saw it (REMOTE_ADDR, set by a trusted proxy), for audit logs."""
    return request.META.get("REMOTE_ADDR") or None

"""Helpers shared by every app's views: fetch and authorise, and a service's refusal shown on a form.

Fetch and authorise (healthchecks ``_get_check_for_user``), two steps, always in this order:

1. ``get_visible_or_404(queryset, **lookup)`` — the queryset is already scoped to the acting user
   (a selector such as ``meetings_visible_to(user)``), so an object of another branch, or one the
   user may not even see, is simply not found: **404**, without saying whether it exists.
2. ``require_perm(user, "app.perm", obj)`` — a permission declared once with django-rules decides
   what the visible object allows: **403** otherwise.

A write goes through a service that raises ``ValidationError`` (in Chinese) and saves nothing when it
refuses. ``errors_on(form)`` wraps the call: the refusal lands on the form (``apply_errors``) and the
view renders the form again; ``form_messages`` / ``finding_messages`` flash a small form's errors and
a service's rule findings (rule ID and article) on the page the view redirects to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from partygroup.findings import Finding

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


def apply_errors(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str | None] | None = None
) -> None:
    """Put a service's messages on ``form``: each on the field of its name (or of its alias in
    ``aliases``; an alias of ``None`` sends it to the top) when the form has that field, else at the
    top (non-field errors)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            name = (aliases or {}).get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@contextmanager
def errors_on(form: forms.Form, aliases: Mapping[str, str | None] | None = None) -> Iterator[None]:
    """Run the block (a service call, then the success message and redirect); a ``ValidationError``
    it raises is put on ``form`` (``apply_errors``) instead, so the view goes on to render the form
    with the service's reasons. Nothing after the failing call in the block runs."""
    try:
        yield
    except ValidationError as exc:
        apply_errors(form, exc, aliases)


def flash_outcome(request: HttpRequest, step: Callable[[], str]) -> bool:
    """Run a workflow step (a service call returning its success message) and flash the message, or
    each reason of the service's refusal (``ValidationError``: nothing saved). True when it was taken."""
    try:
        text = step()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, text)
    return True


def form_messages(request: HttpRequest, form: forms.Form) -> None:
    """A refused small form (no page of its own): its errors as flash messages, labelled by field."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)


def finding_messages(request: HttpRequest, findings: Iterable[Finding]) -> None:
    """A service's rule findings as warnings, each citing its rule ID and article."""
    for finding in findings:
        messages.warning(request, f"{finding.message}（{finding.rule_id}，{finding.article}）")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the server saw it (REMOTE_ADDR, set by a trusted proxy), for audit logs."""
    return request.META.get("REMOTE_ADDR") or None

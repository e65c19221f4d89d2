"""Fetch and authorise, in one step, the branch or group a page of the groups app is about.

Used by every view module of the app (``views``, ``duty_views``, ``ledger_views``): the object is
looked up in the acting user's scope — outside it **404**, without saying whether it exists — and the
named permission (declared once with django-rules) is then required on it — without it **403**
(``partygroup.http.get_for_perm_or_404``; healthchecks ``_get_check_for_user``).
"""

from __future__ import annotations

from django.http import HttpRequest

from groups.models import PartyGroup
from groups.selectors import groups_visible_to
from members.models import Branch
from members.selectors import branches_visible_to
from partygroup.http import get_for_perm_or_404


def branch_for(request: HttpRequest, branch_id, perm: str) -> Branch:
    """The branch ``branch_id`` if the user can see it (else 404) and has ``perm`` on it (else 403)."""
    return get_for_perm_or_404(branches_visible_to(request.user), request.user, perm, pk=branch_id)


def group_for(request: HttpRequest, group_id, perm: str) -> PartyGroup:
    """The group ``group_id`` if the user can see it (else 404) and has ``perm`` on it (else 403)."""
    return get_for_perm_or_404(groups_visible_to(request.user), request.user, perm, pk=group_id)

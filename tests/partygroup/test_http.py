"""Tests of partygroup/http.py: fetch through the user's scope (404 outside it), then the permission
by name (403 without it) — the two steps every view takes (STYLE.md, healthchecks)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from groups.models import PartyGroup
from groups.selectors import groups_visible_to
from partygroup.http import get_for_perm_or_404, get_visible_or_404, require_perm


def test_get_visible_or_404_returns_the_object_in_scope(world):
    assert get_visible_or_404(groups_visible_to(world.leader), pk=world.group.pk) == world.group


def test_get_visible_or_404_outside_scope_is_404(world):
    assert PartyGroup.objects.filter(pk=world.group.pk).exists()
    with pytest.raises(Http404) as info:
        get_visible_or_404(groups_visible_to(world.other_secretary), pk=world.group.pk)
    assert str(info.value) == "未找到该记录，或您无权查看。"


@pytest.mark.parametrize("value", ["abc", "", "1.5"])
def test_get_visible_or_404_malformed_id_is_404(world, value):
    with pytest.raises(Http404):
        get_visible_or_404(groups_visible_to(world.secretary), pk=value)


def test_require_perm_passes_with_the_permission(world):
    assert require_perm(world.leader, "groups.lead_group", world.group) is None


def test_require_perm_without_the_permission_is_403(world):
    for user in (world.secretary, world.member_user, world.other_leader, AnonymousUser()):
        with pytest.raises(PermissionDenied) as info:
            require_perm(user, "groups.lead_group", world.group)
        assert str(info.value) == "您没有进行此操作的权限。"
    with pytest.raises(PermissionDenied) as info:
        require_perm(world.secretary, "groups.lead_group", world.group, message="只有组长可以操作。")
    assert str(info.value) == "只有组长可以操作。"


def test_get_for_perm_or_404_checks_scope_before_permission(world):
    """Other branch → 404 (not 403: the object's existence is not revealed); read-only → 403."""
    assert (
        get_for_perm_or_404(
            groups_visible_to(world.leader), world.leader, "groups.lead_group", pk=world.group.pk
        )
        == world.group
    )
    with pytest.raises(Http404):
        get_for_perm_or_404(
            groups_visible_to(world.other_secretary),
            world.other_secretary,
            "groups.lead_group",
            pk=world.group.pk,
        )
    with pytest.raises(PermissionDenied):
        get_for_perm_or_404(
            groups_visible_to(world.org_staff), world.org_staff, "groups.lead_group", pk=world.group.pk
        )

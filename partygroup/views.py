"""Project-level views: the landing page and a health probe."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from partygroup.dashboard.selectors import home_roles


@dataclass(frozen=True)
class RoleCard:
    kind: str  # branch / group / overview / me
    title: str
    subtitle: str
    url: str
    work: bool = True  # a role's workspace; the member's own page is not counted as one


def _url(name: str, *args, query: dict | None = None) -> str | None:
    """The URL of ``name``, or None while the page does not exist yet (other parts of the app)."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def role_cards(user) -> list[RoleCard]:
    roles = home_roles(user)
    cards = [
        RoleCard(
            "branch",
            _("支部工作台 — %(name)s") % {"name": b.name},
            _("支委会"),
            _url("dashboard:branch", b.pk),
        )
        for b in roles.committee_branches
    ]
    for group in roles.led_groups:
        # The leader's workspace of the group; the group's meetings if that page is not there.
        url = _url("workspace:group", group.pk) or _url("meetings:list", query={"group": group.pk})
        cards.append(
            RoleCard("group", _("党小组工作台 — %(name)s") % {"name": group.name}, group.branch.name, url)
        )
    if roles.overview:
        cards.append(
            RoleCard("overview", _("组织部门总览"), _("各党支部党小组工作情况"), _url("dashboard:overview"))
        )
    if roles.member:
        cards.append(
            RoleCard(
                "me", _("我的党员信息"), _("个人信息、会议记录、谈心谈话"), _url("dashboard:me"), work=False
            )
        )
    return cards


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to their main page.

    One workspace (branch committee, group leader, organisation staff) → straight there; several →
    a chooser with a card per role (and the member's own page). A plain member goes to their own
    page. ``?choose=1`` always shows the chooser. No role at all: a plain explanation.
    """
    cards = role_cards(request.user)
    work = [c for c in cards if c.work]
    if not request.GET.get("choose"):
        if len(work) == 1:
            return redirect(work[0].url)
        if not work and len(cards) == 1:
            return redirect(cards[0].url)
    return render(request, "home.html", {"cards": cards})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

"""Reads of the members app, scoped to what the acting user may see.

Roles (GLOSSARY.md): organisation staff (``OrganisationStaff``: read the node's subtree), branch
committee (``CommitteeMembership``: manage the branch), members (``Member.user``). Group leaders
are known to the groups app, which extends these scopes (``groups.selectors``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from members import rules
from members.enums import APPROVING_POSTS, CommitteePost, MemberState, ThoughtReportKind
from members.models import (
    Branch,
    CommitteeMembership,
    DuesPayment,
    Member,
    MemberPost,
    Organisation,
    OrganisationStaff,
    PointsRating,
    RuleSet,
    ThoughtReport,
)
from partygroup.findings import shared
from partygroup.months import month_start


@dataclass(frozen=True)
class MemberRoles:
    """What a user is, from the members app's point of view. Computed once per user object."""

    user_id: int | None
    is_superuser: bool = False
    org_paths: tuple[str, ...] = ()
    org_personal_data_paths: tuple[str, ...] = ()
    committee_posts: dict[int, frozenset[str]] = field(default_factory=dict)  # branch_id → posts
    member_id: int | None = None
    member_branch_id: int | None = None

    @property
    def committee_branch_ids(self) -> frozenset[int]:
        return frozenset(self.committee_posts)

    @property
    def approving_branch_ids(self) -> frozenset[int]:
        return frozenset(b for b, posts in self.committee_posts.items() if posts & APPROVING_POSTS)

    @property
    def is_org_staff(self) -> bool:
        return bool(self.org_paths)

    def in_org_subtree(self, org_path: str, *, personal_data: bool = False) -> bool:
        paths = self.org_personal_data_paths if personal_data else self.org_paths
        return any(org_path.startswith(p) for p in paths)


def member_roles(user) -> MemberRoles:
    """Roles of ``user`` (cached on the user object for the request)."""
    if user is None or not user.is_authenticated:
        return MemberRoles(user_id=None)
    cached = getattr(user, "_member_roles", None)
    if cached is not None:
        return cached
    today = timezone.localdate()
    staff = list(
        OrganisationStaff.objects.filter(user=user).values_list(
            "organisation__path", "can_view_personal_data"
        )
    )
    posts: dict[int, set[str]] = {}
    member = Member.objects.filter(user=user, state=MemberState.ACTIVE).only("id", "branch_id").first()
    if member is not None:
        for branch_id, post in (
            CommitteeMembership.objects.current(today).filter(member=member).values_list("branch_id", "post")
        ):
            posts.setdefault(branch_id, set()).add(post)
    roles = MemberRoles(
        user_id=user.pk,
        is_superuser=user.is_superuser,
        org_paths=tuple(path for path, _ in staff),
        org_personal_data_paths=tuple(path for path, can in staff if can),
        committee_posts={b: frozenset(p) for b, p in posts.items()},
        member_id=member.pk if member else None,
        member_branch_id=member.branch_id if member else None,
    )
    user._member_roles = roles
    return roles


def _org_subtree_q(paths: tuple[str, ...], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def organisations_visible_to(user) -> QuerySet[Organisation]:
    roles = member_roles(user)
    if roles.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(_org_subtree_q(roles.org_paths, ""))


def branches_visible_to(user) -> QuerySet[Branch]:
    """Org staff: their subtree; committee members and members: their own branch."""
    roles = member_roles(user)
    qs = Branch.objects.select_related("organisation")
    if roles.is_superuser:
        return qs
    q = _org_subtree_q(roles.org_paths, "organisation__") | Q(pk__in=list(roles.committee_branch_ids))
    if roles.member_branch_id:
        q |= Q(pk=roles.member_branch_id)
    return qs.filter(q)


def members_visible_to_staff(user) -> QuerySet[Member]:
    """Members a staff user manages or reads in the admin: org staff their subtree, committee
    members their branches (the admin's scope; group leaders' views use groups.selectors)."""
    roles = member_roles(user)
    qs = Member.objects.select_related("branch", "branch__organisation", "unit")
    if roles.is_superuser:
        return qs
    return qs.filter(
        _org_subtree_q(roles.org_paths, "branch__organisation__")
        | Q(branch_id__in=list(roles.committee_branch_ids))
    )


def branches_managed_by(user) -> QuerySet[Branch]:
    """Branches whose committee the user sits on (write access to the branch's set-up)."""
    roles = member_roles(user)
    if roles.is_superuser:
        return Branch.objects.all()
    return Branch.objects.filter(pk__in=list(roles.committee_branch_ids))


def can_reveal_personal_data(user, member: Member) -> bool:
    """Secretary / organisation member of the member's branch, org staff with the right, superusers."""
    roles = member_roles(user)
    if roles.is_superuser:
        return True
    posts = roles.committee_posts.get(member.branch_id, frozenset())
    if posts & {CommitteePost.SECRETARY, CommitteePost.ORGANISATION}:
        return True
    return roles.in_org_subtree(member.branch.organisation.path, personal_data=True)


def rule_sets_by_organisation() -> dict[int, RuleSet]:
    """Every organisation's effective rule set in two queries (for checks across many branches).

    Inside ``partygroup.findings.sharing()`` (every ``collect_findings`` call) computed once and
    shared by all collectors; treat the result as read-only."""
    return shared("rule_sets_by_organisation", _rule_sets_by_organisation)


def _rule_sets_by_organisation() -> dict[int, RuleSet]:
    rule_sets = {rs.pk: rs for rs in RuleSet.objects.all()}
    default = next((rs for rs in rule_sets.values() if rs.code == "central-2019"), None)
    nodes = list(Organisation.objects.order_by("path").values_list("pk", "path", "rule_set_id", "depth"))
    by_path: dict[str, RuleSet | None] = {}
    result: dict[int, RuleSet] = {}
    steplen = Organisation.steplen
    for pk, path, rule_set_id, _depth in nodes:
        parent_path = path[:-steplen]
        inherited = by_path.get(parent_path) if parent_path else None
        own = rule_sets.get(rule_set_id) if rule_set_id else None
        effective = own or inherited or default
        by_path[path] = effective
        result[pk] = effective
    return result


# --- What several rule collectors read (partygroup.findings) ---------------------------------------
# Not scoped to a user: ``collect_findings`` is given branches the caller may already see.


def active_member_rows(branch_ids) -> list[tuple]:
    """The ACTIVE members of ``branch_ids``, by branch, name and id, as tuples
    ``(pk, name, branch_id, status, joined_on, full_member_on, unit_id, unit name)``.

    One query; inside ``partygroup.findings.sharing()`` read once for every collector that needs the
    roster (R-01 … R-09 and R-30/R-31 read the same members). Treat the list as read-only."""
    ids = tuple(sorted(set(branch_ids)))

    def read() -> list[tuple]:
        return list(
            Member.objects.filter(branch_id__in=ids, state=MemberState.ACTIVE)
            .values_list(
                "pk", "name", "branch_id", "status", "joined_on", "full_member_on", "unit_id", "unit__name"
            )
            .order_by("branch_id", "name", "pk")
        )

    return shared(f"active_member_rows:{ids}", read)


# --- Members' ongoing duties (R-30 … R-33) ---------------------------------------------------------
# Reads for many members at once in a fixed number of queries. ``members`` is a queryset of members
# (used as a subquery) or member ids. Scoping to the user is the caller's: pass a scoped queryset
# (``members_visible_to_staff``, ``groups.selectors.members_visible_to``).


def _member_filter(members: QuerySet[Member] | Iterable[int]) -> Q:
    if isinstance(members, QuerySet):
        return Q(pk__in=members.order_by().values("pk"))
    return Q(pk__in=sorted({int(pk) for pk in members}))


def _duty_facts(members, on: dt.date) -> list[tuple[rules.MemberDutyFacts, int]]:
    """Each member's R-30/R-31 facts and organisation id (one query)."""
    rows = (
        Member.objects.filter(_member_filter(members))
        .values_list(
            "pk",
            "name",
            "branch_id",
            "branch__organisation_id",
            "branch__ledger_start_on",
            "status",
            "joined_on",
            "full_member_on",
            "left_on",
        )
        .order_by("branch_id", "name", "pk")
    )
    return [
        (
            rules.MemberDutyFacts(
                id=pk,
                name=name,
                branch_id=branch_id,
                joined_on=joined_on,
                left_on=left_on,
                is_probationary=rules.is_probationary_on(
                    status=status, joined_on=joined_on, full_member_on=full_on, on=on
                ),
                tracked_from=rules.tracking_start(joined_on, ledger_start),
            ),
            organisation_id,
        )
        for pk, name, branch_id, organisation_id, ledger_start, status, joined_on, full_on, left_on in rows
    ]


def dues_arrears_for(
    members: QuerySet[Member] | Iterable[int], *, on: dt.date | None = None, since: dt.date | None = None
) -> dict[int, rules.DuesArrears]:
    """R-31: each member's months in arrears on day ``on`` (two queries whatever the number of members).

    Counted from the later of the member's tracking start (joining month, the branch's
    ``ledger_start_on``) and ``since`` (e.g. 1 January for one year's figures), up to the month
    before ``on`` (default today; pass 1 January of the next year for a whole year).
    """
    on = on or timezone.localdate()
    facts = _duty_facts(members, on)
    since_month = month_start(since) if since else None
    starts = {fact.id: _latest(fact.tracked_from, since_month) for fact, _org in facts}
    first = min((d for d in starts.values() if d is not None), default=None)
    payments: dict[int, dict[dt.date, tuple[Decimal, Decimal]]] = defaultdict(dict)
    if first is not None:
        for member_id, month, due, paid in (
            DuesPayment.objects.filter(
                member_id__in=[f.id for f, _o in facts], month__gte=first, month__lt=on
            )
            .values_list("member_id", "month", "amount_due", "amount_paid")
            .order_by()
        ):
            payments[member_id][month] = (due, paid)
    return {
        fact.id: rules.dues_arrears(
            member_id=fact.id,
            start=starts[fact.id],
            joined_on=fact.joined_on,
            left_on=fact.left_on,
            on=on,
            payments=payments.get(fact.id, {}),
        )
        for fact, _org in facts
    }


def _latest(*days: dt.date | None) -> dt.date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def member_dues_arrears(
    member: Member, *, on: dt.date | None = None, since: dt.date | None = None
) -> rules.DuesArrears:
    return dues_arrears_for([member.pk], on=on, since=since)[member.pk]


def thought_report_statuses(
    members: QuerySet[Member] | Iterable[int], *, on: dt.date | None = None
) -> dict[int, rules.ThoughtReportStatus]:
    """R-30: for each member the last report and last written report received by ``on``, the day the
    next one is due, whether it is overdue, and for probationary members the quarter checked for a
    written report (four queries whatever the number of members)."""
    on = on or timezone.localdate()
    facts = _duty_facts(members, on)
    last = last_thought_reports([f.id for f, _o in facts], on=on)
    rule_sets = rule_sets_by_organisation()
    return {
        fact.id: rules.thought_report_status(
            member=fact,
            last_report=last.get(fact.id, (None, None))[0],
            last_written=last.get(fact.id, (None, None))[1],
            on=on,
            rule_set=rule_sets[organisation_id],
        )
        for fact, organisation_id in facts
    }


def last_thought_reports(
    member_ids: Iterable[int] | QuerySet, *, on: dt.date
) -> dict[int, tuple[dt.date | None, dt.date | None]]:
    """member id → (last report, last WRITTEN report) received on or before ``on`` (one query)."""
    ids = member_ids if isinstance(member_ids, QuerySet) else sorted(set(member_ids))
    return {
        member_id: (last, last_written)
        for member_id, last, last_written in ThoughtReport.objects.filter(
            member_id__in=ids, received_on__lte=on
        )
        .values("member_id")
        .annotate(
            last=Max("received_on"),
            last_written=Max("received_on", filter=Q(kind=ThoughtReportKind.WRITTEN)),
        )
        .values_list("member_id", "last", "last_written")
        .order_by()
    }


def _duty_records_visible_to_staff(user, model) -> QuerySet:
    return model.objects.select_related("member", "member__branch").filter(
        member__in=members_visible_to_staff(user).order_by().values("pk")
    )


def dues_payments_visible_to_staff(user) -> QuerySet[DuesPayment]:
    """R-31 ledger rows of the members the user manages or reads (org staff / branch committee)."""
    return _duty_records_visible_to_staff(user, DuesPayment)


def thought_reports_visible_to_staff(user) -> QuerySet[ThoughtReport]:
    return _duty_records_visible_to_staff(user, ThoughtReport)


def member_posts_visible_to_staff(user) -> QuerySet[MemberPost]:
    return _duty_records_visible_to_staff(user, MemberPost)


def points_ratings_visible_to_staff(user) -> QuerySet[PointsRating]:
    return _duty_records_visible_to_staff(user, PointsRating)

"""Each branch's open findings, counted per rule and kept (``FindingSummary``): the organisation
overview shows them for every branch in scope without checking hundreds of branches per page view.

Checking one branch (every collector, R-01 … R-35) takes a few milliseconds; the city's 600 take
seconds. So the overview reads the stored counts and, when some are missing or older than
``MAX_AGE``, queues ONE background task (django-tasks) that checks those branches again — the page
says when the counts were taken and that an update is on its way. ``check_rules --save`` (a cron
job, docs/deployment.md) and the overview's "立即重新检查" button refresh them too. The branch
dashboard, where a secretary fixes what is wrong, always checks its own branch live.

Services (writes) and selectors (reads) of the summaries; the task is ``partygroup.tasks``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Min, QuerySet, Sum
from django.utils import timezone

from members.models import Branch
from partygroup.findings import Finding, collect_findings
from partygroup.models import FindingCount, FindingSummary

logger = logging.getLogger(__name__)

# Counts older than this are checked again in the background when the overview is opened.
MAX_AGE = dt.timedelta(minutes=10)
# The "check again now" button queues the same branches at most this often.
FORCE_INTERVAL = dt.timedelta(seconds=30)
# Branches checked per collect_findings call (a fixed number of queries each; bounded memory).
CHUNK = 100
_UPDATE_FIELDS = ["checked_on", "computed_at", "violations", "advisories"]


# --- Pure ----------------------------------------------------------------------------------------
def count_by_branch(
    branch_ids: Iterable[int], findings: Iterable[Finding]
) -> dict[int, dict[str, list[int]]]:
    """branch id → {rule id: [violations, advisories]} (every branch given, even without findings)."""
    counts: dict[int, dict[str, list[int]]] = {pk: {} for pk in branch_ids}
    for finding in findings:
        per_rule = counts.get(finding.branch_id)
        if per_rule is None:
            continue
        pair = per_rule.setdefault(finding.rule_id, [0, 0])
        pair[0 if finding.is_violation else 1] += 1
    return counts


def totals(by_rule: dict[str, list[int]]) -> tuple[int, int]:
    return sum(v for v, _ in by_rule.values()), sum(a for _, a in by_rule.values())


# --- Services ------------------------------------------------------------------------------------
def save_summaries(
    branch_ids: Sequence[int], findings: Iterable[Finding], *, on: dt.date, now: dt.datetime
) -> None:
    """Store the counts of ``findings`` (all findings of ``branch_ids`` on day ``on``), replacing the
    branches' earlier rows: one summary per branch and one count per rule found. Three statements;
    the caller holds the transaction."""
    summaries, counts = [], []
    for branch_id, by_rule in count_by_branch(branch_ids, findings).items():
        violations, advisories = totals(by_rule)
        summaries.append(
            FindingSummary(
                branch_id=branch_id,
                checked_on=on,
                computed_at=now,
                violations=violations,
                advisories=advisories,
            )
        )
        counts += [
            FindingCount(branch_id=branch_id, rule_id=rule_id, violations=v, advisories=a)
            for rule_id, (v, a) in sorted(by_rule.items())
        ]
    FindingSummary.objects.bulk_create(
        summaries, update_conflicts=True, unique_fields=["branch"], update_fields=_UPDATE_FIELDS
    )
    FindingCount.objects.filter(branch_id__in=list(branch_ids)).delete()
    FindingCount.objects.bulk_create(counts)


def refresh_summaries(branch_ids: Iterable[int], *, on: dt.date | None = None) -> int:
    """Check the branches again (every registered collector) and store their counts, ``CHUNK``
    branches at a time, each chunk in its own transaction (a chunk's rows are consistent; an
    interrupted run leaves the other branches' older rows, with their own times). Branches that no
    longer exist are skipped. Returns the number of branches checked."""
    on = on or timezone.localdate()
    ids = sorted(set(branch_ids))
    done = 0
    for start in range(0, len(ids), CHUNK):
        branches = list(Branch.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("pk"))
        findings = collect_findings(branches, on)
        with transaction.atomic():
            save_summaries([b.pk for b in branches], findings, on=on, now=timezone.now())
        done += len(branches)
    return done


def request_refresh(branch_ids: Sequence[int], *, force: bool = False) -> bool:
    """Queue a background check of ``branch_ids`` after the current transaction commits.

    Not again for the same branches within ``MAX_AGE`` (the cache remembers the request; each
    process's own with the default local-memory cache, which at worst checks a branch twice) unless
    ``force`` — the "立即重新检查" button — which still queues the same branches at most once per
    ``FORCE_INTERVAL`` (a button pressed repeatedly does not fill the queue with checks of 600
    branches). Returns whether a task was queued; a task queue that refuses is logged, and the page
    keeps showing the older counts with their time."""
    ids = sorted(set(branch_ids))
    if not ids:
        return False
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    key = f"partygroup:finding-summaries:{digest}"
    if force:
        if not cache.add(f"{key}:forced", True, timeout=FORCE_INTERVAL.total_seconds()):
            return False
        cache.set(key, True, timeout=MAX_AGE.total_seconds())
    elif not cache.add(key, True, timeout=MAX_AGE.total_seconds()):
        return False
    transaction.on_commit(lambda: _enqueue(ids, key))
    return True


def _enqueue(ids: list[int], key: str) -> None:
    from partygroup.tasks import refresh_finding_summaries

    try:
        refresh_finding_summaries.enqueue(ids)
    except Exception:  # the queue is unavailable (e.g. Redis down): try again on a later page view
        cache.delete_many([key, f"{key}:forced"])
        logger.exception("could not queue the findings check of %d branches", len(ids))


# --- Selectors -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScopeCounts:
    """The stored counts of a set of branches, added up."""

    by_rule: dict[str, tuple[int, int]]  # rule id → (violations, advisories), by rule id
    checked: int  # branches with counts
    oldest: dt.datetime | None
    newest: dt.datetime | None


def summaries_for(branch_ids: Iterable[int]) -> dict[int, FindingSummary]:
    """branch id → its stored counts (branches never checked are missing). One query."""
    return {s.branch_id: s for s in FindingSummary.objects.filter(branch_id__in=list(branch_ids))}


def scope_counts(branches: QuerySet[Branch]) -> ScopeCounts:
    """The stored counts of every branch of ``branches`` added up per rule, in the database. Two
    queries whatever the number of branches."""
    scope = branches.order_by().values("pk")
    by_rule = {
        rule_id: (violations, advisories)
        for rule_id, violations, advisories in FindingCount.objects.filter(branch__in=scope)
        .values("rule_id")
        .annotate(v=Sum("violations"), a=Sum("advisories"))
        .values_list("rule_id", "v", "a")
        .order_by("rule_id")
    }
    times = FindingSummary.objects.filter(branch__in=scope).aggregate(
        checked=Count("pk"), oldest=Min("computed_at"), newest=Max("computed_at")
    )
    return ScopeCounts(by_rule=by_rule, **times)


def stale_branch_ids(branches: QuerySet[Branch], *, now: dt.datetime | None = None) -> list[int]:
    """The branches of ``branches`` whose counts are missing, of another day, or older than
    ``MAX_AGE``. One query."""
    now = now or timezone.now()
    fresh = FindingSummary.objects.filter(
        checked_on=timezone.localdate(now), computed_at__gt=now - MAX_AGE
    ).values("branch_id")
    return list(branches.order_by().exclude(pk__in=fresh).values_list("pk", flat=True))

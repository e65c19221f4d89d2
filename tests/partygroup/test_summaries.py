"""Tests of partygroup/summaries.py and partygroup/tasks.py: each branch's stored finding counts (what the
organisation overview shows), how they are refreshed, when they are stale, and how a check is queued."""

from __future__ import annotations

import datetime as dt
import logging
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from members.models import Branch
from partygroup import findings as findings_module
from partygroup import summaries
from partygroup import tasks as summary_tasks
from partygroup.findings import Severity, collect_findings, make_finding
from partygroup.models import FindingCount, FindingSummary
from tests import factories as f

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


def _finding(rule_id: str, branch_id: int, *, violation: bool = True):
    return make_finding(
        rule_id,
        severity=Severity.VIOLATION if violation else Severity.ADVISORY,
        obj_type="branch",
        obj_id=branch_id,
        label="支部",
        message="示例",
        branch_id=branch_id,
    )


def _stored(branch_ids) -> dict[int, tuple[int, int, dict[str, tuple[int, int]]]]:
    """branch id → (violations, advisories, {rule: (violations, advisories)}) as stored."""
    result = {
        s.branch_id: (s.violations, s.advisories, {})
        for s in FindingSummary.objects.filter(branch_id__in=branch_ids)
    }
    for count in FindingCount.objects.filter(branch_id__in=branch_ids):
        result[count.branch_id][2][count.rule_id] = (count.violations, count.advisories)
    return result


def _expected(branches, on) -> dict[int, tuple[int, int, dict[str, tuple[int, int]]]]:
    expected = {}
    for branch in branches:
        found = collect_findings([branch], on)
        per_rule: dict[str, list[int]] = {}
        for x in found:
            per_rule.setdefault(x.rule_id, [0, 0])[0 if x.is_violation else 1] += 1
        expected[branch.pk] = (
            sum(1 for x in found if x.is_violation),
            sum(1 for x in found if not x.is_violation),
            {rule: (v, a) for rule, (v, a) in per_rule.items()},
        )
    return expected


@pytest.fixture
def branches(world):
    second = f.BranchFactory(organisation=world.branch.organisation, name="第二支部")
    for _ in range(20):  # 20 members and no groups
        f.MemberFactory(branch=second)
    return [world.branch, second, world.other_branch]


# --- Pure ------------------------------------------------------------------------------------------
def test_count_by_branch_counts_per_rule_and_severity_and_keeps_branches_without_findings():
    found = [
        _finding("R-03", 1),
        _finding("R-03", 1),
        _finding("R-10", 1, violation=False),
        _finding("R-01", 9),
    ]
    assert summaries.count_by_branch([1, 2], found) == {1: {"R-03": [2, 0], "R-10": [0, 1]}, 2: {}}
    assert summaries.totals({"R-03": [2, 0], "R-10": [0, 1]}) == (2, 1)


# --- Refreshing ------------------------------------------------------------------------------------------
def test_refresh_stores_what_collect_findings_finds_per_branch_and_rule(branches):
    on = timezone.localdate()
    assert summaries.refresh_summaries([b.pk for b in branches]) == 3
    stored = _stored([b.pk for b in branches])
    assert stored == _expected(branches, on)
    assert any(rules for _v, _a, rules in stored.values())  # something was found: the check means something
    assert set(FindingSummary.objects.values_list("checked_on", flat=True)) == {on}


def test_refresh_replaces_the_earlier_counts(branches, monkeypatch):
    ids = [b.pk for b in branches]
    summaries.refresh_summaries(ids)
    first = branches[0].pk
    monkeypatch.setattr(
        findings_module,
        "_COLLECTORS",
        [lambda bs, on: [_finding("R-05", b.pk) for b in bs if b.pk == first]],
    )
    summaries.refresh_summaries(ids)
    assert _stored(ids) == {
        first: (1, 0, {"R-05": (1, 0)}),
        branches[1].pk: (0, 0, {}),
        branches[2].pk: (0, 0, {}),
    }
    assert FindingSummary.objects.count() == 3


def test_refresh_in_chunks_gives_the_same_counts_and_skips_missing_branches(branches, monkeypatch):
    ids = [b.pk for b in branches]
    summaries.refresh_summaries(ids)
    whole = _stored(ids)
    FindingSummary.objects.all().delete()
    FindingCount.objects.all().delete()
    monkeypatch.setattr(summaries, "CHUNK", 1)
    missing = max(Branch.objects.values_list("pk", flat=True)) + 1
    assert summaries.refresh_summaries([*ids, missing]) == 3
    assert _stored(ids) == whole


def test_deleting_a_branch_deletes_its_counts(db):
    branch = f.BranchFactory()
    summaries.save_summaries(
        [branch.pk], [_finding("R-01", branch.pk)], on=timezone.localdate(), now=timezone.now()
    )
    branch.delete()
    assert not FindingSummary.objects.exists() and not FindingCount.objects.exists()


# --- Reading ----------------------------------------------------------------------------------------------
def test_scope_counts_add_up_the_chosen_branches_and_give_the_times(branches):
    now = timezone.now()
    on = timezone.localdate()
    a, b, c = branches
    summaries.save_summaries(
        [a.pk], [_finding("R-03", a.pk), _finding("R-10", a.pk, violation=False)], on=on, now=now
    )
    summaries.save_summaries([b.pk], [_finding("R-03", b.pk)], on=on, now=now - dt.timedelta(minutes=3))
    counts = summaries.scope_counts(Branch.objects.filter(pk__in=[a.pk, b.pk, c.pk]))
    assert counts.by_rule == {"R-03": (2, 0), "R-10": (0, 1)}
    assert (counts.checked, counts.oldest, counts.newest) == (2, now - dt.timedelta(minutes=3), now)
    only_b = summaries.scope_counts(Branch.objects.filter(pk=b.pk))
    assert only_b.by_rule == {"R-03": (1, 0)} and only_b.checked == 1
    nothing = summaries.scope_counts(Branch.objects.filter(pk=c.pk))
    assert (nothing.by_rule, nothing.checked, nothing.oldest) == ({}, 0, None)


def test_stale_branches_are_those_never_checked_checked_another_day_or_too_long_ago(branches):
    now = timezone.now()
    a, b, c = branches
    summaries.save_summaries([a.pk], [], on=timezone.localdate(now), now=now - dt.timedelta(minutes=1))
    summaries.save_summaries([b.pk], [], on=timezone.localdate(now), now=now - summaries.MAX_AGE)
    everything = Branch.objects.filter(pk__in=[a.pk, b.pk, c.pk])
    assert sorted(summaries.stale_branch_ids(everything, now=now)) == sorted([b.pk, c.pk])
    summaries.save_summaries([a.pk], [], on=timezone.localdate(now) - dt.timedelta(days=1), now=now)
    assert a.pk in summaries.stale_branch_ids(everything, now=now)  # counted as of another day


# --- Queuing a check ----------------------------------------------------------------------------------
def test_request_refresh_queues_after_commit_once_per_max_age_unless_forced(
    db, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert summaries.request_refresh([3, 1, 3]) is True
    assert queued() == []  # not before the transaction commits
    for callback in callbacks:
        callback()
    assert queued() == [[1, 3]]
    with django_capture_on_commit_callbacks(execute=True):
        assert summaries.request_refresh([1, 3]) is False  # asked already
        assert summaries.request_refresh([1]) is True  # other branches
        assert summaries.request_refresh([1, 3], force=True) is True
        assert summaries.request_refresh([1, 3], force=True) is False  # the button pressed again at once
        assert summaries.request_refresh([]) is False
    assert queued() == [[1, 3], [1], [1, 3]]


def test_a_queue_that_refuses_is_logged_and_asked_again_next_time(
    db, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(ids):
        raise ConnectionError("Redis 不可用")

    monkeypatch.setattr(summary_tasks, "refresh_finding_summaries", SimpleNamespace(enqueue=refuse))
    with (
        caplog.at_level(logging.ERROR, logger="partygroup.summaries"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert summaries.request_refresh([7]) is True
    assert "could not queue the findings check of 1 branches" in caplog.text
    with django_capture_on_commit_callbacks(execute=True):
        assert summaries.request_refresh([7]) is True  # not remembered as asked: tried again


def test_the_task_checks_the_branches_it_is_given(branches, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ids = [branches[0].pk, branches[1].pk]
    result = summary_tasks.refresh_finding_summaries.enqueue(ids)
    assert result.return_value == 2
    assert _stored(ids) == _expected(branches[:2], timezone.localdate())
    assert not FindingSummary.objects.filter(branch=branches[2]).exists()


# --- check_rules --save -----------------------------------------------------------------------------------
def _check_rules(*args) -> int:
    try:
        call_command("check_rules", *args, stdout=StringIO())
    except SystemExit as exc:
        return exc.code
    return 0


def test_check_rules_save_stores_the_counts_of_every_branch_checked(branches):
    _check_rules("--format", "json")
    assert not FindingSummary.objects.exists()  # only with --save
    status = _check_rules("--save")
    ids = [b.pk for b in branches]
    expected = _expected(branches, timezone.localdate())
    assert _stored(ids) == expected
    assert status == (1 if any(v for v, _a, _r in expected.values()) else 0)


def test_check_rules_save_on_an_earlier_day_leaves_the_counts_stale(branches):
    day = timezone.localdate() - dt.timedelta(days=30)
    _check_rules("--save", "--date", day.isoformat(), "--branch", str(branches[0].pk))
    assert list(FindingSummary.objects.values_list("branch_id", "checked_on")) == [(branches[0].pk, day)]
    assert branches[0].pk in summaries.stale_branch_ids(Branch.objects.all())

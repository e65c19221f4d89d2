"""Tests of partygroup/findings.py: the Finding value, make_finding, refusals, sorting, collectors."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core.exceptions import ValidationError

from groups.findings import collect_group_findings
from members.models import RuleSet
from partygroup import findings as findings_module
from partygroup.findings import (
    Finding,
    Severity,
    collect_findings,
    make_finding,
    refuse_on_violations,
    register_collector,
    sort_findings,
)

_SEEDED = {v["code"]: v for v in importlib.import_module("members.migrations.0002_rule_sets").RULE_SETS}
LOUDI = RuleSet(**_SEEDED["loudi-2023"])


def finding(rule_id="R-03", severity="violation", obj_id=1, branch_id=1, obj_type="group", **kw) -> Finding:
    return make_finding(
        rule_id,
        severity=severity,
        obj_type=obj_type,
        obj_id=obj_id,
        label=kw.pop("label", "第一党小组"),
        message=kw.pop("message", "党小组“第一党小组”现有党员2名，少于3名。"),
        branch_id=branch_id,
        **kw,
    )


def test_make_finding_cites_the_central_rules_without_a_rule_set():
    assert finding() == Finding(
        rule_id="R-03",
        severity="violation",
        object_type="group",
        object_id=1,
        object_label="第一党小组",
        message="党小组“第一党小组”现有党员2名，少于3名。",
        article="《中央和国家机关党小组工作规则（试行）》第一条",
        branch_id=1,
    )


def test_make_finding_cites_the_rule_sets_document():
    assert finding(rule_set=LOUDI).article == "《关于进一步规范娄底市直机关党小组工作的实施意见》第一条"


def test_make_finding_keeps_fixed_documents_whatever_the_rule_set():
    assert finding("R-08", severity="advisory", rule_set=LOUDI).article == (
        "《关于深入发挥党小组作用的实施意见》“调整和优化党小组设置”"
    )


def test_make_finding_stores_severity_as_plain_string_and_extra_outside_equality():
    one = finding(severity=Severity.VIOLATION, size=2)
    other = finding(size=5)
    assert type(one.severity) is str
    assert one.extra == {"size": 2}
    assert one == other  # extra is not part of the finding's identity
    assert hash(one) == hash(other)


def test_finding_properties():
    violation = finding()
    advisory = finding("R-08", severity="advisory")
    assert (violation.is_violation, advisory.is_violation) == (True, False)
    assert (violation.severity_label, advisory.severity_label) == ("违规", "提醒")
    assert violation.rule_title == "每个党小组不少于3名党员"
    assert violation.excerpt.startswith("党员人数在20人以上的党支部")


def test_finding_as_dict():
    assert finding(rule_set=LOUDI).as_dict() == {
        "rule_id": "R-03",
        "severity": "violation",
        "object_type": "group",
        "object_id": 1,
        "object": "第一党小组",
        "branch_id": 1,
        "message": "党小组“第一党小组”现有党员2名，少于3名。",
        "article": "《关于进一步规范娄底市直机关党小组工作的实施意见》第一条",
    }


def test_refuse_on_violations_names_rule_and_article():
    with pytest.raises(ValidationError) as excinfo:
        refuse_on_violations([finding(), finding("R-08", severity="advisory")])
    assert excinfo.value.messages == [
        "党小组“第一党小组”现有党员2名，少于3名。（R-03，《中央和国家机关党小组工作规则（试行）》第一条）"
    ]


def test_refuse_on_violations_on_a_field():
    with pytest.raises(ValidationError) as excinfo:
        refuse_on_violations([finding(), finding(obj_id=2)], field_name="group")
    assert list(excinfo.value.message_dict) == ["group"]
    assert len(excinfo.value.message_dict["group"]) == 2


@pytest.mark.parametrize("findings", [[], [finding("R-08", severity="advisory")]])
def test_refuse_on_violations_lets_advisories_pass(findings):
    assert refuse_on_violations(findings) is None


def test_sort_findings_by_branch_then_violations_first_then_rule_and_object():
    a = finding("R-08", severity="advisory", branch_id=1, obj_id=1)
    b = finding("R-03", severity="violation", branch_id=1, obj_id=2)
    c = finding("R-03", severity="violation", branch_id=1, obj_id=1)
    d = finding("R-01", severity="advisory", branch_id=2, obj_type="branch", obj_id=2)
    e = finding("R-09", severity="violation", branch_id=2, obj_type="member", obj_id=7)
    none = finding("R-04", branch_id=None, obj_id=None)
    assert sort_findings([d, a, e, b, none, c]) == [none, c, b, a, e, d]


def test_register_collector_is_idempotent(monkeypatch):
    monkeypatch.setattr(findings_module, "_COLLECTORS", [])

    def collector(branches, on):
        return []

    assert register_collector(collector) is collector
    register_collector(collector)
    assert [collector] == findings_module._COLLECTORS


def test_collect_findings_asks_every_collector_with_the_same_branches_and_sorts(monkeypatch):
    calls = []

    def first(branches, on):
        calls.append(("first", branches, on))
        return [finding("R-08", severity="advisory", branch_id=b) for b in branches]

    def second(branches, on):
        calls.append(("second", branches, on))
        return [finding("R-10", severity="advisory", branch_id=b) for b in branches]

    monkeypatch.setattr(findings_module, "_COLLECTORS", [first, second])
    day = dt.date(2024, 9, 1)
    result = collect_findings(iter([2, 1]), day)  # any iterable: read once, given as a list to all
    assert calls == [("first", [2, 1], day), ("second", [2, 1], day)]
    assert [(x.branch_id, x.rule_id) for x in result] == [(1, "R-08"), (1, "R-10"), (2, "R-08"), (2, "R-10")]


def test_groups_app_registers_its_collector():
    assert collect_group_findings in findings_module._COLLECTORS


# --- What the collectors of one collect_findings call share ------------------------------------------
def test_shared_computes_each_time_outside_a_sharing_block():
    calls = []
    assert findings_module.shared("k", lambda: calls.append(1) or len(calls)) == 1
    assert findings_module.shared("k", lambda: calls.append(1) or len(calls)) == 2
    assert calls == [1, 1]


def test_shared_computes_once_per_key_inside_sharing_and_forgets_after():
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    with findings_module.sharing():
        first = findings_module.shared("rule sets", compute)
        assert findings_module.shared("rule sets", compute) is first
        with findings_module.sharing():  # nested: the outer block's values
            assert findings_module.shared("rule sets", compute) is first
        assert findings_module.shared("other", lambda: "x") == "x"
    assert calls == [1]
    assert findings_module.shared("rule sets", compute) == {"n": 2}  # outside again: computed anew


def test_collect_findings_gives_every_collector_the_same_rule_sets(monkeypatch, db):
    """The rule sets are loaded ONCE per collect_findings call, whatever the number of collectors."""
    from members import selectors

    loads = []
    real = selectors._rule_sets_by_organisation

    def counting():
        loads.append(1)
        return real()

    monkeypatch.setattr(selectors, "_rule_sets_by_organisation", counting)
    seen = []

    def collector(branches, on):
        seen.append(selectors.rule_sets_by_organisation())
        return []

    monkeypatch.setattr(findings_module, "_COLLECTORS", [collector, collector, collector])
    assert collect_findings([], dt.date(2026, 1, 1)) == []
    assert len(loads) == 1
    assert len(seen) == 3 and seen[0] is seen[1] is seen[2]
    collect_findings([], dt.date(2026, 1, 1))
    assert len(loads) == 2  # a new call loads them afresh (an edited rule set shows at once)


def test_collect_findings_reads_the_roster_groups_and_leaders_once_for_every_collector(world):
    """Inside one collect_findings call the collectors share the rule sets (2 queries), the active
    members, the active groups and the current leaders: the call runs the collectors' queries less
    what they share (members: groups + duties; groups: groups + leaders + meetings; leaders: groups +
    leaders), and finds exactly what the collectors find one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    branches = [world.branch, world.other_branch]
    on = dt.date(2026, 6, 15)
    alone = 0
    separately: list[Finding] = []
    for collector in findings_module._COLLECTORS:
        with CaptureQueriesContext(connection) as ctx:
            separately += collector(branches, on)
        alone += len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        together = collect_findings(branches, on)
    collectors = len(findings_module._COLLECTORS)
    shared_reads = 2 * (collectors - 1) + 1 + 2 + 1  # rule sets; members; groups; leaders
    assert len(ctx.captured_queries) == alone - shared_reads
    assert together == sort_findings(separately)
    assert together  # the world has findings (e.g. R-10: no meetings held), so the comparison means something

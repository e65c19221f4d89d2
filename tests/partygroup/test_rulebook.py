"""Tests of partygroup/rulebook.py: the catalogue R-01…R-37 and the citations per rule set (R-37)."""

from __future__ import annotations

import importlib

import pytest

from members.models import RuleSet
from partygroup.rulebook import RULES, rule

_SEEDED = {v["code"]: v for v in importlib.import_module("members.migrations.0002_rule_sets").RULE_SETS}
CENTRAL = RuleSet(**_SEEDED["central-2019"])
LOUDI = RuleSet(**_SEEDED["loudi-2023"])
CENTRAL_TITLE = "《中央和国家机关党小组工作规则（试行）》"
LOUDI_TITLE = "《关于进一步规范娄底市直机关党小组工作的实施意见》"


def test_catalogue_holds_exactly_r01_to_r37():
    assert list(RULES) == [f"R-{n:02d}" for n in range(1, 38)]
    assert all(RULES[key].id == key for key in RULES)


def test_every_rule_has_a_title_kind_article_and_excerpt():
    kinds = {"hard", "advisory", "workflow", "record", "none"}
    for r in RULES.values():
        assert r.title and r.article and r.excerpt, r.id
        assert r.kind in kinds, r.id


def test_hard_rules_are_those_of_rules_md():
    # RULES.md: R-09 one group at a time, R-21 themed party day needs approval, R-24 leader is a full member
    assert {r.id for r in RULES.values() if r.kind == "hard"} == {"R-09", "R-21", "R-24"}


def test_workflow_rules_are_those_of_rules_md():
    assert {r.id for r in RULES.values() if r.kind == "workflow"} == {"R-05", "R-11", "R-13"}


@pytest.mark.parametrize(
    ("rule_id", "article"),
    [
        ("R-01", "第一条"),
        ("R-03", "第一条"),
        ("R-04", "第一条"),
        ("R-05", "第二条"),
        ("R-10", "第五条"),
        ("R-18", "第六条"),
        ("R-19", "第七条"),
        ("R-20", "第八条"),
        ("R-21", "第九条"),
        ("R-24", "第十条第（一）项"),
        ("R-25", "第十条第（二）至（四）项"),
        ("R-26", "第十一条"),
        ("R-28", "第十三条"),
        ("R-31", "第十二条第（七）项"),
        ("R-34", "第十三条"),
        ("R-37", "第十六条"),
    ],
)
def test_rule_set_rules_cite_the_organisations_document(rule_id, article):
    r = rule(rule_id)
    assert r.from_rule_set
    assert r.citation(CENTRAL) == f"{CENTRAL_TITLE}{article}"
    assert r.citation(LOUDI) == f"{LOUDI_TITLE}{article}"
    assert r.citation(None) == f"{CENTRAL_TITLE}{article}"  # the 2019 rules are the base


@pytest.mark.parametrize(
    ("rule_id", "citation"),
    [
        ("R-07", "《最新党小组工作操作方法与创新实务》第一章“党小组的建立与划分”"),
        ("R-08", "《关于深入发挥党小组作用的实施意见》“调整和优化党小组设置”"),
        ("R-09", "《最新党小组工作操作方法与创新实务》第一章“党小组的建立与划分”"),
        ("R-13", "《党小组会怎么开》基本要求（7）"),
        ("R-14", "《党小组会怎么开》“党小组会议记录”模板"),
        ("R-30", "《关于深入发挥党小组作用的实施意见》“健全规范党小组活动”"),
    ],
)
def test_rules_from_other_seeds_cite_their_own_document_whatever_the_rule_set(rule_id, citation):
    r = rule(rule_id)
    assert not r.from_rule_set
    assert r.citation(CENTRAL) == r.citation(LOUDI) == r.citation(None) == citation


def test_a_custom_rule_set_title_is_cited():
    custom = RuleSet(code="x", name="x", document_title="《某市党小组工作办法》", effective_date="2025-01-01")
    assert rule("R-01").citation(custom) == "《某市党小组工作办法》第一条"


def test_rule_accessor_and_unknown_rule():
    assert rule("R-24") is RULES["R-24"]
    with pytest.raises(KeyError):
        rule("R-99")

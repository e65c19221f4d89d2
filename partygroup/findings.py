"""What a rule check returns: a ``Finding`` citing a rule ID (../shared/RULES.md).

Rule checks are pure functions (no database writes, no request) that return lists of findings.
The same findings drive forms (hard rules refuse the action), dashboards, ``check_rules``, the
annual report and the exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from partygroup.rulebook import RULES

if TYPE_CHECKING:  # pragma: no cover
    from members.models import RuleSet

T = TypeVar("T")


class Severity(models.TextChoices):
    VIOLATION = "violation", _("违规")
    ADVISORY = "advisory", _("提醒")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    object_type: str  # "branch" / "group" / "member" / "meeting" / "unit" / "leader"
    object_id: int | None
    object_label: str
    message: str
    article: str
    branch_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_violation(self) -> bool:
        return self.severity == Severity.VIOLATION

    @property
    def rule_title(self) -> str:
        return RULES[self.rule_id].title

    @property
    def excerpt(self) -> str:
        return RULES[self.rule_id].excerpt

    @property
    def severity_label(self) -> str:
        return str(Severity(self.severity).label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object": self.object_label,
            "branch_id": self.branch_id,
            "message": self.message,
            "article": self.article,
        }


def make_finding(
    rule_id: str,
    *,
    severity: str,
    obj_type: str,
    obj_id: int | None,
    label: str,
    message: str,
    rule_set: RuleSet | None = None,
    branch_id: int | None = None,
    **extra: Any,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=str(severity),
        object_type=obj_type,
        object_id=obj_id,
        object_label=label,
        message=message,
        article=RULES[rule_id].citation(rule_set),
        branch_id=branch_id,
        extra=extra,
    )


def refuse_on_violations(findings: Iterable[Finding], *, field_name: str | None = None) -> None:
    """Raise ``ValidationError`` naming each violated rule; used by services for hard rules."""
    messages = [f"{f.message}（{f.rule_id}，{f.article}）" for f in findings if f.is_violation]
    if messages:
        if field_name:
            raise ValidationError({field_name: messages})
        raise ValidationError(messages)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (
            f.branch_id or 0,
            f.severity != Severity.VIOLATION,
            f.rule_id,
            f.object_type,
            f.object_id or 0,
        ),
    )


# --- Collectors ----------------------------------------------------------------------------------
# Each app registers a function ``collect(branches, on) -> list[Finding]`` in its AppConfig.ready();
# ``check_rules``, the dashboards and the reports ask all of them, so groups need not know meetings.
_COLLECTORS: list = []


def register_collector(func):
    if func not in _COLLECTORS:
        _COLLECTORS.append(func)
    return func


def collect_findings(branches, on) -> list[Finding]:
    branches = list(branches)
    findings: list[Finding] = []
    with sharing():  # e.g. the rule sets: loaded once for all collectors, not once each
        for collector in _COLLECTORS:
            findings.extend(collector(branches, on))
    return sort_findings(findings)


# --- What the collectors of one ``collect_findings`` call share ---------------------------------------
# Several collectors need the same read-only facts (every organisation's rule set, …). Inside
# ``sharing()`` — ``collect_findings`` opens it; a view that also asks for them may open it around
# more — ``shared(key, compute)`` computes each key once; outside, it simply computes. A context
# variable, so concurrent requests (threads, async tasks) never see each other's values.
_SHARED: ContextVar[dict | None] = ContextVar("partygroup_findings_shared", default=None)


@contextmanager
def sharing() -> Iterator[None]:
    """Share ``shared()`` values within the block (nested blocks use the outermost one)."""
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared(key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``sharing()`` block for ``key``; every time outside one."""
    cache = _SHARED.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]

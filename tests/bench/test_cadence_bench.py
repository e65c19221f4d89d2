"""bench/cadence_bench.py and the meetings step of bench/run.py, on a 1-branch city set (no timing asserted).

The section must report the cadence collector's findings by rule and its queries; ``add_city_meetings``
must give a city set seeded before meetings existed the same meetings, talks and plans ``seed_demo``
writes.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from bench import cadence_bench, run
from bench.common import BenchContext
from meetings.findings import collect_meeting_findings
from meetings.models import AnnualPlan, Attendance, Meeting, Talk
from members.models import Branch

pytestmark = pytest.mark.django_db


def city(branches: int = 1) -> None:
    call_command("seed_demo", "--force", "--scale", "city", "--branches", str(branches), stdout=io.StringIO())


def context(lines: list[str]) -> BenchContext:
    return BenchContext(root=Path(__file__).resolve().parents[2], python="python", env={}, log=lines.append)


def meeting_rows() -> tuple[int, int, int, int]:
    return (
        Meeting.objects.count(),
        Talk.objects.count(),
        AnnualPlan.objects.count(),
        Attendance.objects.count(),
    )


def test_cadence_section_is_registered_after_the_rules():
    keys = [s.key for s in run.SECTIONS]

    assert keys.index("rules") < keys.index("cadence")


def test_cadence_section_reports_the_findings_by_rule_and_the_queries():
    city(3)
    lines: list[str] = []
    expected = collect_meeting_findings(list(Branch.objects.all()), timezone.localdate())

    result = cadence_bench.run(context(lines))

    by_name = {row.name.split(",")[0].split(" (")[0]: row for row in result.rows}
    assert by_name["Findings"].value == len(expected) > 0
    assert by_name["Queries"].value >= 5
    assert by_name["collect_meeting_findings"].aim == cadence_bench.AIM
    counts: dict[str, int] = {}
    for finding in expected:
        counts[finding.rule_id] = counts.get(finding.rule_id, 0) + 1
    rules_note = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
    assert f"Findings by rule: {rules_note}." in result.notes
    assert any(note.startswith("Each query run directly") for note in result.notes)
    assert any("collect_meeting_findings" in line for line in lines)


def test_cadence_section_refuses_a_city_set_without_meetings():
    city()
    Attendance.objects.all().delete()
    Meeting.objects.all().delete()

    with pytest.raises(RuntimeError, match="no meetings"):
        cadence_bench.run(context([]))


def test_add_city_meetings_gives_an_older_city_set_the_seeded_meetings():
    """A city set seeded before issue 3 (no meetings, talks, plans) gets exactly what seed_demo writes."""
    city()
    seeded = meeting_rows()
    findings = {
        (f.rule_id, f.object_id)
        for f in collect_meeting_findings(list(Branch.objects.all()), timezone.localdate())
    }
    Attendance.objects.all().delete()
    Talk.objects.all().delete()
    AnnualPlan.objects.all().delete()
    Meeting.objects.all().delete()
    lines: list[str] = []

    counts = run.add_city_meetings(context(lines))

    assert meeting_rows() == seeded
    assert counts == {"会议": seeded[0], "出席记录": seeded[3], "谈心谈话": seeded[1], "年度计划": seeded[2]}
    again = {
        (f.rule_id, f.object_id)
        for f in collect_meeting_findings(list(Branch.objects.all()), timezone.localdate())
    }
    assert again == findings
    assert any("adding 3 years of meetings" in line for line in lines)

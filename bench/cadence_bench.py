"""Benchmark section "cadence": the meeting-cadence check (R-10, R-17, R-18, R-19, R-20) over the city set.

In this process, warm: ``meetings.findings.collect_meeting_findings`` — the meetings app's collector,
which ``check_rules``, the dashboards and the annual report call — over all 600 branches (3,000 groups,
three years of meetings, talks and plans: ``seed_demo --scale city``), median of 3 runs after one untimed
run. Then, in separate runs, its queries (counted, and each re-run directly so the slowest shows), the
time inside them, and the findings by rule. The whole ``check_rules`` (every collector) is the "rules"
section. A missed aim adds a cProfile of one run.
"""

from __future__ import annotations

from bench.common import (
    Aim,
    BenchContext,
    SectionResult,
    capture_queries,
    code_block,
    count_queries,
    format_number,
    measured,
    median,
    profile_top,
    time_runs,
    time_sql,
)

RUNS = 3
AIM = Aim(5, "s")
SQL_RUNS = 3
SQL_PREVIEW = 160

METHOD = f"""\
`meetings.findings.collect_meeting_findings(branches, today)` — the meetings app's finding collector (R-10
months without a held group meeting in the last 12, R-17 no plan this year, R-18/R-19 life meeting and
democratic evaluation overdue, R-20 members without a talk) — over every branch of the city set with its
3 years of meetings (`seed_demo --scale city`; `bench/run.py` adds them to a city set seeded before they
existed), in the bench process, warm: median of {RUNS} runs after one untimed run. Queries counted with
`CaptureQueriesContext` in a separate run, the time inside them with an `execute_wrapper`, and each query
re-run directly (`cursor.execute` + `fetchall`, median of {SQL_RUNS}). `check_rules` as a whole (group and
meeting collectors, text output) is measured by the "rules" section. A missed aim adds a cProfile of one
run."""


def _branches():
    from members.models import Branch

    # As check_rules selects them.
    return list(Branch.objects.select_related("organisation").order_by("organisation__path", "name", "pk"))


def data_counts() -> dict[str, int]:
    """The rows the cadence check reads."""
    from meetings.models import AnnualPlan, Attendance, Meeting, Talk

    return {
        "meetings": Meeting.objects.count(),
        "held": Meeting.objects.held().count(),
        "talks": Talk.objects.count(),
        "plans": AnnualPlan.objects.count(),
        "attendance": Attendance.objects.count(),
    }


def run(ctx: BenchContext) -> SectionResult:
    from django.utils import timezone

    from meetings.findings import collect_meeting_findings

    today = timezone.localdate()
    branches = _branches()
    data = data_counts()
    if not data["meetings"]:
        raise RuntimeError("the city data set has no meetings (bench/run.py adds them; see docs/demo.md)")

    def check():
        return collect_meeting_findings(branches, today)

    seconds = median(time_runs(check, runs=RUNS, warmup=1))
    with capture_queries() as captured:
        findings = check()
    with count_queries() as counter:
        check()
    sql_times = sorted(((time_sql(q["sql"], runs=SQL_RUNS), q["sql"]) for q in captured), reverse=True)
    ctx.log(f"  collect_meeting_findings {seconds:.2f} s, {len(findings)} findings, {len(captured)} queries")

    by_rule: dict[str, int] = {}
    for finding in findings:
        by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
    rows = [
        measured(
            f"collect_meeting_findings, {len(branches)} branches, {format_number(data['meetings'])} meetings "
            f"(median of {RUNS})",
            seconds,
            "s",
            AIM,
        ),
        measured("Findings", len(findings), ""),
        measured("Queries", len(captured), ""),
        measured("Time inside those queries (one run)", counter.seconds, "s"),
    ]
    rules_text = ", ".join(f"{rule} {format_number(n)}" for rule, n in sorted(by_rule.items())) or "none"
    notes = [
        f"Findings by rule: {rules_text}.",
        f"Data read: {format_number(data['meetings'])} meetings ({format_number(data['held'])} held), "
        f"{format_number(data['talks'])} talks, {format_number(data['plans'])} annual plans "
        f"({format_number(data['attendance'])} attendance rows exist for the annual report, not read here).",
        "Each query run directly (median of "
        f"{SQL_RUNS}):\n"
        + "\n".join(
            f"- {ms * 1000:.1f} ms — `{' '.join(sql.split())[:SQL_PREVIEW]}…`" for ms, sql in sql_times
        ),
    ]
    if not AIM.met_by(seconds):
        notes += [
            "The aim was missed; where one run spends its time (cProfile slows it down):",
            code_block(profile_top(check)),
        ]
    return SectionResult(rows=rows, notes=notes)

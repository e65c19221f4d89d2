"""Benchmark section "rules": ``check_rules`` over every branch of the city data set.

In this process, warm (the first run is not timed): ``call_command("check_rules")`` — the whole
command, findings and text output — median of 3 runs; ``partygroup.findings.collect_findings``
alone over the same branches, median of 3, so the share of the output is visible; the number of
findings and of queries (a separate run inside ``CaptureQueriesContext``). One cold run of
``manage.py check_rules`` as a separate process is recorded too (interpreter and Django start-up
included). When the aim is missed, one run is profiled with cProfile and the top of the profile
goes into the notes.
"""

from __future__ import annotations

import io

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
    run_child,
    time_runs,
)

RUNS = 3
AIM = Aim(5, "s")
CHILD_TIMEOUT = 600

METHOD = f"""\
`check_rules` over all branches in the bench process, warm: `call_command("check_rules")` (all registered
finding collectors + the text output to a buffer), median of {RUNS} runs after one untimed run; the same for
`collect_findings` alone; findings and queries counted in a separate run. The cold row is one
`manage.py check_rules --format json` process (Python and Django start-up included); it is recorded, not
judged. A missed aim adds a cProfile of one run."""


def _branches():
    from members.models import Branch

    # As check_rules selects them.
    return list(Branch.objects.select_related("organisation").order_by("organisation__path", "name", "pk"))


def _command() -> None:
    from django.core.management import call_command

    try:
        call_command("check_rules", stdout=io.StringIO())
    except SystemExit as exc:  # exit 1 = violations found; anything else is an error
        if exc.code not in (0, 1, None):
            raise


def run(ctx: BenchContext) -> SectionResult:
    from django.utils import timezone

    from partygroup.findings import Severity, collect_findings

    today = timezone.localdate()
    branches = _branches()
    command_s = median(time_runs(_command, runs=RUNS, warmup=1))
    collect_s = median(time_runs(lambda: collect_findings(branches, today), runs=RUNS, warmup=0))
    with capture_queries() as captured:
        findings = collect_findings(branches, today)
    with count_queries() as counter:
        collect_findings(branches, today)
    violations = sum(1 for f in findings if f.severity == Severity.VIOLATION)
    cold = run_child(
        ctx.manage("check_rules", "--format", "json"), timeout=CHILD_TIMEOUT, cwd=ctx.root, env=ctx.env
    )
    if cold.returncode not in (0, 1):
        raise RuntimeError(f"manage.py check_rules exited with {cold.returncode}: {cold.stderr[-2000:]}")
    ctx.log(f"  check_rules {command_s:.2f} s, collect_findings {collect_s:.2f} s, {len(findings)} findings")

    by_rule: dict[str, int] = {}
    for finding in findings:
        by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
    rows = [
        measured(f"check_rules, {len(branches)} branches (median of {RUNS})", command_s, "s", AIM),
        measured(f"collect_findings alone (median of {RUNS})", collect_s, "s", AIM),
        measured("Findings", len(findings), ""),
        measured("Queries of collect_findings", len(captured), ""),
        measured("Time inside those queries (one run)", counter.seconds, "s"),
        measured("Cold `manage.py check_rules --format json` process", cold.wall_s, "s"),
        measured("Peak RSS of that process", cold.peak_rss_mib, "MiB"),
    ]
    rules_text = ", ".join(f"{rule} {format_number(n)}" for rule, n in sorted(by_rule.items())) or "none"
    notes = [f"Findings by rule: {rules_text} ({violations} violations)."]
    if not AIM.met_by(command_s):
        notes += [
            "The aim was missed; where one `check_rules` run spends its time (cProfile slows it down):",
            code_block(profile_top(_command)),
        ]
    return SectionResult(rows=rows, notes=notes)

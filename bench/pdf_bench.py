#!/usr/bin/env python
"""Benchmark: a 2-page minutes PDF through ``meetings.pdf.minutes_pdf()`` against WeasyPrint rendering
the same HTML directly (``HTML(string=...).write_pdf()``, its default fetcher, no custom anything).

    .venv/bin/python bench/pdf_bench.py [--runs 15] [--memory-runs 3] [--json]

Time: median (and p90) over ``--runs`` warm renders in this process, the two variants interleaved.
Memory: peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``; tracemalloc does not see Pango,
HarfBuzz or fontconfig) of one render in a fresh subprocess per measurement, median over
``--memory-runs`` subprocesses; also the increase over the RSS just before the render.

Data: every process builds its own throwaway in-memory SQLite database (schema without migrations,
the rule sets of members/migrations/0002) and one archived meeting through the services with
enough content for exactly two pages (checked with ``pdfinfo``). The configured ``DATABASE_URL``
is never touched. Needs the test extras (factory_boy; ``make bench`` installs them) and poppler-utils.
Aim (issue 3): ≤ 1.3× the direct render and ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIM_RATIO = 1.3
AIM_MS = 250.0
PAGES = 2


def setup_django() -> None:
    """Project settings, with an in-memory SQLite database and e-mail kept in memory."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partygroup.settings")
    os.environ.setdefault("DEBUG", "1")  # no SECRET_KEY needed; as `make run` does
    import django
    from django.conf import settings

    django.setup()
    from django.apps import apps

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True, skip_checks=True)
    from members.models import RuleSet

    rule_sets = importlib.import_module("members.migrations.0002_rule_sets").RULE_SETS
    RuleSet.objects.bulk_create([RuleSet(**row) for row in rule_sets])


def build_meeting():
    """An archived group meeting whose minutes fill exactly two A4 pages (built through the services)."""
    from meetings import services
    from meetings.enums import AttendanceRole, MeetingState
    from tests import factories as f
    from tests.meetings.factories import make_meeting

    day = dt.date.today() - dt.timedelta(days=10)
    org = f.OrganisationFactory(name="市直机关工委")
    branch = f.BranchFactory(organisation=org, name="办公室党支部")
    group = f.PartyGroupFactory(branch=branch, name="第一党小组")
    members = [f.GroupMembershipFactory(group=group).member for _ in range(7)]
    f.LeaderAppointmentFactory(group=group, member=members[0], started_on=dt.date(2022, 1, 1))
    leader_user = f.user_for(members[0], "bench-leader")
    meeting = make_meeting(
        group, leader_user, state=MeetingState.NOTIFIED, planned_date=day, title="十月份党小组会"
    )
    leader, *others = members
    present, absent = others[:-1], others[-1]

    def speeches(topic: str):
        views = (
            f"关于{topic}，我认为要结合本处室实际，把学习成果转化为推动工作的具体举措，"
            "在日常工作中发挥党员先锋模范作用，按时完成党支部交办的各项任务。"
        )
        return [services.SpeechInput(speaker=m, views=views) for m in [*present, leader]]

    services.minutes_save(
        meeting=meeting,
        by=leader_user,
        mark_held=True,
        held_on=day,
        half_day="pm",
        start_time=dt.time(14, 30),
        end_time=dt.time(16, 30),
        place="机关二号楼三楼会议室",
        host=leader,
        recorder=present[0],
        opening="根据党支部工作安排，今天我们召开党小组会。党小组全体同志到会。",
        chair_summary="今天的会议学习认真、讨论充分，大家提出的意见和建议会后整理。",
        attendance=[
            services.AttendanceInput(role=AttendanceRole.PRESENT, member=m) for m in [leader, *present]
        ]
        + [
            services.AttendanceInput(role=AttendanceRole.ABSENT, member=absent, absence_reason="出差"),
            services.AttendanceInput(
                role=AttendanceRole.OBSERVER, person_name="赵建国", person_title="副局长"
            ),
        ],
        agenda_items=[
            services.AgendaItemInput(
                title="学习机关党委关于加强党小组建设的通知要求",
                record="集体学习通知全文，逐条对照本组情况查找差距。",
                speeches=speeches("学习通知要求"),
            ),
            services.AgendaItemInput(
                title="讨论对入党申请人的意见、推荐吸收入党积极分子人选",
                record="介绍入党申请人的现实表现和群众意见。",
                speeches=speeches("推荐入党积极分子"),
            ),
        ],
        action_items=[
            services.ActionItemInput(
                description="组织观看警示教育片",
                measures="由组织委员联系放映场地",
                owner=present[0],
                due_on=day + dt.timedelta(days=20),
                agenda_number=1,
            ),
            services.ActionItemInput(
                description="报送入党积极分子推荐人选",
                owner=leader,
                due_on=day + dt.timedelta(days=5),
                agenda_number=2,
            ),
        ],
    )
    meeting = services.meeting_report(meeting=meeting, by=leader_user)
    from tests.meetings.factories import approver_for

    return services.meeting_archive(meeting=meeting, by=approver_for(branch))


def direct_html(meeting) -> str:
    """The minutes' HTML with the static style sheets as file:// URLs for WeasyPrint's default fetcher."""
    from weasyprint.urls import path2url

    from meetings.pdf import minutes_html
    from partygroup.pdf import STATIC_SCHEME, static_path_of

    def to_file_url(match: re.Match) -> str:
        return path2url(str(static_path_of(match[1])))

    return re.sub(rf"{STATIC_SCHEME}:([\w./-]+)", to_file_url, minutes_html(meeting))


def render_ours(meeting) -> bytes:
    from meetings.pdf import minutes_pdf

    return minutes_pdf(meeting)


def render_direct(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def peak_rss_mib() -> float:
    """Peak RSS of this process. Linux carries ru_maxrss over fork + exec, so the parent spawns the
    memory subprocesses before it has grown (see ``main``); VmHWM cross-checks it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def vm_hwm_mib() -> float | None:
    """VmHWM from /proc/self/status: the peak RSS of this address space (reset by exec), or None."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else None


def child(variant: str) -> None:
    """One render in this fresh process; prints the peak RSS as JSON."""
    setup_django()
    meeting = build_meeting()
    html = direct_html(meeting)
    before = peak_rss_mib()
    pdf = render_ours(meeting) if variant == "ours" else render_direct(html)
    after = peak_rss_mib()
    result = {"variant": variant, "peak_mib": after, "increase_mib": after - before, "bytes": len(pdf)}
    print(json.dumps({**result, "vm_hwm_mib": vm_hwm_mib()}))


def measure_memory(variant: str, runs: int) -> dict[str, float]:
    peaks, increases, hwms = [], [], []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", variant],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
            cwd=ROOT,
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        peaks.append(result["peak_mib"])
        increases.append(result["increase_mib"])
        hwms.append(result["vm_hwm_mib"] or result["peak_mib"])
    return {
        "peak_mib": statistics.median(peaks),
        "increase_mib": statistics.median(increases),
        "vm_hwm_mib": statistics.median(hwms),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed renders per variant (default 15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed renders per variant first (default 2)")
    parser.add_argument("--memory-runs", type=int, default=3, help="subprocesses per variant (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")
    parser.add_argument("--child", choices=["ours", "direct"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    if not (1 <= args.runs <= 1000 and 0 <= args.warmup <= 100 and 1 <= args.memory_runs <= 50):
        parser.error("--runs 1…1000, --warmup 0…100, --memory-runs 1…50")

    # Memory first: a subprocess inherits the parent's ru_maxrss, which must still be small here.
    memory = {variant: measure_memory(variant, args.memory_runs) for variant in ("ours", "direct")}

    setup_django()
    from partygroup.pdf import pdf_page_count

    meeting = build_meeting()
    html = direct_html(meeting)
    ours_pdf, direct_pdf = render_ours(meeting), render_direct(html)
    pages = (pdf_page_count(ours_pdf), pdf_page_count(direct_pdf))
    if pages != (PAGES, PAGES):
        print(
            f"基准数据应为 {PAGES} 页，实际：minutes_pdf {pages[0]} 页，直接渲染 {pages[1]} 页。",
            file=sys.stderr,
        )
        return 1

    for _ in range(args.warmup):
        render_ours(meeting)
        render_direct(html)
    times: dict[str, list[float]] = {"ours": [], "direct": []}
    cpu: dict[str, list[float]] = {"ours": [], "direct": []}
    renders = {"ours": lambda: render_ours(meeting), "direct": lambda: render_direct(html)}
    for _ in range(args.runs):  # interleaved, so drift affects both alike
        for variant, render in renders.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            render()
            times[variant].append((time.perf_counter() - start) * 1000)
            cpu[variant].append((time.process_time() - start_cpu) * 1000)

    result = {
        variant: {
            "median_ms": statistics.median(times[variant]),
            "p90_ms": percentile(times[variant], 0.9),
            "cpu_median_ms": statistics.median(cpu[variant]),
            **memory[variant],
        }
        for variant in ("ours", "direct")
    }
    ratio = result["ours"]["median_ms"] / result["direct"]["median_ms"]
    ok = ratio <= AIM_RATIO and result["ours"]["median_ms"] <= AIM_MS
    load = os.getloadavg()[0]
    summary = {"pages": PAGES, "runs": args.runs, "ratio": ratio, "aim_met": ok, "load_1min": load, **result}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    ours, direct = result["ours"], result["direct"]
    print(
        f"### 会议记录 PDF（{PAGES} 页 A4；{args.runs} 次热运行；"
        f"内存：{args.memory_runs} 个新进程的中位数）\n"
    )
    print("| 渲染方式 | 中位数 ms | p90 ms | CPU 中位数 ms | 峰值 RSS MiB | 渲染增量 MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, row in (
        ("`minutes_pdf()`（查询 + 模板 + 静态文件专用 fetcher）", ours),
        ("WeasyPrint 直接渲染同一 HTML（默认 fetcher）", direct),
    ):
        print(
            f"| {label} | {row['median_ms']:.0f} | {row['p90_ms']:.0f} | {row['cpu_median_ms']:.0f} "
            f"| {row['peak_mib']:.0f} | {row['increase_mib']:.0f} |"
        )
    print(
        f"\n比值 {ratio:.2f}×（目标 ≤ {AIM_RATIO}×）；minutes_pdf 中位数 {ours['median_ms']:.0f} ms"
        f"（目标 ≤ {AIM_MS:.0f} ms）：{'达标' if ok else '未达标'}。测量时 1 分钟负载 {load:.1f}"
        f"（{os.cpu_count()} 核）。"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

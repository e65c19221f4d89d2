#!/usr/bin/env python
"""``make bench``: benchmarks of the city data set on PostgreSQL, written to docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partygroup_bench .venv/bin/python bench/run.py
        [--only import,rules] [--reseed] [--output docs/performance.md] [--strict] [--list]

1. Refuses unless ``DATABASE_URL`` is PostgreSQL on a loopback address (the numbers are defined
   for PostgreSQL on this machine).
2. Creates the database when it does not exist (psycopg2 to the ``postgres`` maintenance
   database); ``--reseed`` drops and recreates it first (only a database whose name contains
   "bench").
3. Migrates, and seeds ``seed_demo --scale city`` once (skipped when the city set is there;
   refused when the database holds other data). A city set seeded before meetings existed gets
   its 3 years of meetings, talks and plans added in place (``ensure_city_data``).
4. Runs the registered sections (``SECTIONS`` below; ``--only`` picks some) and rewrites the
   output file: the run's date, machine and command, then one table per section. With ``--only``
   the other sections' tables of the previous file are kept as they were (each says when it was
   measured).

Exit status: 0 when every section ran (missed aims are reported, and with ``--strict`` give 1),
1 when a section failed, 2 for bad arguments or a refused database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402  (the project root goes first)
    admin_bench,
    cadence_bench,
    export_bench,
    import_bench,
    pages_bench,
    rules_bench,
)
from bench.common import (  # noqa: E402
    Aim,
    BenchContext,
    Section,
    SectionResult,
    code_block,
    extract_blocks,
    failed,
    format_number,
    measured,
    merge_blocks,
    not_yet,
    render_block,
    run_child,
    setup_django,
    timed,
)

DEFAULT_OUTPUT = ROOT / "docs" / "performance.md"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAINTENANCE_DB = "postgres"
MIGRATE_TIMEOUT = 900
SEED_TIMEOUT = 1800
PDF_TIMEOUT = 1800


# --- Sections that live here -------------------------------------------------------------------------
PDF_SCRIPT = ROOT / "bench" / "pdf_bench.py"
PDF_AIM_MS = Aim(250, "ms")
PDF_AIM_RATIO = Aim(1.3, "×")
PDF_METHOD = """\
`bench/pdf_bench.py --json` as a separate process (its own throwaway in-memory SQLite database: the
PDF does not depend on the data set): a 2-page archived minutes PDF through `meetings.pdf.minutes_pdf()`
against WeasyPrint rendering the same HTML directly, interleaved warm renders, median; peak RSS of one
render in a fresh process (median of its memory runs). See the script's docstring and docs/pdf.md."""


def run_pdf(ctx: BenchContext) -> SectionResult:
    name = "Minutes PDF, 2 pages, through minutes_pdf()"
    if not PDF_SCRIPT.exists():
        return SectionResult(rows=[not_yet(name, f"{PDF_AIM_MS} and {PDF_AIM_RATIO} the direct render")])
    result = run_child(
        [ctx.python, str(PDF_SCRIPT), "--json"], timeout=PDF_TIMEOUT, cwd=ctx.root, env=ctx.env
    )
    try:
        data = json.loads(result.stdout)
        ours, direct = data["ours"], data["direct"]
    except (ValueError, KeyError, TypeError):
        tail = (result.stderr.strip() or result.stdout.strip())[-1500:]
        return SectionResult(
            rows=[failed(name, f"bench/pdf_bench.py exited with {result.returncode}")],
            notes=[code_block([tail])],
        )
    runs = data.get("runs", "?")
    rows = [
        measured(f"{name} (median of {runs})", ours["median_ms"], "ms", PDF_AIM_MS),
        measured("WeasyPrint directly, same HTML (median)", direct["median_ms"], "ms"),
        measured("Ratio minutes_pdf() / direct", data["ratio"], "×", PDF_AIM_RATIO),
        measured("Peak RSS of one minutes_pdf() render in a fresh process", ours["peak_mib"], "MiB"),
        measured("Peak RSS of one direct render in a fresh process", direct["peak_mib"], "MiB"),
    ]

    def pair(key: str, unit: str) -> str:
        return f"{format_number(ours[key])} {unit} against {format_number(direct[key])} {unit}"

    notes = [
        f"p90: {pair('p90_ms', 'ms')}; CPU time (median): {pair('cpu_median_ms', 'ms')}; the render itself "
        f"adds {pair('increase_mib', 'MiB')}; 1-minute load average {data.get('load_1min', 0):.1f}."
    ]
    return SectionResult(rows=rows, notes=notes)


# The benchmark sections, in the order they run and appear. Add yours here (bench/common.py
# explains the interface): Section(key for --only, title, run(ctx) -> SectionResult, method).
SECTIONS: list[Section] = [
    Section("import", "Member import, 10,000 rows (issue 2)", import_bench.run, import_bench.METHOD),
    Section("rules", "check_rules over all branches (issue 2)", rules_bench.run, rules_bench.METHOD),
    Section(
        "cadence",
        "Monthly-cadence check, city set with 3 years of meetings (issue 3)",
        cadence_bench.run,
        cadence_bench.METHOD,
    ),
    Section("admin", "Member admin changelist (issue 2)", admin_bench.run, admin_bench.METHOD),
    Section("pdf", "Minutes PDF against plain WeasyPrint (issue 3)", run_pdf, PDF_METHOD),
    Section(
        "pages",
        "Role workspace pages: server time and queries (issue 4)",
        pages_bench.run,
        pages_bench.METHOD,
    ),
    Section(
        "export",
        "Organisation-wide export: workbook and PDF bundle (issue 5)",
        export_bench.run,
        export_bench.METHOD,
    ),
]


# --- The database ------------------------------------------------------------------------------------
class Refused(Exception):
    """The database cannot be used for the benchmark; nothing was changed."""


def database_config(url: str | None) -> dict:
    import dj_database_url

    if not url:
        raise Refused(
            "未设置 DATABASE_URL。基准测试只在 PostgreSQL 上进行，请运行 make bench，或设置 "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/partygroup_bench。"
            " (DATABASE_URL is not set; the benchmarks are defined for PostgreSQL.)"
        )
    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise Refused(
            f"DATABASE_URL 指向 {config['ENGINE'].rsplit('.', 1)[-1]}，"
            "而性能指标按 PostgreSQL 定义，拒绝运行。"
            " (The benchmark numbers are defined for PostgreSQL; refusing.)"
        )
    host = config.get("HOST") or ""
    if host and not host.startswith("/") and host not in LOOPBACK_HOSTS:
        raise Refused(
            f"数据库主机 {host} 不是本机回环地址；基准测试只连接 127.0.0.1 / localhost / ::1 或 Unix 套接字。"
            " (Only loopback addresses.)"
        )
    if not config.get("NAME"):
        raise Refused("DATABASE_URL 中没有数据库名。 (No database name in DATABASE_URL.)")
    return config


def _connect_maintenance(config: dict):
    import psycopg2

    return psycopg2.connect(
        dbname=MAINTENANCE_DB,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        connect_timeout=10,
    )


def ensure_database(config: dict, *, reseed: bool, log) -> str:
    """Create the bench database if missing (drop it first with ``reseed``); returns what was done."""
    from psycopg2 import sql

    name = config["NAME"]
    if reseed and ("bench" not in name or name in {MAINTENANCE_DB, "template0", "template1"}):
        raise Refused(
            f"--reseed 会删除数据库“{name}”；只允许删除名称含 bench 的基准测试数据库。"
            " (--reseed only drops a database whose name contains 'bench'.)"
        )
    import psycopg2

    try:
        connection = _connect_maintenance(config)
    except psycopg2.OperationalError as exc:
        raise Refused(f"无法连接 PostgreSQL（{exc}）。 (Cannot connect to PostgreSQL.)".strip()) from exc
    try:
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and reseed:
                log(f"… dropping database {name} (--reseed)")
                cursor.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = False
            if not exists:
                log(f"… creating database {name}")
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                return "created"
    finally:
        connection.close()
    return "existing"


def ensure_city_data(ctx: BenchContext) -> dict[str, int]:
    """Seed the city set unless it is there; refuse a database that holds something else. A city set
    seeded before meetings existed (issue 2) gets its 3 years of meetings, talks and plans added here,
    in this process (``partygroup.demo.city.build_city_meetings``, the same code ``seed_demo`` runs)."""
    from groups.models import PartyGroup
    from meetings.models import Meeting
    from members.models import Branch, Member, Organisation
    from partygroup.demo.city import CITY_BRANCHES

    if not Organisation.objects.exists():
        with timed(ctx.log, "seeding the city data set (manage.py seed_demo --scale city)"):
            run_child(
                ctx.manage("seed_demo", "--scale", "city"), timeout=SEED_TIMEOUT, cwd=ctx.root, env=ctx.env
            ).check()
    branches = Branch.objects.count()
    if branches != CITY_BRANCHES or not Organisation.objects.filter(name="市直机关工委").exists():
        raise Refused(
            f"基准数据库中的数据不是城市规模数据集（{branches} 个党支部，应为 {CITY_BRANCHES}）。"
            "请使用 --reseed 重建，或换一个空数据库。"
            f" (The database does not hold the city data set: {branches} branches; use --reseed.)"
        )
    if not Meeting.objects.exists():
        add_city_meetings(ctx)
    return {
        "branches": branches,
        "groups": PartyGroup.objects.count(),
        "members": Member.objects.count(),
        "meetings": Meeting.objects.count(),
    }


def add_city_meetings(ctx: BenchContext) -> dict[str, int]:
    """Three years of meetings, talks and plans for a city set seeded without them (one transaction)."""
    from partygroup.demo.base import system_user
    from partygroup.demo.city import build_city_meetings

    with timed(ctx.log, "adding 3 years of meetings to the city set (seeded before issue 3)"):
        return build_city_meetings(by=system_user(), log=lambda line: ctx.log(f"  {line}"))


def vacuum_analyze() -> None:
    """Fresh planner statistics and visibility map, as autovacuum keeps them in a database in use
    (right after the bulk seed the estimates are off by a factor of 3 and index-only scans visit
    the heap)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


# --- The document --------------------------------------------------------------------------------------
def machine_lines() -> list[str]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    model = ""
    memory = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
            "",
        )
        meminfo = Path("/proc/meminfo").read_text(encoding="ascii", errors="replace")
        kib = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")))
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return [
        f"- Machine: {os.cpu_count()} CPUs{f' ({model})' if model else ''}{memory}; {platform.system()} "
        f"{platform.release()}",
        f"- Software: Python {platform.python_version()}, Django {django.get_version()}, "
        f"PostgreSQL {server_version} (on 127.0.0.1)",
    ]


def command_line(argv: list[str]) -> str:
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f' BENCH_ARGS="{" ".join(argv)}"' if argv else "")
    return " ".join(["DATABASE_URL=… .venv/bin/python bench/run.py", *argv])


INTRO = """\
Written by `make bench` (`bench/run.py`) — do not edit by hand, run it again. The numbers are for
the city data set (`manage.py seed_demo --scale city`) on PostgreSQL; aims come from the issues. A
**FAIL** is an aim this code misses on this machine, left visible on purpose."""

METHOD = """\
`make bench` = `DATABASE_URL=$(BENCH_DATABASE_URL) .venv/bin/python bench/run.py` (default database
`postgres://postgres@127.0.0.1:5432/partygroup_bench`). It creates that database if missing, migrates,
seeds the city set once (`--reseed` drops and recreates it; a city set seeded before issue 3 gets its
3 years of meetings added in place), runs `VACUUM (ANALYZE)` (as autovacuum
would have in a database in use), then runs the sections below;
`--only import,rules` runs some and keeps the other tables. The bench process uses the project
settings with `DEBUG=1` (no TLS redirect, plain static files) and switches `DEBUG` off at run time, so
no debug cursor or query log is measured. Child processes are started with fork, not vfork, so each
one's `ru_maxrss` is its own peak (`bench/common.py`, `run_child`). The test suite times nothing: only
this benchmark does."""


def render_document(
    *,
    header: list[str],
    blocks: list[str],
    sections: list[Section],
) -> str:
    parts = ["# Performance", "", INTRO, "", *header, "", *blocks, "## Method", "", METHOD, ""]
    for section in sections:
        if section.method:
            parts += [f"### {section.title}", "", section.method, ""]
    return "\n".join(parts).rstrip() + "\n"


# --- Main ----------------------------------------------------------------------------------------------
def select_sections(only: str | None) -> list[Section]:
    if not only:
        return list(SECTIONS)
    keys = [k.strip() for k in only.split(",") if k.strip()]
    known = {s.key for s in SECTIONS}
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        raise ValueError(
            f"unknown section(s) {', '.join(unknown) or '(none)'}; known: {', '.join(sorted(known))}"
        )
    return [s for s in SECTIONS if s.key in keys]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated sections, e.g. import,rules (default: all)")
    parser.add_argument("--reseed", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default docs/performance.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an aim is missed")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    args = parser.parse_args(argv)
    if args.list:
        for section in SECTIONS:
            print(f"{section.key:8} {section.title}")
        return 0
    try:
        sections = select_sections(args.only)
    except ValueError as exc:
        parser.error(str(exc))

    def log(message: str) -> None:
        print(message, flush=True)

    try:
        config = database_config(os.environ.get("DATABASE_URL"))
        ensure_database(config, reseed=args.reseed, log=log)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 2

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "partygroup.settings",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DEBUG", "LOG_LEVEL")})
    ctx = BenchContext(root=ROOT, python=sys.executable, env=env, log=log)
    with timed(log, "migrating"):
        run_child(ctx.manage("migrate", "--noinput"), timeout=MIGRATE_TIMEOUT, cwd=ROOT, env=env).check()
    setup_django()
    from django.utils import timezone

    try:
        counts = ensure_city_data(ctx)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 2

    with timed(log, "VACUUM (ANALYZE)"):
        vacuum_analyze()
    started = timezone.localtime()
    load_before = os.getloadavg()[0]
    results: dict[str, SectionResult] = {}
    loads: dict[str, float] = {}
    errors = 0
    for section in sections:
        loads[section.key] = os.getloadavg()[0]
        with timed(log, f"section {section.key}: {section.title}"):
            try:
                results[section.key] = section.run(ctx)
            except Exception as exc:  # a failed section is reported in its table, the others still run
                errors += 1
                trace = traceback.format_exc(limit=8)
                log(trace)
                results[section.key] = SectionResult(
                    rows=[failed(section.title, f"{type(exc).__name__}: {exc}"[:300])],
                    notes=[code_block([trace.strip()[-3000:]])],
                )
    load_after = os.getloadavg()[0]

    measured_on = f"{started:%Y-%m-%d %H:%M} ({started.tzname()})"
    new_blocks = {
        s.key: render_block(
            s,
            results[s.key],
            measured_on=f"{measured_on}, 1-minute load average {loads[s.key]:.1f} on {os.cpu_count()} CPUs",
        )
        for s in sections
    }
    old_blocks = extract_blocks(args.output.read_text(encoding="utf-8")) if args.output.exists() else {}
    misses = [(s, row) for s in sections for row in results[s.key].misses]
    header = [
        f"- Command: `{command_line(argv)}` — sections {', '.join(s.key for s in sections)}",
        f"- Run: {measured_on}; 1-minute load average {load_before:.1f} at the start, "
        f"{load_after:.1f} at the end",
        *machine_lines(),
        f"- Data set: {counts['branches']:,} branches, {counts['groups']:,} groups, "
        f"{counts['members']:,} members, {counts['meetings']:,} meetings (city set, database "
        f"`{config['NAME']}`)",
        "- Result: "
        + (
            "every aim measured in this run was met."
            if not misses
            else f"{len(misses)} aim(s) missed — "
            + "; ".join(f"{s.key}: {row.name}" for s, row in misses)
            + "."
        ),
    ]
    document = render_document(
        header=header,
        blocks=merge_blocks([s.key for s in SECTIONS], new_blocks, old_blocks),
        sections=SECTIONS,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(document, encoding="utf-8")
    log(f"wrote {args.output}")
    for section, row in misses:
        log(f"AIM MISSED [{section.key}] {row.name}: {row.value} (aim {row.aim})")
    if errors:
        return 1
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark section "admin": the member admin changelist (/admin/members/member/).

For two users — a superuser (sees all 30,000 members) and the secretary of the first city branch
(sees their 50) — in this process, through Django's test ``Client`` (the whole middleware stack,
sessions in the database, no network): 2 untimed requests to warm the caches, then the median of
10 requests; the queries of one more request (``CaptureQueriesContext``); and each of those
SELECTs run again directly with ``cursor.execute`` + ``fetchall`` (no EXPLAIN), so the time the
database needs sits next to the time the page needs.

The bench users ``bench-admin`` and ``bench-secretary`` are created once (no usable password:
the benchmark logs them in with ``force_login``).
"""

from __future__ import annotations

import html
import warnings

from bench.common import (
    BenchContext,
    Row,
    SectionResult,
    capture_queries,
    measured,
    median,
    time_runs,
    time_sql,
)

URL = "/admin/members/member/"
RUNS = 10
WARMUP = 2
SQL_RUNS = 10
SUPERUSER = "bench-admin"
SECRETARY = "bench-secretary"
BENCH_REASON = "性能测试账号"

METHOD = f"""\
`{URL}` for a superuser and for one branch secretary, through Django's test `Client` in the bench
process (full middleware stack, database sessions, `DEBUG` off): {WARMUP} untimed requests, then the
median of {RUNS}; the queries of one more request counted with `CaptureQueriesContext`; the changelist's
main SELECT (the page of members) and every SELECT of the page re-run directly with `cursor.execute` +
`fetchall`, median of {SQL_RUNS} each, so the overhead outside the database shows. No aim in issue 2:
recorded, not judged."""


def bench_users():
    """The superuser and the branch secretary of the benchmark (created once)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from members.enums import CommitteePost
    from members.models import Branch, CommitteeMembership
    from partygroup.audit import audited_save
    from partygroup.demo.base import (
        COMMITTEE_AUTH_GROUP,
        COMMITTEE_PERMISSIONS,
        permission_group,
        system_user,
    )

    users = get_user_model().objects
    admin = users.filter(username=SUPERUSER).first()
    if admin is None:
        admin = users.create_superuser(username=SUPERUSER, email="", password=None)  # unusable password

    branch = Branch.objects.order_by("pk").first()
    seat = (
        CommitteeMembership.objects.current(timezone.localdate())
        .filter(branch=branch, post=CommitteePost.SECRETARY)
        .select_related("member")
        .first()
    )
    if seat is None:
        raise RuntimeError(f"branch {branch} has no secretary in the bench data set")
    secretary = users.filter(username=SECRETARY).first()
    if secretary is None:
        secretary = users.create_user(username=SECRETARY, password=None, is_staff=True)
        secretary.groups.add(permission_group(COMMITTEE_AUTH_GROUP, COMMITTEE_PERMISSIONS))
    member = seat.member
    if member.user_id != secretary.pk:
        member.user = secretary
        audited_save(member, by=system_user(), reason=BENCH_REASON)
    return admin, secretary, branch


def main_select(sqls: list[str]) -> str | None:
    """The changelist's page of members: of the SELECTs from members_member, the one with the most
    columns (all of the member's, with the branch, unit and organisation it shows). Not "the one
    with a LIMIT": a list that fits on one page is fetched without LIMIT, and ``.first()`` lookups
    have LIMIT 1."""
    pages = [
        (sql[:start].count(", "), sql)
        for sql in sqls
        for start in [sql.find(" FROM ")]
        if sql.startswith("SELECT")
        and sql.startswith(' FROM "members_member"', start)
        and "COUNT(" not in sql
    ]
    return max(pages, key=lambda page: page[0])[1] if pages else None


def _measure(client, label: str) -> tuple[list[Row], list[str]]:
    def get():
        response = client.get(URL)
        if response.status_code != 200 or b'id="result_list"' not in response.content:
            raise RuntimeError(f"{label}: {URL} answered {response.status_code} without the member list")
        return response

    server = median(time_runs(get, runs=RUNS, warmup=WARMUP))
    with capture_queries() as captured:
        get()
    sqls = [q["sql"] for q in captured.captured_queries]
    selects = [sql for sql in sqls if sql.startswith("SELECT")]
    timings = [(time_sql(sql, runs=SQL_RUNS), sql) for sql in selects]
    main = main_select(selects)
    main_s = next((t for t, sql in timings if sql == main), None)
    all_sql = sum(t for t, _ in timings)
    rows = [
        measured(f"{label}: server time (median of {RUNS})", server * 1000, "ms"),
        measured(f"{label}: queries", len(sqls), ""),
        measured(f"{label}: main SELECT run directly", None if main_s is None else main_s * 1000, "ms"),
        measured(f"{label}: all {len(selects)} SELECTs run directly", all_sql * 1000, "ms"),
        measured(f"{label}: time outside the database", (server - all_sql) * 1000, "ms"),
    ]
    listing = "\n".join(
        f"<li>{t * 1000:.2f} ms — <code>{html.escape(shorten_sql(sql))}</code></li>" for t, sql in timings
    )
    summary = f"<summary>{label}: the page's SELECTs, each run directly</summary>"
    note = f"<details>{summary}\n<ul>\n{listing}\n</ul>\n</details>"
    return rows, [note]


def shorten_sql(sql: str, *, head: int = 80, limit: int = 700) -> str:
    """A long SELECT as its first columns, then everything from FROM on (joins, WHERE, ORDER BY)."""
    start = sql.find(" FROM ")
    if len(sql) > limit and start > head:
        sql = sql[:head] + " …" + sql[start:]
    return sql if len(sql) <= limit else sql[: limit - 1] + "…"


def run(ctx: BenchContext) -> SectionResult:
    from django.test import Client

    from members.models import Member

    admin, secretary, branch = bench_users()
    # WhiteNoise warns once per handler that STATIC_ROOT (collectstatic's output) does not exist;
    # the changelist's static files are not part of what is measured.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    rows: list[Row] = []
    notes: list[str] = []
    for label, user in (("superuser", admin), ("branch secretary", secretary)):
        client = Client(SERVER_NAME="127.0.0.1")  # a host of ALLOWED_HOSTS; the request never leaves
        client.force_login(user)
        user_rows, user_notes = _measure(client, label)
        ctx.log(f"  {label}: {user_rows[0].value:.1f} ms, {user_rows[1].value} queries")
        rows += user_rows
        notes += user_notes
    visible = Member.objects.filter(branch=branch).count()
    notes.insert(
        0,
        f"The superuser's list pages through {Member.objects.count():,} members; the secretary of "
        f"“{branch.name}” sees {visible}. 100 rows per page.",
    )
    return SectionResult(rows=rows, notes=notes)

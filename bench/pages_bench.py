"""Benchmark section "pages": the role workspaces of issue 4 on the city data set.

Each page is requested in this process through Django's test ``Client`` (the whole middleware stack,
sessions in the database, templates rendered, no network), logged in as the role that uses it:
2 untimed requests to warm the caches, then the median of 10 requests (the aim: ≤ 150 ms). The
queries of one more request are captured (``CaptureQueriesContext``) and each SELECT is run again
directly with ``cursor.execute`` + ``fetchall`` (median of a few runs); their sum is the page's raw
SQL time, so the table shows how much of the page is the database and how much is Python. A page
that misses the aim gets a cProfile of one request in the notes.

The bench users are created once (no usable password: ``force_login``), linked to members of the
first city branch — the same branch and secretary as the "admin" section (``admin_bench.bench_users``):

- ``bench-secretary``: the branch's secretary (branch dashboard, groups, registry, meetings);
- ``bench-leader``: the current leader of one of the branch's groups (the leader's workspace);
- ``bench-org``: organisation staff of the root organisation (the overview: all 600 branches);
- ``bench-member``: a plain member of one of the branch's groups (their own page).
"""

from __future__ import annotations

import html
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common import (
    Aim,
    BenchContext,
    Row,
    SectionResult,
    capture_queries,
    check_runs,
    code_block,
    format_number,
    measured,
    median,
    profile_top,
    time_sql,
)

RUNS = 10
WARMUP = 2
SQL_RUNS = 5
AIM = Aim(150, "ms")
SLOWEST_SHOWN = 5
BENCH_REASON = "性能测试账号"
LEADER = "bench-leader"
ORG_STAFF = "bench-org"
MEMBER = "bench-member"

METHOD = f"""\
Each page of issue 4 for the role that uses it, through Django's test `Client` in the bench process
(full middleware stack, database sessions, templates rendered, `DEBUG` off): {WARMUP} untimed requests,
then the median of {RUNS} (aim ≤ {format_number(AIM.limit)} ms each). The queries of one more request
are captured with `CaptureQueriesContext`; every SELECT among them is run again directly with
`cursor.execute` + `fetchall` (median of {SQL_RUNS} each) and summed: the page's raw SQL time. "Outside
SQL" is the server time minus that sum (Python: views, selectors, rule checks, templates); "CPU in
Django" is the median CPU time of this process per request (`time.process_time`), which a busy machine
inflates far less than the wall time. Users (no
usable password, logged in with `force_login`): the secretary of the first city branch (the one of the
"admin" section), the leader of one of its groups, a plain member of one of its groups, and
organisation staff of the root organisation (the overview spans all branches; the meeting list as
organisation staff pages through every meeting of the city). A page over the aim gets a cProfile."""


# --- Pure helpers (tests/bench/test_pages_bench.py) ------------------------------------------------------
@dataclass(frozen=True)
class Page:
    label: str  # for the table
    user: str  # key of BenchUsers.users
    url: str
    marker: str  # text the answer must contain (the page, not a login form or an error page)


@dataclass
class PageResult:
    page: Page
    server_ms: float
    queries: int
    selects: int
    sql_ms: float
    cpu_ms: float = 0.0  # CPU time of this process (Python) per request, median — load-independent-ish
    slowest: list[tuple[float, str]] = field(default_factory=list)  # (ms, SQL), slowest first
    profile: list[str] = field(default_factory=list)

    @property
    def outside_ms(self) -> float:
        return self.server_ms - self.sql_ms


def result_rows(results: list[PageResult]) -> list[Row]:
    """One row per page: its median server time against the aim."""
    return [
        measured(f"{r.page.label}: server time (median of {RUNS})", r.server_ms, "ms", AIM) for r in results
    ]


def summary_table(results: list[PageResult]) -> str:
    """Server time, query count and raw SQL time of each page side by side (Markdown)."""
    lines = [
        "| Page | User | Server time | Queries | Raw SQL | Outside SQL | CPU in Django |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cells = [
            f"{r.page.label} (`{r.page.url}`)",
            r.page.user,
            f"{format_number(r.server_ms)} ms",
            str(r.queries),
            f"{format_number(r.sql_ms)} ms",
            f"{format_number(r.outside_ms)} ms",
            f"{format_number(r.cpu_ms)} ms",
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def shorten_sql(sql: str, *, head: int = 80, limit: int = 600) -> str:
    """A long SELECT as its first columns, then everything from FROM on."""
    start = sql.find(" FROM ")
    if len(sql) > limit and start > head:
        sql = sql[:head] + " …" + sql[start:]
    return sql if len(sql) <= limit else sql[: limit - 1] + "…"


def slowest_note(results: list[PageResult]) -> str:
    """The slowest SELECTs of each page, run directly (an HTML ``<details>`` block)."""
    parts = ["<details><summary>The slowest SELECTs of each page, each run directly</summary>", ""]
    for r in results:
        parts.append(f"<p>{html.escape(r.page.label)} — {r.selects} SELECTs, {r.sql_ms:.1f} ms in all</p>")
        parts.append("<ul>")
        parts += [
            f"<li>{ms:.2f} ms — <code>{html.escape(shorten_sql(sql))}</code></li>" for ms, sql in r.slowest
        ]
        parts.append("</ul>")
    parts.append("</details>")
    return "\n".join(parts)


# --- The bench users and pages (need Django and the city set) ----------------------------------------------
@dataclass
class BenchUsers:
    users: dict[str, object]  # "secretary" / "leader" / "org staff" / "member" → User
    branch: object
    group: object  # the leader's group
    member: object  # the plain member
    meeting: object | None  # an archived group meeting of the branch (the newest)


def _link(member, user) -> None:
    from partygroup.audit import audited_save
    from partygroup.demo.base import system_user

    if member.user_id != user.pk:
        member.user = user
        audited_save(member, by=system_user(), reason=BENCH_REASON)


def _user(username: str):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return users.filter(username=username).first() or users.create_user(username=username, password=None)


def bench_users() -> BenchUsers:
    """The four users of the pages (created and linked once; see the module docstring)."""
    from django.utils import timezone

    from bench.admin_bench import bench_users as admin_users
    from groups.enums import LeaderRole
    from groups.models import GroupMembership, LeaderAppointment, PartyGroup
    from meetings.enums import MeetingKind, MeetingState
    from meetings.models import Meeting
    from members.enums import MemberState
    from members.models import CommitteeMembership, Member, Organisation, OrganisationStaff
    from partygroup.audit import audited_save
    from partygroup.demo.base import system_user

    today = timezone.localdate()
    _admin, secretary, branch = admin_users()

    leader_user = _user(LEADER)
    seats = (
        LeaderAppointment.objects.current(today)
        .filter(
            group__in=PartyGroup.objects.active(today).filter(branch=branch),
            role=LeaderRole.LEADER,
            member__state=MemberState.ACTIVE,
        )
        .select_related("member", "group")
        .order_by("group__name", "pk")
    )
    seat = seats.filter(member__user=leader_user).first() or seats.filter(member__user__isnull=True).first()
    if seat is None:
        raise RuntimeError(f"branch {branch} has no group leader to link the bench leader to")
    _link(seat.member, leader_user)

    member_user = _user(MEMBER)
    member = Member.objects.filter(user=member_user).first()
    if member is None:
        busy = set(
            LeaderAppointment.objects.current(today)
            .filter(group__branch=branch)
            .values_list("member_id", flat=True)
        ) | set(
            CommitteeMembership.objects.current(today)
            .filter(branch=branch)
            .values_list("member_id", flat=True)
        )
        member = (
            Member.objects.filter(
                branch=branch,
                state=MemberState.ACTIVE,
                user__isnull=True,
                pk__in=GroupMembership.objects.current(today).values("member_id"),
            )
            .exclude(pk__in=busy)
            .order_by("pk")
            .first()
        )
        if member is None:
            raise RuntimeError(f"branch {branch} has no plain member to link the bench member to")
        _link(member, member_user)

    org_user = _user(ORG_STAFF)
    root = Organisation.objects.filter(depth=1).order_by("path").first()
    if not OrganisationStaff.objects.filter(user=org_user, organisation=root).exists():
        staff = OrganisationStaff(user=org_user, organisation=root, can_view_personal_data=False)
        audited_save(staff, by=system_user(), reason=BENCH_REASON)

    meeting = (
        Meeting.objects.filter(
            group__branch=branch, kind=MeetingKind.GROUP_MEETING, state=MeetingState.ARCHIVED
        )
        .order_by("-held_on", "-pk")
        .first()
    )
    return BenchUsers(
        users={"secretary": secretary, "leader": leader_user, "org staff": org_user, "member": member_user},
        branch=branch,
        group=seat.group,
        member=member,
        meeting=meeting,
    )


def pages(bench: BenchUsers) -> list[Page]:
    """The pages of issue 4 and who opens them."""
    b = bench.branch.pk
    result = [
        Page("Secretary's dashboard", "secretary", f"/dashboard/branch/{b}/", "branch-main"),
        Page(
            "Organisation overview, first page, this year",
            "org staff",
            "/dashboard/overview/",
            "overview-main",
        ),
        Page("Groups list", "secretary", f"/groups/?branch={b}", "group-table"),
        Page("Group detail", "secretary", f"/groups/{bench.group.pk}/", "roster-title"),
        Page("Member registry, first page", "secretary", f"/members/?branch={b}", "registry-table"),
        Page(
            "Member registry, searched by name",
            "secretary",
            f"/members/?branch={b}&q={bench.member.name[:1]}",
            "registry-table",
        ),
        Page("Member detail", "secretary", f"/members/{bench.member.pk}/", bench.member.name),
        Page("Meetings list, first page", "secretary", "/meetings/", "meeting-list"),
        Page("Meetings list, first page, organisation staff", "org staff", "/meetings/", "meeting-list"),
    ]
    if bench.meeting is not None:
        result.append(
            Page(
                "Meeting detail (archived)",
                "secretary",
                f"/meetings/{bench.meeting.pk}/",
                bench.meeting.title,
            )
        )
    result += [
        Page("Leader's workspace", "leader", "/workspace/", "workspace-main"),
        Page("Member's own page", "member", "/dashboard/me/", "me-data-title"),
    ]
    return result


def page_getter(client, page: Page) -> Callable[[], object]:
    def get():
        response = client.get(page.url)
        if response.status_code != 200 or page.marker.encode() not in response.content:
            raise RuntimeError(
                f"{page.label}: {page.url} answered {response.status_code} without “{page.marker}”"
            )
        return response

    return get


def timed_requests(get: Callable[[], object], *, runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (``process_time``: this process only, so not the database's work nor
    other processes' load) of ``runs`` calls after ``warmup`` untimed ones."""
    check_runs(runs, warmup=warmup)
    for _ in range(warmup):
        get()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        get()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return walls, cpus


def measure(client, page: Page) -> PageResult:
    get = page_getter(client, page)
    walls, cpus = timed_requests(get, runs=RUNS, warmup=WARMUP)
    server = median(walls)
    with capture_queries() as captured:
        get()
    sqls = [q["sql"] for q in captured.captured_queries]
    selects = [sql for sql in sqls if sql.lstrip().upper().startswith("SELECT")]
    timings = sorted(((time_sql(sql, runs=SQL_RUNS) * 1000, sql) for sql in selects), reverse=True)
    result = PageResult(
        page=page,
        server_ms=server * 1000,
        queries=len(sqls),
        selects=len(selects),
        sql_ms=sum(ms for ms, _sql in timings),
        cpu_ms=median(cpus) * 1000,
        slowest=timings[:SLOWEST_SHOWN],
    )
    if not AIM.met_by(result.server_ms):
        result.profile = profile_top(get, limit=20)
    return result


def run(ctx: BenchContext) -> SectionResult:
    from django.test import Client

    bench = bench_users()
    # WhiteNoise warns once per handler that STATIC_ROOT (collectstatic's output) does not exist.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    # The overview shows each branch's stored finding counts (partygroup.summaries), refreshed in the
    # background when older than MAX_AGE: check every branch first, as the task does, and time it.
    from members.models import Branch
    from partygroup.summaries import MAX_AGE, refresh_summaries

    started = time.perf_counter()
    checked = refresh_summaries(Branch.objects.values_list("pk", flat=True))
    refresh_s = time.perf_counter() - started
    ctx.log(f"  finding counts of {checked} branches (the overview's background check): {refresh_s:.2f} s")
    clients = {}
    for key, user in bench.users.items():
        clients[key] = Client(SERVER_NAME="127.0.0.1")  # a host of ALLOWED_HOSTS; nothing leaves
        clients[key].force_login(user)
    results = []
    for page in pages(bench):
        result = measure(clients[page.user], page)
        ctx.log(
            f"  {page.label}: {result.server_ms:.1f} ms, {result.queries} queries, SQL {result.sql_ms:.1f} ms"
        )
        results.append(result)
    notes = [
        f"Branch “{bench.branch.name}” (id {bench.branch.pk}); the leader's group “{bench.group.name}”.",
        summary_table(results),
        slowest_note(results),
    ]
    for r in results:
        if r.profile:
            notes.append(f"cProfile of one request of “{r.page.label}” (over the aim):")
            notes.append(code_block(r.profile))
    rows = [
        *result_rows(results),
        measured(
            f"Overview's finding counts: check of all {checked:,} branches (background task)", refresh_s, "s"
        ),
    ]
    notes.insert(
        1,
        "The overview reads each branch's stored finding counts (`partygroup.summaries`); the "
        "background task that refreshes them — queued by the overview when counts are older than "
        f"{int(MAX_AGE.total_seconds() // 60)} minutes, or by `check_rules --save` — is timed above "
        "over every branch (no aim: a page never waits for it).",
    )
    return SectionResult(rows=rows, notes=notes)

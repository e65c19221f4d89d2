"""What the benchmark sections share: the section interface, timing, peak memory of a child
process, query counting and the Markdown of docs/performance.md.

A section is a function ``run(ctx: BenchContext) -> SectionResult``; the result holds rows
(measure, value, unit, aim, ok) and free-text notes. Register it in ``bench/run.py``'s
``SECTIONS`` list::

    def run(ctx: BenchContext) -> SectionResult:
        seconds = median(time_runs(do_the_thing, runs=3, warmup=1))
        return SectionResult(rows=[measured("the thing", seconds, "s", Aim(5, "s"))])

The helpers above the "Django" line are pure (tested in tests/bench/test_common.py); the ones
below need a configured Django and a database.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MAX_RUNS = 1000
NOT_YET = "not yet"


# --- Rows, aims, sections ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Aim:
    """A target from the issues: ``value ≤ limit`` (``at_most``) or ``value ≥ limit``."""

    limit: float
    unit: str
    at_most: bool = True

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    def __str__(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {format_number(self.limit)} {self.unit}".rstrip()


@dataclass(frozen=True)
class Row:
    """One line of a section's table. ``value`` None means "not measured yet"; ``ok`` None means
    "no aim to compare with" (the value is recorded only)."""

    name: str
    value: float | int | str | None
    unit: str = ""
    aim: Aim | str | None = None
    ok: bool | None = None


def measured(name: str, value: float | int | None, unit: str, aim: Aim | None = None) -> Row:
    """A row whose ``ok`` is the value compared with the aim (None without an aim or a value)."""
    ok = aim.met_by(value) if aim is not None and value is not None else None
    return Row(name=name, value=value, unit=unit, aim=aim, ok=ok)


def not_yet(name: str, aim: Aim | str | None = None) -> Row:
    return Row(name=name, value=None, aim=aim)


def failed(name: str, error: str) -> Row:
    """A measurement that could not be made: shown as a failure, with the reason."""
    return Row(name=name, value=f"error: {error}", ok=False)


@dataclass
class SectionResult:
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def misses(self) -> list[Row]:
        return [row for row in self.rows if row.ok is False]


@dataclass
class BenchContext:
    """What a section gets from the orchestrator."""

    root: Path  # the project directory
    python: str  # the interpreter of the virtualenv
    env: dict[str, str]  # the environment for child processes (DATABASE_URL, DJANGO_SETTINGS_MODULE …)
    log: Callable[[str], None] = print

    def manage(self, *args: str) -> list[str]:
        return [self.python, str(self.root / "manage.py"), *args]


@dataclass(frozen=True)
class Section:
    key: str  # for --only
    title: str
    run: Callable[[BenchContext], SectionResult]
    method: str = ""  # how the numbers are made (Markdown), shown under "Method"


# --- Statistics and timing --------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    return statistics.median(values)


def check_runs(runs: int, *, warmup: int = 0) -> None:
    if not 1 <= runs <= MAX_RUNS or not 0 <= warmup <= MAX_RUNS:
        raise ValueError(f"runs must be 1…{MAX_RUNS} and warmup 0…{MAX_RUNS} (got {runs}, {warmup})")


def time_runs(fn: Callable[[], object], *, runs: int, warmup: int = 0) -> list[float]:
    """Wall times in seconds of ``runs`` calls of ``fn`` after ``warmup`` untimed calls."""
    check_runs(runs, warmup=warmup)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def profile_top(fn: Callable[[], object], *, limit: int = 15) -> list[str]:
    """Run ``fn`` once under cProfile; see ``top_functions``."""
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    return top_functions(profiler, limit=limit)


def top_functions(profiler: cProfile.Profile, *, limit: int = 15) -> list[str]:
    """The ``limit`` functions with the most cumulative time (where the time goes), then those
    with the most own time (what is hot), paths shortened to the project or site-packages."""
    lines: list[str] = []
    for key, title in (("cumulative", "by cumulative time"), ("tottime", "by own time")):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(key).print_stats(limit)
        text = stream.getvalue().splitlines()
        start = next((i for i, line in enumerate(text) if line.lstrip().startswith("ncalls")), None)
        if start is not None:
            lines += [
                f"-- {title}",
                *(_short_path(line.rstrip()) for line in text[start : start + limit + 1]),
            ]
    return lines


def _short_path(line: str) -> str:
    return re.sub(
        r"\S*/site-packages/", "", line.replace(str(Path(__file__).resolve().parent.parent) + "/", "")
    )


# --- Memory -------------------------------------------------------------------------------------------
def peak_rss_self_mib() -> float:
    """Peak RSS of this process (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mib() -> float | None:
    """VmHWM of this process (peak RSS of the current address space), or None off Linux."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else None


@dataclass(frozen=True)
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float  # from start to exit, process start-up included
    peak_rss_mib: float  # ru_maxrss of this child (through the launcher), in MiB

    def check(self) -> ChildResult:
        if self.returncode != 0:
            tail = (self.stderr.strip() or self.stdout.strip())[-2000:]
            raise RuntimeError(f"child exited with {self.returncode}: {tail}")
        return self


# A small launcher between us and the measured command. Whatever starts a process from a big parent
# (fork copies the parent's resident pages, vfork/posix_spawn fold the parent's peak in at exec)
# makes the child's ``ru_maxrss`` start at the parent's size. The launcher is a fresh, small
# interpreter (``python -S``); the command it spawns starts from the launcher's few MiB, and the
# launcher reports that grandchild's own ``ru_maxrss`` from ``wait4`` through a file.
_LAUNCHER = """
import os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_child(
    cmd: Sequence[str], *, timeout: float, cwd: Path | str | None = None, env: dict[str, str] | None = None
) -> ChildResult:
    """Run ``cmd`` and return its output, wall time and its own peak RSS.

    The command runs under ``_LAUNCHER`` (see above), so its ``ru_maxrss`` is its own peak and not
    that of this (possibly large) process. The launcher gets its own process group, so a timeout
    kills the command too. ``cmd[0]`` is resolved on PATH.
    """
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    program = shutil.which(cmd[0], path=(env or os.environ).get("PATH")) or cmd[0]
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as report,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, report.name, program, *cmd[1:]],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = start + timeout
        status = _wait(process.pid, deadline)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status) if status is not None else -9  # reaped
        if status is None:
            raise TimeoutError(f"{cmd[1:3]} did not finish within {timeout:.0f} s and was killed")
        out.seek(0)
        err.seek(0)
        reported = report.read().strip()
        return ChildResult(
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            wall_s=wall,
            peak_rss_mib=int(reported) / 1024 if reported else 0.0,
        )


def _wait(pid: int, deadline: float) -> int | None:
    """Poll until the launcher exits (its status) or the deadline passes (kill its group; None)."""
    while time.perf_counter() < deadline:  # bounded by the deadline
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.02)
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


# --- Formatting and the document -----------------------------------------------------------------------
def format_number(value: float | int) -> str:
    """12345 → "12,345"; 3.14159 → "3.14"; 42.37 → "42.4"; 158.6 → "159"; 10.0 → "10"."""
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1):
        return f"{round(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_value(value: float | int | str | None, unit: str = "") -> str:
    if value is None:
        return NOT_YET
    if isinstance(value, str):
        return value
    return f"{format_number(value)} {unit}".rstrip()


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "—"
    return "pass" if ok else "**FAIL**"


def code_block(lines: Sequence[str]) -> str:
    """Lines as one fenced Markdown block (a single note)."""
    return "\n".join(["```", *(line.replace("```", "` ` `") for line in lines), "```"])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(rows: Sequence[Row]) -> str:
    lines = ["| Measure | Value | Aim | Result |", "|---|---:|---|---|"]
    for row in rows:
        aim = "—" if row.aim is None else str(row.aim)
        cells = [row.name, format_value(row.value, row.unit), aim, verdict(row.ok)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


BLOCK_RE = re.compile(r"<!-- bench:([\w-]+) -->\n.*?<!-- /bench:\1 -->\n", re.DOTALL)


def render_block(section: Section, result: SectionResult, *, measured_on: str) -> str:
    """A section's part of docs/performance.md, between markers so ``--only`` can replace it alone."""
    parts = [f"<!-- bench:{section.key} -->", f"## {section.title}", "", f"Measured {measured_on}.", ""]
    parts.append(render_table(result.rows))
    for note in result.notes:
        parts += ["", note]
    parts.append(f"<!-- /bench:{section.key} -->")
    return "\n".join(parts) + "\n"


def extract_blocks(text: str) -> dict[str, str]:
    """Section key → its block, from an existing docs/performance.md."""
    return {match[1]: match[0] for match in BLOCK_RE.finditer(text)}


def merge_blocks(order: Sequence[str], new: dict[str, str], old: dict[str, str]) -> list[str]:
    """The blocks in registry order: this run's, else the previous file's; sections never measured
    are left out."""
    return [new.get(key) or old[key] for key in order if key in new or key in old]


@contextmanager
def timed(log: Callable[[str], None], label: str) -> Iterator[None]:
    start = time.perf_counter()
    log(f"… {label}")
    yield
    log(f"  {label}: {time.perf_counter() - start:.1f} s")


# --- Django (needs settings and a database) -------------------------------------------------------------
class QueryCounter:
    """Counts the statements sent to the database and the wall time spent in them (round trip:
    PostgreSQL's work plus the driver), through ``connection.execute_wrapper``. Unlike the debug
    cursor it keeps no SQL text, so it costs next to nothing inside a timed run."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start


@contextmanager
def count_queries(using: str = "default") -> Iterator[QueryCounter]:
    from django.db import connections

    counter = QueryCounter()
    with connections[using].execute_wrapper(counter):
        yield counter


@contextmanager
def capture_queries(using: str = "default"):
    """The statements of a block with their SQL (Django's CaptureQueriesContext: not for timing)."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections[using]) as captured:
        yield captured


def time_sql(sql: str, *, runs: int, warmup: int = 1, using: str = "default") -> float:
    """Median seconds of executing ``sql`` (already interpolated, as captured) and fetching all rows."""
    from django.db import connections

    def execute() -> None:
        with connections[using].cursor() as cursor:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()

    return median(time_runs(execute, runs=runs, warmup=warmup))


def setup_django() -> None:
    """The project's settings as ``make run`` has them (``DEBUG=1``: no TLS redirect, static files
    without a manifest, no SECRET_KEY needed), then ``DEBUG`` off at run time so neither the debug
    cursor nor the query log slows or grows the measured code. ``DATABASE_URL`` comes from the
    environment (``bench/run.py`` checks it is PostgreSQL)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partygroup.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False

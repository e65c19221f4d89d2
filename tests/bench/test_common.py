"""Pure tests of bench/common.py: statistics, aims, the Markdown of docs/performance.md and the
child-process runner. No database, and no test times anything (the benchmarks do that)."""

from __future__ import annotations

import sys

import pytest

from bench.common import (
    Aim,
    QueryCounter,
    Row,
    Section,
    SectionResult,
    check_runs,
    code_block,
    extract_blocks,
    failed,
    format_number,
    format_value,
    measured,
    median,
    merge_blocks,
    not_yet,
    render_block,
    render_table,
    run_child,
    verdict,
)


def test_median_odd_and_even_counts():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median(x for x in [5.0]) == 5.0


def test_median_of_nothing_is_refused():
    with pytest.raises(ValueError, match="no values"):
        median([])


@pytest.mark.parametrize(("runs", "warmup"), [(0, 0), (1001, 0), (1, -1), (1, 1001)])
def test_check_runs_refuses_unbounded_loops(runs, warmup):
    with pytest.raises(ValueError, match="runs must be"):
        check_runs(runs, warmup=warmup)


def test_check_runs_accepts_the_bounds():
    check_runs(1, warmup=0)
    check_runs(1000, warmup=1000)


def test_aim_at_most_passes_on_the_limit_and_fails_above():
    aim = Aim(10, "s")
    assert [aim.met_by(v) for v in (9.99, 10, 10.01)] == [True, True, False]
    assert str(aim) == "≤ 10 s"


def test_aim_at_least_passes_on_the_limit_and_fails_below():
    aim = Aim(8, "pages/s", at_most=False)
    assert [aim.met_by(v) for v in (7.99, 8, 8.01)] == [False, True, True]
    assert str(aim) == "≥ 8 pages/s"


def test_measured_compares_with_the_aim():
    assert measured("import", 12.5, "s", Aim(10, "s")) == Row("import", 12.5, "s", Aim(10, "s"), ok=False)
    assert measured("import", 7.0, "s", Aim(10, "s")).ok is True


def test_measured_without_aim_or_value_is_not_judged():
    assert measured("queries", 56, "").ok is None
    assert measured("main SELECT", None, "ms", Aim(5, "ms")).ok is None


def test_not_yet_and_failed_rows():
    assert not_yet("workbook", Aim(20, "s")) == Row("workbook", None, "", Aim(20, "s"), None)
    assert failed("rules", "boom") == Row("rules", "error: boom", "", None, False)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12345, "12,345"),
        (10.0, "10"),
        (158.6, "159"),
        (1234.4, "1,234"),
        (42.37, "42.4"),
        (3.14159, "3.14"),
        (0.0, "0.00"),
        (0.3249, "0.32"),
        (1.3, "1.30"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_format_value_units_text_and_missing():
    assert format_value(23.02, "s") == "23.0 s"
    assert format_value(56, "") == "56"
    assert format_value("error: x", "s") == "error: x"
    assert format_value(None, "s") == "not yet"


def test_verdict():
    assert [verdict(True), verdict(False), verdict(None)] == ["pass", "**FAIL**", "—"]


def test_render_table_shows_value_aim_and_result_per_row():
    rows = [
        measured("Import 10,000 rows", 23.02, "s", Aim(10, "s")),
        measured("Peak RSS", 126.4, "MiB", Aim(200, "MiB")),
        measured("Queries", 56, ""),
        not_yet("Workbook | 600 branches", Aim(20, "s")),
    ]
    assert render_table(rows).splitlines() == [
        "| Measure | Value | Aim | Result |",
        "|---|---:|---|---|",
        "| Import 10,000 rows | 23.0 s | ≤ 10 s | **FAIL** |",
        "| Peak RSS | 126 MiB | ≤ 200 MiB | pass |",
        "| Queries | 56 | — | — |",
        "| Workbook \\| 600 branches | not yet | ≤ 20 s | — |",
    ]


def test_section_result_lists_the_missed_aims_only():
    miss = measured("a", 11, "s", Aim(10, "s"))
    result = SectionResult(rows=[miss, measured("b", 9, "s", Aim(10, "s")), measured("c", 1, "")])
    assert result.misses == [miss]


def _section(key: str) -> Section:
    return Section(key=key, title=f"Title {key}", run=lambda ctx: SectionResult(rows=[]))


def test_render_block_is_found_again_by_extract_blocks():
    block = render_block(
        _section("rules"),
        SectionResult(rows=[measured("check_rules", 3.2, "s", Aim(5, "s"))], notes=["A note."]),
        measured_on="2026-11-22 18:25 (CST)",
    )
    assert block.splitlines() == [
        "<!-- bench:rules -->",
        "## Title rules",
        "",
        "Measured 2026-11-22 18:25 (CST).",
        "",
        "| Measure | Value | Aim | Result |",
        "|---|---:|---|---|",
        "| check_rules | 3.20 s | ≤ 5 s | pass |",
        "",
        "A note.",
        "<!-- /bench:rules -->",
    ]
    other = render_block(_section("admin"), SectionResult(rows=[]), measured_on="x")
    document = f"# Performance\n\n{block}\n{other}"
    assert list(extract_blocks(document)) == ["rules", "admin"]
    assert extract_blocks(document)["rules"] == block


def test_merge_blocks_keeps_the_previous_tables_of_sections_not_run():
    old = {"import": "old import\n", "rules": "old rules\n", "gone": "old gone\n"}
    new = {"rules": "new rules\n", "admin": "new admin\n"}
    assert merge_blocks(["import", "rules", "admin", "pdf"], new, old) == [
        "old import\n",
        "new rules\n",
        "new admin\n",
    ]


def test_code_block_is_one_fenced_note():
    assert code_block(["a", "b ``` c"]) == "```\na\nb ` ` ` c\n```"


def test_run_child_reports_output_exit_status_and_the_childs_own_peak():
    code = "import sys; b = b'x' * (64 << 20); print('out'); print('err', file=sys.stderr); sys.exit(3)"
    result = run_child([sys.executable, "-c", code], timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.peak_rss_mib >= 64
    with pytest.raises(RuntimeError, match="child exited with 3: err"):
        result.check()


def test_run_child_peak_is_not_the_parents_peak():
    """The vfork trap: a child of a parent that once held 256 MiB must not report 256 MiB."""
    big = b"x" * (256 << 20)  # written, so resident
    del big
    result = run_child([sys.executable, "-c", "pass"], timeout=60).check()
    assert result.peak_rss_mib < 128


def test_run_child_kills_a_child_past_its_timeout():
    with pytest.raises(TimeoutError, match="did not finish"):
        run_child([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_query_counter_counts_statements_and_passes_results_through():
    counter = QueryCounter()
    seen = []

    def execute(sql, params, many, context):
        seen.append((sql, params, many))
        return "rows"

    assert counter(execute, "SELECT 1", None, False, {}) == "rows"
    assert counter(execute, "INSERT …", [(1,), (2,)], True, {}) == "rows"
    assert seen == [("SELECT 1", None, False), ("INSERT …", [(1,), (2,)], True)]
    assert counter.count == 2
    assert counter.seconds >= 0


def test_query_counter_counts_a_failing_statement_and_lets_the_error_through():
    counter = QueryCounter()

    def execute(sql, params, many, context):
        raise RuntimeError("duplicate key")

    with pytest.raises(RuntimeError, match="duplicate key"):
        counter(execute, "INSERT …", None, False, {})
    assert counter.count == 1

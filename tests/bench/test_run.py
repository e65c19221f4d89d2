"""Pure tests of bench/run.py: which databases the benchmark accepts, and section selection."""

from __future__ import annotations

import pytest

from bench import run
from bench.admin_bench import main_select


def test_database_config_accepts_postgresql_on_loopback():
    for url in (
        "postgres://postgres@127.0.0.1:5432/partygroup_bench",
        "postgresql://postgres@localhost/partygroup_bench_h",
        "postgres://postgres@[::1]:5432/partygroup_bench",
    ):
        config = run.database_config(url)
        assert "postgresql" in config["ENGINE"]
        assert config["NAME"].startswith("partygroup_bench")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "未设置 DATABASE_URL"),
        ("", "未设置 DATABASE_URL"),
        ("sqlite:///db.sqlite3", "sqlite3，而性能指标按 PostgreSQL 定义"),
        ("postgres://postgres@10.0.0.5:5432/partygroup_bench", "10.0.0.5 不是本机回环地址"),
        ("postgres://postgres@db.example.org/partygroup_bench", "db.example.org 不是本机回环地址"),
    ],
)
def test_database_config_refuses_other_databases_with_a_clear_message(url, message):
    with pytest.raises(run.Refused, match=message):
        run.database_config(url)


def test_reseed_refuses_a_database_not_named_bench():
    config = run.database_config("postgres://postgres@127.0.0.1:5432/partygroup")
    with pytest.raises(run.Refused, match="只允许删除名称含 bench"):
        run.ensure_database(config, reseed=True, log=print)


def test_select_sections_keeps_registry_order():
    assert [s.key for s in run.select_sections("rules,import")] == ["import", "rules"]
    assert [s.key for s in run.select_sections(None)] == [s.key for s in run.SECTIONS]


def test_select_sections_refuses_unknown_keys():
    with pytest.raises(ValueError, match="unknown section"):
        run.select_sections("import,nosuch")
    with pytest.raises(ValueError, match="unknown section"):
        run.select_sections(",")


def test_section_keys_are_unique_and_cover_issue_2():
    keys = [s.key for s in run.SECTIONS]
    assert len(keys) == len(set(keys))
    assert {"import", "rules", "admin", "pdf"} <= set(keys)


def test_main_select_is_the_page_not_a_first_lookup():
    lookup = (
        'SELECT "members_member"."id", "members_member"."branch_id" FROM "members_member" WHERE x LIMIT 1'
    )
    page = (
        'SELECT "members_member"."id", "members_member"."name", "members_branch"."id" FROM "members_member" '
    )
    count = 'SELECT COUNT(*) AS "__count" FROM "members_member" WHERE "members_member"."id" IN (1, 2, 3, 4)'
    other = (  # the branch filter: more columns than the lookup, members_member only in a subquery
        'SELECT "b"."id", "b"."name", "b"."c", "b"."d", "b"."e", "b"."f" FROM "members_branch" '
        'WHERE "b"."id" IN (SELECT V0."branch_id" FROM "members_member" V0)'
    )
    assert main_select([lookup, count, other, page + "LIMIT 100"]) == page + "LIMIT 100"
    assert main_select([lookup, page + "ORDER BY 2"]) == page + "ORDER BY 2"  # one page: no LIMIT
    assert main_select([count, other]) is None
    assert main_select([lookup, other]) == lookup

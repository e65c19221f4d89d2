"""Tests of members/resources.py ``export_members``: the import's columns, masking by default,
reveal only where allowed (and logged), neutralised cells, and export → import round trips."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.models import GroupMembership
from members.enums import PersonalField
from members.importing import import_members_file
from members.models import Member, PersonalDataReveal, Unit
from members.resources import export_members
from tests import factories as f
from tests.import_files import HEADERS

GENDER = {"M": "男", "F": "女"}
STATUS = {"full": "正式党员", "probationary": "预备党员"}


def read_xlsx(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def read_csv(data: bytes) -> list[list]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel on Chinese Windows opens it correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read(fmt: str, data: bytes) -> list[list]:
    rows = read_xlsx(data) if fmt == "xlsx" else read_csv(data)
    return [["" if v is None else v for v in row] for row in rows]


def expected_row(member: Member, *, full: bool) -> list[str]:
    group = (
        GroupMembership.objects.current().filter(member=member).values_list("group__name", flat=True).first()
        or ""
    )
    day = lambda d: d.isoformat() if d else ""  # noqa: E731
    phone = member.phone if full else member.phone[:3] + "****" + member.phone[-4:]
    id_number = member.id_number if full else member.id_number[:6] + "********" + member.id_number[-4:]
    return [
        member.name,
        GENDER[member.gender],
        day(member.birth_date),
        STATUS[member.status],
        day(member.joined_on),
        day(member.full_member_on),
        member.unit.name if member.unit_id else "",
        phone,
        id_number,
        group,
    ]


def branch_members(world):
    return Member.objects.filter(branch=world.branch).order_by("name", "pk")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_has_the_import_columns_and_masks_personal_data_by_default(world, fmt):
    members = list(branch_members(world).select_related("unit"))

    rows = read(fmt, export_members(branch_members(world), world.secretary, fmt))

    assert rows[0] == list(HEADERS)
    assert rows[1:] == [expected_row(m, full=False) for m in members]
    assert PersonalDataReveal.objects.count() == 0


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_reveal_by_the_secretary_shows_full_values_and_logs_each_member(world, fmt):
    members = list(branch_members(world).select_related("unit"))

    rows = read(
        fmt, export_members(branch_members(world), world.secretary, fmt, reveal=True, ip_address="127.0.0.1")
    )

    assert rows[1:] == [expected_row(m, full=True) for m in members]
    assert set(
        PersonalDataReveal.objects.values_list("user", "member", "field", "context", "ip_address")
    ) == {
        (world.secretary.pk, m.pk, field, "导出", "127.0.0.1")
        for m in members
        for field in (PersonalField.ID_NUMBER, PersonalField.PHONE)
    }


def test_export_reveal_applies_per_member_only_where_the_user_may_reveal(world):
    everyone = Member.objects.filter(branch__in=[world.branch, world.other_branch]).order_by(
        "branch", "name", "pk"
    )
    members = list(everyone.select_related("unit"))

    rows = read_xlsx(export_members(everyone, world.secretary, "xlsx", reveal=True))

    assert rows[1:] == [
        [v or None for v in expected_row(m, full=m.branch_id == world.branch.pk)] for m in members
    ]
    assert set(PersonalDataReveal.objects.values_list("member__branch", flat=True)) == {world.branch.pk}


@pytest.mark.parametrize("user", ["leader", "org_staff"])
def test_export_reveal_requested_by_a_user_without_the_right_stays_masked(world, user):
    members = list(branch_members(world).select_related("unit"))

    rows = read_xlsx(export_members(branch_members(world), getattr(world, user), "xlsx", reveal=True))

    assert rows[1:] == [[v or None for v in expected_row(m, full=False)] for m in members]
    assert PersonalDataReveal.objects.count() == 0


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_neutralises_cells_that_could_start_a_formula(world, fmt):
    unit = f.UnitFactory(branch=world.branch, name='=HYPERLINK("http://127.0.0.1/x","点我")')
    member = f.MemberFactory(branch=world.branch, name="丁喆", unit=unit, phone="+8613900001111")

    data = export_members(Member.objects.filter(pk=member.pk), world.secretary, fmt, reveal=True)

    rows = read(fmt, data)
    assert rows[1][6] == '\'=HYPERLINK("http://127.0.0.1/x","点我")'
    assert rows[1][7] == "'+8613900001111"
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        assert {sheet["G2"].data_type, sheet["H2"].data_type} == {"s"}  # text, not a formula


def test_export_masked_phone_with_country_code_is_neutralised_too(world):
    member = f.MemberFactory(branch=world.branch, phone="+8613900002222")

    rows = read_csv(export_members(Member.objects.filter(pk=member.pk), world.secretary, "csv"))

    assert rows[1][7] == "'+86139****2222"


def test_export_refuses_an_unknown_format(world):
    with pytest.raises(ValueError, match="不支持的导出格式：pdf"):
        export_members(branch_members(world), world.secretary, "pdf")


def test_export_query_count_is_flat_with_1_and_20_members(world):
    admin_user = f.UserFactory(username="root", is_superuser=True, is_staff=True)

    def queries(count: int) -> int:
        branch = f.BranchFactory(organisation=world.branch.organisation)
        group = f.PartyGroupFactory(branch=branch)
        unit = f.UnitFactory(branch=branch)
        for _ in range(count):
            f.GroupMembershipFactory(group=group, member__unit=unit)
        with CaptureQueriesContext(connection) as captured:
            export_members(Member.objects.filter(branch=branch), admin_user, "xlsx", reveal=True)
        assert PersonalDataReveal.objects.filter(member__branch=branch).count() == 2 * count
        return len(captured.captured_queries)

    queries(1)  # the user's roles are computed once and cached on the user object
    assert queries(1) == queries(20)


# --- Round trips -----------------------------------------------------------------------------------
def snapshot(world) -> list[tuple]:
    return [
        (
            m.name,
            m.gender,
            m.birth_date,
            m.status,
            m.joined_on,
            m.full_member_on,
            m.unit.name if m.unit_id else None,
            m.phone,
            m.id_number,
            GroupMembership.objects.current().filter(member=m).values_list("group__name", flat=True).first(),
        )
        for m in Member.objects.filter(branch=world.branch).select_related("unit").order_by("pk")
    ]


@pytest.fixture
def rich_world(world):
    """World members with rare characters, a unit whose name starts a formula, a +86 phone."""
    unit = f.UnitFactory(branch=world.branch, name="-研发部")
    first, second, third = world.members[1], world.members[2], world.members[3]
    first.name, first.unit, first.phone = "王𠇔", unit, "+8613912345678"
    second.name, second.unit = "李喆", f.UnitFactory(branch=world.branch, name="综合处")
    third.status, third.full_member_on = "probationary", None
    third.joined_on = dt.date(2025, 7, 1)
    for member in (first, second, third):
        member.save()
    return world


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_of_a_revealed_export_reimports_as_unchanged(rich_world, tmp_path, fmt):
    world = rich_world
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_members(branch_members(world), world.secretary, fmt, reveal=True))

    report = import_members_file(path_or_file=path, branch=world.branch, by=world.secretary, dry_run=True)

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, branch_members(world).count())


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_restores_the_exported_data(rich_world, tmp_path, fmt):
    world = rich_world
    original = snapshot(world)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_members(branch_members(world), world.secretary, fmt, reveal=True))
    # Change everything the file holds, then import the file again.
    Member.objects.filter(pk=world.members[1].pk).update(name="改名", phone="13800000000", unit=None)
    Member.objects.filter(pk=world.members[3].pk).update(status="full", full_member_on=dt.date(2026, 1, 1))
    GroupMembership.objects.filter(member=world.members[2], ended_on__isnull=True).update(
        group=world.other_group
    )
    assert snapshot(world) != original

    report = import_members_file(path_or_file=path, branch=world.branch, by=world.secretary, dry_run=False)

    assert report.errors == []
    assert (report.created, report.updated) == (0, 3)
    assert snapshot(world) == original
    assert Unit.objects.filter(branch=world.branch, name="-研发部").count() == 1

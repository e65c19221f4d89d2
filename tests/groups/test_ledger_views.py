"""Tests of groups/ledger_views.py and groups/ledger_forms.py: the pages of members' monthly duties —
dues (R-31) and thought reports (R-30) — for group leaders, the branch committee, organisation staff
and members.

Roles (tests/org_tree.py): branch A is "own" (secretary_a and propaganda_a on its committee,
leader_a1 of group a1, leader_a2 of a2, member_a1 = 党员甲 in a1, staff_top and staff_mid above it),
branch C the "other branch" (secretary_c, staff_other). Outside the user's scope → 404; visible but
not the role's business → 403; wrong method → 405; anonymous → the login page. Refused writes change
no row (history rows included).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from groups.ledger_views import stash_upload
from groups.models import PartyGroup
from members.enums import CommitteePost, MemberStatus
from members.models import Branch, DuesPayment, ThoughtReport
from partygroup.months import add_months, month_label, month_start
from tests import factories as f
from tests.import_files import xlsx_bytes
from tests.org_tree import ROLES, build_tree

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

TODAY = timezone.localdate()
THIS_MONTH = month_start(TODAY)
LAST_MONTH = add_months(THIS_MONTH, -1)
LOGIN = reverse("login")
HEADERS = ("姓名", "身份证号后四位", "月份", "应交金额", "实交金额", "交纳日期")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads waiting for their confirmation go to a fresh directory per test."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tree(db):
    tree = build_tree()
    # are tracked from the ledger start: half a year ago for every branch.
    Branch.objects.update(ledger_start_on=add_months(THIS_MONTH, -6))
    for branch in tree.branches.values():
        branch.refresh_from_db()
    return tree


def login(client, tree, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(tree.users[role])


def row_counts() -> dict[str, int]:
    """Rows of every model of the members and groups apps (historical models included)."""
    return {
        f"{label}.{m.__name__}": m._default_manager.count()
        for label in ("members", "groups")
        for m in apps.get_app_config(label).get_models()
    }


def only(*roles: str, ok: int = 200, forbidden: tuple[str, ...] = ()) -> dict[str, int]:
    """Expected statuses: ``ok`` for ``roles``, 403 for ``forbidden``, 302 for anonymous, else 404."""
    expected = {}
    for role in ROLES:
        if role == "anonymous":
            expected[role] = 302
        elif role in roles:
            expected[role] = ok
        elif role in forbidden:
            expected[role] = 403
        else:
            expected[role] = 404
    return expected


def month_q(month: dt.date) -> str:
    return f"?month={month:%Y-%m}"


def dues_url(group, month: dt.date | None = None) -> str:
    return reverse("ledger:dues_month", args=[group.pk]) + (month_q(month) if month else "")


def dues_post(members_paid: dict, *, unpaid=(), paid_on: dt.date = TODAY) -> dict[str, str]:
    """The month form as posted: ``members_paid`` member → (due, paid) filled; ``unpaid`` left empty."""
    data: dict[str, str] = {}
    cards = list(members_paid.items()) + [(m, None) for m in unpaid]
    for index, (member, amounts) in enumerate(cards):
        prefix = f"dues-{index}-"
        data[prefix + "member"] = str(member.pk)
        data[prefix + "amount_due"] = str(amounts[0]) if amounts else "50.00"
        data[prefix + "amount_paid"] = str(amounts[1]) if amounts else ""
        data[prefix + "paid_on"] = paid_on.isoformat()
        data[prefix + "note"] = ""
    data.update(
        {
            "dues-TOTAL_FORMS": str(len(cards)),
            "dues-INITIAL_FORMS": str(len(cards)),
            "dues-MIN_NUM_FORMS": "0",
            "dues-MAX_NUM_FORMS": "1000",
        }
    )
    return data


def dues_rows() -> set[tuple]:
    return set(DuesPayment.objects.values_list("member__name", "month", "amount_due", "amount_paid"))


def dues_file(rows: list[dict]) -> io.BytesIO:
    upload = io.BytesIO(xlsx_bytes(rows, HEADERS, like_excel=False))
    upload.name = "党费.xlsx"
    return upload


def file_row(member, month: dt.date, **overrides) -> dict:
    values = {
        "姓名": member.name,
        "身份证号后四位": member.id_number[-4:],
        "月份": f"{month:%Y-%m}",
        "应交金额": "50.00",
        "实交金额": "50.00",
        "交纳日期": TODAY.isoformat(),
    }
    values.update(overrides)
    return values


# --- Permission matrix ----------------------------------------------------------------------------

COMMITTEE_A = ("superuser", "secretary_a", "propaganda_a")
ORG_STAFF_A = ("staff_top", "staff_mid")
READ_GROUP_A1 = only(*COMMITTEE_A, *ORG_STAFF_A, "leader_a1", forbidden=("member_a1",))
WRITE_GROUP_A1 = only(*COMMITTEE_A, "leader_a1", forbidden=(*ORG_STAFF_A, "member_a1"))
WRITE_GROUP_A1_DONE = only(*COMMITTEE_A, "leader_a1", ok=302, forbidden=(*ORG_STAFF_A, "member_a1"))
READ_GROUP_C1 = only("superuser", "staff_other", "secretary_c")
WRITE_GROUP_C1 = only("superuser", "secretary_c", forbidden=("staff_other",))
WRITE_GROUP_C1_DONE = only("superuser", "secretary_c", ok=302, forbidden=("staff_other",))
IN_BRANCH_A = ("leader_a1", "leader_a2", "member_a1")
READ_BRANCH_A = only(*COMMITTEE_A, *ORG_STAFF_A, forbidden=IN_BRANCH_A)
WRITE_BRANCH_A = only(*COMMITTEE_A, forbidden=(*ORG_STAFF_A, *IN_BRANCH_A))
WRITE_BRANCH_A_DONE = only(*COMMITTEE_A, ok=302, forbidden=(*ORG_STAFF_A, *IN_BRANCH_A))


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    expected: dict[str, int]


CASES = [
    Case("dues_get_own", "get", READ_GROUP_A1),
    Case("dues_get_other", "get", READ_GROUP_C1),
    Case("dues_post_own", "post", WRITE_GROUP_A1_DONE),
    Case("dues_post_other", "post", WRITE_GROUP_C1_DONE),
    Case("arrears_own", "get", READ_GROUP_A1),
    Case("arrears_other", "get", READ_GROUP_C1),
    Case("reports_own", "get", READ_GROUP_A1),
    Case("reports_other", "get", READ_GROUP_C1),
    Case("record_get_own", "get", WRITE_GROUP_A1),
    Case("record_post_own", "post", WRITE_GROUP_A1_DONE),
    Case("record_post_other", "post", WRITE_GROUP_C1_DONE),
    Case("template_own", "get", WRITE_GROUP_A1),
    Case("template_other", "get", WRITE_GROUP_C1),
    Case("import_get_own", "get", WRITE_GROUP_A1),
    Case("import_preview_own", "post", WRITE_GROUP_A1),
    Case("import_preview_other", "post", WRITE_GROUP_C1),
    Case("import_confirm_own", "post", WRITE_GROUP_A1_DONE),
    Case("import_confirm_other", "post", WRITE_GROUP_C1_DONE),
    Case("branch_own", "get", READ_BRANCH_A),
    Case("branch_other", "get", only("superuser", "staff_other", "secretary_c")),
    Case("branch_template_own", "get", WRITE_BRANCH_A),
    Case("branch_import_get_own", "get", WRITE_BRANCH_A),
    Case("branch_import_preview_own", "post", WRITE_BRANCH_A),
    Case("branch_import_preview_other", "post", WRITE_GROUP_C1),
    Case("branch_import_confirm_own", "post", WRITE_BRANCH_A_DONE),
    Case("branch_import_confirm_other", "post", WRITE_GROUP_C1_DONE),
    # 党员乙 is in group a1 (leader_a1's); member_a1 is 党员甲, who sees only themself.
    Case("member_own", "get", only(*COMMITTEE_A, *ORG_STAFF_A, "leader_a1")),
    Case("member_other", "get", READ_GROUP_C1),
    Case("member_self", "get", only(*COMMITTEE_A, *ORG_STAFF_A, "leader_a1", "member_a1")),
]


def _target(tree, case: Case, role: str) -> tuple[str, dict]:
    """URL and POST data of ``case``; a write that succeeds gets a month of its own per role."""
    own = "_own" in case.name or case.name.endswith("_self")
    group = tree.groups["a1" if own else "c1"]
    branch = tree.branches["A" if own else "C"]
    member = tree.members["党员乙" if own else "党员己"]
    month = add_months(LAST_MONTH, -ROLES.index(role))  # distinct per role: never paid twice
    kind = case.name.rsplit("_", 1)[0]
    if kind == "dues_get":
        return dues_url(group), {}
    if kind == "dues_post":
        return dues_url(group, month), dues_post({member: ("50.00", "50.00")})
    if kind == "arrears":
        return reverse("ledger:group_arrears", args=[group.pk]), {}
    if kind == "reports":
        return reverse("ledger:group_reports", args=[group.pk]), {}
    if kind in ("record_get", "record_post"):
        data = {"member": member.pk, "received_on": TODAY.isoformat(), "kind": "oral", "summary": "学习体会"}
        return reverse("ledger:report_record", args=[group.pk]), data
    if kind == "template":
        return reverse("ledger:group_template", args=[group.pk]) + month_q(month), {}
    if kind == "branch_template":
        return reverse("ledger:branch_template", args=[branch.pk]) + month_q(month), {}
    if kind in ("import_get", "import_preview"):
        data = {"month": f"{month:%Y-%m}", "upload": dues_file([file_row(member, month)])}
        return reverse("ledger:group_import", args=[group.pk]), data
    if kind in ("branch_import_get", "branch_import_preview"):
        data = {"month": f"{month:%Y-%m}", "upload": dues_file([file_row(member, month)])}
        return reverse("ledger:branch_import", args=[branch.pk]), data
    if kind in ("import_confirm", "branch_import_confirm"):
        scope, name, obj = (
            ("group", "ledger:group_import_confirm", group)
            if kind == "import_confirm"
            else ("branch", "ledger:branch_import_confirm", branch)
        )
        token = ""
        if role != "anonymous":
            data = xlsx_bytes([file_row(member, month)], HEADERS, like_excel=False)
            token = stash_upload(
                data, suffix=".xlsx", user=tree.users[role], scope=f"{scope}:{obj.pk}", month=month
            )
        return reverse(name, args=[obj.pk]), {"token": token}
    if kind == "branch":
        return reverse("ledger:branch", args=[branch.pk]), {}
    if case.name == "member_self":
        return reverse("ledger:member", args=[tree.members["党员甲"].pk]), {}
    if kind == "member":
        return reverse("ledger:member", args=[member.pk]), {}
    raise AssertionError(case.name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_permission_matrix_each_role_gets_its_status_and_refusals_change_nothing(tree, client, case):
    actual = {}
    for role in ROLES:
        url, data = _target(tree, case, role)
        login(client, tree, role)
        before = row_counts()
        response = client.post(url, data) if case.method == "post" else client.get(url)
        actual[role] = response.status_code
        if role == "anonymous":
            assert response["Location"].startswith(LOGIN), response["Location"]
        if case.method == "post" and response.status_code == 302 and role != "anonymous":
            assert row_counts() != before, role  # the write happened
            continue
        if case.method == "post":
            assert row_counts() == before, role
    assert actual == case.expected


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("dues_month", "put"),
        ("group_arrears", "post"),
        ("group_reports", "post"),
        ("report_record", "delete"),
        ("group_template", "post"),
        ("group_import", "put"),
        ("group_import_confirm", "get"),
        ("branch", "post"),
        ("branch_import", "delete"),
        ("branch_import_confirm", "get"),
        ("branch_template", "post"),
        ("member", "post"),
        ("home", "post"),
    ],
)
def test_wrong_method_is_405_and_changes_nothing(tree, client, name, method):
    if name.startswith("branch"):
        args = [tree.branches["A"].pk]
    elif name == "member":
        args = [tree.members["党员乙"].pk]
    elif name == "home":
        args = []
    else:
        args = [tree.groups["a1"].pk]
    login(client, tree, "superuser")
    before = row_counts()
    assert getattr(client, method)(reverse(f"ledger:{name}", args=args)).status_code == 405
    assert row_counts() == before


def test_bad_ids_are_404(tree, client):
    login(client, tree, "superuser")
    missing = 10**9
    for name in ("dues_month", "group_arrears", "group_reports", "report_record", "group_import"):
        assert client.get(reverse(f"ledger:{name}", args=[missing])).status_code == 404, name
    for name in ("branch", "branch_import", "branch_template"):
        assert client.get(reverse(f"ledger:{name}", args=[missing])).status_code == 404, name
    assert client.get(reverse("ledger:member", args=[missing])).status_code == 404


def test_plain_member_reads_only_their_own_page(tree, client):
    login(client, tree, "member_a1")
    own = tree.members["党员甲"]
    response = client.get(reverse("ledger:member", args=[own.pk]))
    assert response.status_code == 200
    assert response.context["is_self"] is True
    for other in ("党员乙", "组长甲", "党员丙"):
        assert client.get(reverse("ledger:member", args=[tree.members[other].pk])).status_code == 404
    assert client.get(dues_url(tree.groups["a1"])).status_code == 403


# --- the monthly collection screen ----------------------------------------------------------


def test_dues_month_lists_the_roster_with_payments_and_prefills_the_last_amount_due_r31(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    f.DuesPaymentFactory(member=m["党员甲"], month=add_months(LAST_MONTH, -2), amount_due="36.00")
    f.DuesPaymentFactory(member=m["党员甲"], month=add_months(LAST_MONTH, -1), amount_due="42.00")
    f.DuesPaymentFactory(member=m["党员乙"], month=LAST_MONTH, amount_due="80.00", amount_paid="60.00")
    login(client, tree, "leader_a1")
    response = client.get(dues_url(group, LAST_MONTH))
    assert response.status_code == 200
    cards = response.context["cards"]
    assert [c.member.name for c in cards] == sorted(["组长甲", "党员甲", "党员乙"])
    recorded = {c.member.name: c.payment.amount_paid for c in cards if c.payment}
    assert recorded == {"党员乙": Decimal("60.00")}
    initial = {c.member.name: c.form.initial["amount_due"] for c in cards if c.form}
    assert initial == {"党员甲": Decimal("42.00"), "组长甲": ""}
    assert response.context["totals"].recorded == 1
    body = response.content.decode()
    assert "未交齐" in body  # 60 of 80: not settled
    assert month_label(LAST_MONTH) in body


def test_dues_month_defaults_to_this_month_and_reads_a_bad_month_as_this_month(tree, client):
    login(client, tree, "leader_a1")
    assert client.get(dues_url(tree.groups["a1"])).context["month"] == THIS_MONTH
    response = client.get(dues_url(tree.groups["a1"]) + "?month=2025-13")
    assert response.context["month"] == THIS_MONTH
    assert "月份“2025-13”不存在" in response.content.decode()


def test_dues_month_saves_the_filled_cards_in_one_go_r31(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    login(client, tree, "leader_a1")
    data = dues_post(
        {m["党员甲"]: ("50.00", "50.00"), m["党员乙"]: ("80", "60.5")}, unpaid=[m["组长甲"]], paid_on=TODAY
    )
    response = client.post(dues_url(group, LAST_MONTH), data)
    assert response.status_code == 302
    assert response["Location"] == dues_url(group, LAST_MONTH)
    assert dues_rows() == {
        ("党员甲", LAST_MONTH, Decimal("50.00"), Decimal("50.00")),
        ("党员乙", LAST_MONTH, Decimal("80.00"), Decimal("60.50")),
    }
    assert set(DuesPayment.objects.values_list("collected_by", flat=True)) == {tree.users["leader_a1"].pk}
    assert DuesPayment.history.count() == 2
    page = client.get(response["Location"])
    assert "已登记" in page.content.decode()


@pytest.mark.parametrize(
    ("amounts", "field", "message"),
    [
        (("50.00", "-5"), "amount_paid", "实交金额不能为负数。"),
        (("50.00", "12000"), "amount_paid", "超过每月上限10,000.00元"),
        (("50.00", "abc"), "amount_paid", "实交金额“abc”不是有效的数字。"),
        (("50.00", "1.005"), "amount_paid", "实交金额最多保留2位小数。"),
        (("", "50.00"), "amount_due", "请填写应交金额。"),
    ],
)
def test_dues_month_one_bad_card_saves_nothing_r31(tree, client, amounts, field, message):
    group = tree.groups["a1"]
    m = tree.members
    login(client, tree, "leader_a1")
    before = row_counts()
    data = dues_post({m["党员甲"]: ("50.00", "50.00"), m["党员乙"]: amounts})
    response = client.post(dues_url(group, LAST_MONTH), data)
    assert response.status_code == 200
    assert row_counts() == before
    assert DuesPayment.objects.count() == 0
    bad = next(c for c in response.context["cards"] if c.member.name == "党员乙")
    assert any(message in e for e in bad.form.errors[field]), bad.form.errors
    good = next(c for c in response.context["cards"] if c.member.name == "党员甲")
    assert not good.form.errors
    assert message in response.content.decode()


def test_dues_month_before_joining_is_refused_r31(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    late = m["党员乙"]
    late.joined_on = TODAY.replace(day=1)
    late.full_member_on = None
    late.status = MemberStatus.PROBATIONARY
    late.save()
    login(client, tree, "leader_a1")
    data = dues_post({m["党员甲"]: ("50.00", "50.00"), late: ("10.00", "10.00")})
    response = client.post(dues_url(group, LAST_MONTH), data)
    assert response.status_code == 200
    assert DuesPayment.objects.count() == 0
    assert f"{month_label(LAST_MONTH)}在该党员入党" in response.content.decode()


def test_dues_month_paying_twice_is_refused_and_nothing_saved_r31(tree, client):
    """A stale page: 党员乙's month was recorded meanwhile (in another tab); the whole save is refused."""
    group = tree.groups["a1"]
    m = tree.members
    f.DuesPaymentFactory(member=m["党员乙"], month=LAST_MONTH, paid_on=LAST_MONTH)
    login(client, tree, "leader_a1")
    before = dues_rows()
    data = dues_post({m["党员甲"]: ("50.00", "50.00"), m["党员乙"]: ("50.00", "50.00")})
    response = client.post(dues_url(group, LAST_MONTH), data)
    assert response.status_code == 200
    assert dues_rows() == before
    assert "不能重复交纳（R-31）" in response.content.decode()
    assert "党员甲" not in {name for name, *_ in dues_rows()}


def test_dues_month_member_outside_the_group_is_refused(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    login(client, tree, "leader_a1")
    data = dues_post({m["党员甲"]: ("50.00", "50.00"), m["党员丙"]: ("50.00", "50.00")})  # 党员丙: a2
    response = client.post(dues_url(group, LAST_MONTH), data)
    assert response.status_code == 200
    assert DuesPayment.objects.count() == 0
    assert "该党员不在本党小组本月的名单中。" in response.content.decode()


def test_dues_month_with_nothing_filled_saves_nothing(tree, client):
    m = tree.members
    login(client, tree, "leader_a1")
    response = client.post(dues_url(tree.groups["a1"], LAST_MONTH), dues_post({}, unpaid=[m["党员甲"]]))
    assert response.status_code == 200
    assert DuesPayment.objects.count() == 0
    assert "请至少填写一名党员的实交金额" in response.content.decode()


def test_dues_month_is_read_only_for_org_staff(tree, client):
    login(client, tree, "staff_mid")
    response = client.get(dues_url(tree.groups["a1"]))
    assert response.status_code == 200
    assert response.context["can_collect"] is False
    assert response.context["formset"] is None
    assert 'name="dues-TOTAL_FORMS"' not in response.content.decode()


# --- arrears -------------------------------------------------------------------------------


def test_group_arrears_lists_each_members_unpaid_months_r31(tree, client):
    m = tree.members
    first = add_months(THIS_MONTH, -6)
    tracked = [add_months(first, i) for i in range(6)]  # the ledger start … last month
    for month in tracked:
        f.DuesPaymentFactory(member=m["党员甲"], month=month)
    for month in tracked[:-2]:
        f.DuesPaymentFactory(member=m["党员乙"], month=month)
    f.DuesPaymentFactory(member=m["组长甲"], month=tracked[0], amount_due="50.00", amount_paid="20.00")
    login(client, tree, "leader_a1")
    response = client.get(reverse("ledger:group_arrears", args=[tree.groups["a1"].pk]))
    assert response.status_code == 200
    counts = {member.name: (a.count if a else 0) for member, a in response.context["rows"]}
    assert counts == {"党员甲": 0, "党员乙": 2, "组长甲": 6}
    assert response.context["members_in_arrears"] == 2
    assert response.context["months_in_arrears"] == 8
    assert response.context["shortfall"] == Decimal("30.00")
    assert next(member.name for member, _a in response.context["rows"]) == "组长甲"  # most months first


def test_member_page_shows_own_arrears_and_reports(tree, client):
    m = tree.members
    f.DuesPaymentFactory(member=m["党员甲"], month=LAST_MONTH)
    f.ThoughtReportFactory(member=m["党员甲"], received_on=TODAY, kind="oral")
    login(client, tree, "member_a1")
    response = client.get(reverse("ledger:member", args=[m["党员甲"].pk]))
    arrears = response.context["arrears"]
    assert arrears.months == tuple(add_months(THIS_MONTH, -6 + i) for i in range(5))
    assert [p.month for p in response.context["payments"]] == [LAST_MONTH]
    assert response.context["status"].last_report == TODAY
    assert response.context["status"].overdue is False
    assert arrears.label in response.content.decode()


# --- the import (dry run, confirm) ----------------------------------------------------------


def test_import_dry_run_lists_every_bad_row_and_writes_nothing(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    login(client, tree, "leader_a1")
    rows = [
        file_row(m["党员甲"], LAST_MONTH),
        file_row(m["党员乙"], LAST_MONTH, 实交金额="-3"),
        file_row(m["党员丙"], LAST_MONTH),  # group a2
        file_row(m["组长甲"], LAST_MONTH, 交纳日期="2025-02-30"),
    ]
    before = row_counts()
    response = client.post(
        reverse("ledger:group_import", args=[group.pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": dues_file(rows)},
    )
    assert response.status_code == 200
    assert row_counts() == before
    errors = {(e.row, e.column) for e in response.context["report"].errors}
    assert errors == {(3, "实交金额"), (4, "姓名"), (5, "交纳日期")}
    assert response.context["confirm_form"] is None
    body = response.content.decode()
    assert "实交金额不能为负数。" in body
    assert "未登记任何党费" in body
    assert "第4行" in body


def test_import_preview_then_confirm_writes_the_whole_file(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    login(client, tree, "leader_a1")
    rows = [file_row(m["党员甲"], LAST_MONTH), file_row(m["党员乙"], LAST_MONTH, 实交金额="30")]
    response = client.post(
        reverse("ledger:group_import", args=[group.pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": dues_file(rows)},
    )
    assert response.status_code == 200
    assert DuesPayment.objects.count() == 0  # a dry run
    assert [r.name for r in response.context["shown_rows"]] == ["党员甲", "党员乙"]
    token = response.context["confirm_form"].initial["token"]
    confirm = client.post(reverse("ledger:group_import_confirm", args=[group.pk]), {"token": token})
    assert confirm.status_code == 302
    assert confirm["Location"] == dues_url(group, LAST_MONTH)
    assert dues_rows() == {
        ("党员甲", LAST_MONTH, Decimal("50.00"), Decimal("50.00")),
        ("党员乙", LAST_MONTH, Decimal("50.00"), Decimal("30.00")),
    }
    # The token is spent: a second confirmation writes nothing more.
    again = client.post(reverse("ledger:group_import_confirm", args=[group.pk]), {"token": token})
    assert again.status_code == 200
    assert "预检结果已过期或无效" in again.content.decode()
    assert DuesPayment.objects.count() == 2


def test_import_confirm_after_a_payment_meanwhile_writes_nothing(tree, client):
    group = tree.groups["a1"]
    m = tree.members
    login(client, tree, "leader_a1")
    rows = [file_row(m["党员甲"], LAST_MONTH), file_row(m["党员乙"], LAST_MONTH)]
    response = client.post(
        reverse("ledger:group_import", args=[group.pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": dues_file(rows)},
    )
    token = response.context["confirm_form"].initial["token"]
    f.DuesPaymentFactory(member=m["党员乙"], month=LAST_MONTH, paid_on=LAST_MONTH)
    before = dues_rows()
    confirm = client.post(reverse("ledger:group_import_confirm", args=[group.pk]), {"token": token})
    assert confirm.status_code == 200
    assert dues_rows() == before
    assert "不能重复交纳（R-31）" in confirm.content.decode()


def test_import_confirm_refuses_a_token_of_another_user_or_scope(tree, client):
    group = tree.groups["a1"]
    member = tree.members["党员甲"]
    data = xlsx_bytes([file_row(member, LAST_MONTH)], HEADERS, like_excel=False)
    theirs = stash_upload(
        data, suffix=".xlsx", user=tree.users["secretary_a"], scope=f"group:{group.pk}", month=LAST_MONTH
    )
    other_scope = stash_upload(
        data, suffix=".xlsx", user=tree.users["leader_a1"], scope=f"group:{group.pk + 1}", month=LAST_MONTH
    )
    login(client, tree, "leader_a1")
    for token in (theirs, other_scope, theirs + "x", ""):
        response = client.post(reverse("ledger:group_import_confirm", args=[group.pk]), {"token": token})
        assert response.status_code == 200
        assert "预检结果已过期或无效" in response.content.decode()
    assert DuesPayment.objects.count() == 0


def test_import_upload_over_the_size_limit_is_refused(tree, client, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    login(client, tree, "leader_a1")
    upload = io.BytesIO(b"x" * 4096)
    upload.name = "党费.xlsx"
    response = client.post(
        reverse("ledger:group_import", args=[tree.groups["a1"].pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": upload},
    )
    assert response.status_code == 200
    assert "超过上限2 KB" in response.content.decode()
    assert response.context["report"] is None


def test_import_over_the_row_limit_is_refused(tree, client, settings):
    settings.UPLOAD_MAX_ROWS = 1
    m = tree.members
    login(client, tree, "leader_a1")
    rows = [file_row(m["党员甲"], LAST_MONTH), file_row(m["党员乙"], LAST_MONTH)]
    response = client.post(
        reverse("ledger:group_import", args=[tree.groups["a1"].pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": dues_file(rows)},
    )
    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors["upload"]
    assert DuesPayment.objects.count() == 0


def test_import_refuses_another_file_type(tree, client):
    login(client, tree, "leader_a1")
    upload = io.BytesIO(b"name\n")
    upload.name = "党费.txt"
    response = client.post(
        reverse("ledger:group_import", args=[tree.groups["a1"].pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": upload},
    )
    assert response.context["form"].errors["upload"] == ["只能导入 .xlsx 或 .csv 文件。"]


def test_branch_import_by_the_committee_covers_every_group(tree, client):
    branch = tree.branches["A"]
    m = tree.members
    login(client, tree, "secretary_a")
    rows = [
        file_row(m["党员甲"], LAST_MONTH),
        file_row(m["党员丙"], LAST_MONTH),
        file_row(m["未编组"], LAST_MONTH),
    ]
    response = client.post(
        reverse("ledger:branch_import", args=[branch.pk]),
        {"month": f"{LAST_MONTH:%Y-%m}", "upload": dues_file(rows)},
    )
    token = response.context["confirm_form"].initial["token"]
    confirm = client.post(reverse("ledger:branch_import_confirm", args=[branch.pk]), {"token": token})
    assert confirm["Location"] == reverse("ledger:branch", args=[branch.pk])
    assert {name for name, *_ in dues_rows()} == {"党员甲", "党员丙", "未编组"}


def test_group_template_is_the_months_roster_with_the_last_amount_due(tree, client):
    m = tree.members
    f.DuesPaymentFactory(member=m["党员甲"], month=add_months(LAST_MONTH, -1), amount_due="42.00")
    login(client, tree, "leader_a1")
    response = client.get(reverse("ledger:group_template", args=[tree.groups["a1"].pk]) + month_q(LAST_MONTH))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("姓名", "身份证号后四位", "月份", "应交金额")
    by_name = {row[0]: row for row in values[1:]}
    assert set(by_name) == {"组长甲", "党员甲", "党员乙"}
    assert by_name["党员甲"][2] == f"{LAST_MONTH:%Y-%m}"
    assert Decimal(str(by_name["党员甲"][3])) == Decimal("42.00")


# --- thought reports -----------------------------------------------------------------------


def test_report_record_saves_the_report(tree, client):
    group = tree.groups["a1"]
    member = tree.members["党员乙"]
    login(client, tree, "leader_a1")
    response = client.post(
        reverse("ledger:report_record", args=[group.pk]),
        {
            "member": member.pk,
            "received_on": TODAY.isoformat(),
            "kind": "written",
            "period_start": f"{add_months(THIS_MONTH, -2):%Y-%m}",
            "period_end": f"{THIS_MONTH:%Y-%m}",
            "summary": "本季度学习和工作情况",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:group_reports", args=[group.pk])
    assert list(
        ThoughtReport.objects.values_list("member__name", "kind", "period_start", "period_end", "received_by")
    ) == [("党员乙", "written", add_months(THIS_MONTH, -2), THIS_MONTH, tree.users["leader_a1"].pk)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"received_on": (TODAY + dt.timedelta(days=1)).isoformat()},
            "received_on",
            "汇报日期不能晚于今天。",
        ),
        (
            {"period_start": f"{THIS_MONTH:%Y-%m}", "period_end": f"{add_months(THIS_MONTH, -1):%Y-%m}"},
            "period_end",
            "汇报期间的结束月份不能早于开始月份。",
        ),
        ({"summary": "   "}, "summary", "请填写汇报的主要内容。"),
        ({"member": "党员丙"}, "member", "选择一个有效的选项"),  # group a2's member
    ],
)
def test_report_record_refusals_save_nothing_r30(tree, client, overrides, field, message):
    group = tree.groups["a1"]
    data = {
        "member": tree.members["党员乙"].pk,
        "received_on": TODAY.isoformat(),
        "kind": "oral",
        "summary": "汇报",
    }
    if overrides.get("member"):
        overrides = {**overrides, "member": tree.members[overrides["member"]].pk}
    data.update(overrides)
    login(client, tree, "leader_a1")
    before = row_counts()
    response = client.post(reverse("ledger:report_record", args=[group.pk]), data)
    assert response.status_code == 200
    assert row_counts() == before
    assert any(message in str(e) for e in response.context["form"].errors[field]), response.context[
        "form"
    ].errors


def test_report_statuses_flag_overdue_and_missing_written_reports_r30(tree, client):
    m = tree.members
    probationary = m["党员乙"]
    probationary.status = MemberStatus.PROBATIONARY
    probationary.joined_on = add_months(THIS_MONTH, -12)
    probationary.full_member_on = None
    probationary.save()
    # 党员甲 reported this month (orally): on time. 组长甲 last reported five months ago: overdue.
    f.ThoughtReportFactory(member=m["党员甲"], received_on=TODAY, kind="oral")
    f.ThoughtReportFactory(member=m["组长甲"], received_on=add_months(THIS_MONTH, -5), kind="written")
    # 党员乙 (probationary) reported orally this month: not overdue, but no written report last quarter.
    f.ThoughtReportFactory(member=probationary, received_on=TODAY, kind="oral")
    login(client, tree, "secretary_a")
    response = client.get(reverse("ledger:group_reports", args=[tree.groups["a1"].pk]))
    flags = {r.member.name: (r.status.overdue, r.status.written_overdue) for r in response.context["rows"]}
    assert flags == {"党员甲": (False, False), "组长甲": (True, False), "党员乙": (False, True)}
    assert response.context["overdue"] == 1
    assert response.context["written_overdue"] == 1
    assert response.context["can_record"] is True
    row = next(r for r in response.context["rows"] if r.member.name == "党员乙")
    assert row.written_label.endswith("季度")
    assert f"{row.written_label}缺书面汇报" in response.content.decode()
    assert {r.member.name for r in response.context["recent"]} == {"党员甲", "组长甲", "党员乙"}


def test_report_statuses_read_only_for_org_staff(tree, client):
    login(client, tree, "staff_top")
    response = client.get(reverse("ledger:group_reports", args=[tree.groups["a1"].pk]))
    assert response.context["can_record"] is False
    assert reverse("ledger:report_record", args=[tree.groups["a1"].pk]) not in response.content.decode()


# --- The branch overview -------------------------------------------------------------------------


def test_branch_overview_sums_each_group_and_the_members_in_no_group(tree, client):
    m = tree.members
    first = add_months(THIS_MONTH, -6)
    for i in range(6):
        f.DuesPaymentFactory(member=m["党员甲"], month=add_months(first, i))
    f.DuesPaymentFactory(member=m["党员丙"], month=THIS_MONTH, paid_on=TODAY)
    f.ThoughtReportFactory(member=m["党员甲"], received_on=TODAY)
    login(client, tree, "staff_mid")
    response = client.get(reverse("ledger:branch", args=[tree.branches["A"].pk]))
    rows = {r.group.name: r for r in response.context["rows"]}
    assert set(rows) == {"办公室第一党小组", "办公室第二党小组"}
    a1, a2 = rows["办公室第一党小组"], rows["办公室第二党小组"]
    assert (a1.members, a1.members_in_arrears, a1.months_in_arrears, a1.paid_this_month) == (3, 2, 12, 0)
    assert (a2.members, a2.members_in_arrears, a2.months_in_arrears, a2.paid_this_month) == (3, 3, 18, 1)
    # Nobody but 党员甲 reported: everyone else is overdue (tracked six months ago, due after three).
    assert (a1.reports_overdue, a2.reports_overdue) == (2, 3)
    unplaced = response.context["unplaced"]
    assert unplaced.members == 2  # 未编组 and 宣传委员
    assert response.context["total"].members == 8
    assert response.context["total"].members_in_arrears == 7
    assert response.context["can_import"] is False


# --- Entry and links -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("leader_a1", ("dues_month", "a1")),
        ("secretary_c", ("branch", "C")),
        ("member_a1", ("member", "党员甲")),
    ],
)
def test_home_goes_to_the_users_one_ledger_page(tree, client, role, target):
    name, key = target
    obj = {"dues_month": tree.groups, "branch": tree.branches, "member": tree.members}[name][key]
    login(client, tree, role)
    response = client.get(reverse("ledger:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(f"ledger:{name}", args=[obj.pk])


def test_home_offers_a_choice_to_a_secretary_who_also_leads_a_group(tree, client):
    f.LeaderAppointmentFactory(
        group=tree.groups["a2"], member=tree.members["书记甲"], role="deputy", started_on=dt.date(2023, 1, 1)
    )
    login(client, tree, "secretary_a")
    response = client.get(reverse("ledger:home"))
    assert response.status_code == 200
    assert [g.name for g in response.context["groups"]] == ["办公室第二党小组"]
    assert [b.name for b in response.context["branches"]] == ["财政局办公室党支部"]


def test_home_without_any_ledger_is_403(tree, client):
    client.force_login(f.UserFactory(username="nobody"))
    assert client.get(reverse("ledger:home")).status_code == 403


def test_leaders_workspace_and_members_page_link_to_the_ledger(tree, client):
    login(client, tree, "leader_a1")
    workspace = client.get(reverse("workspace:home")).content.decode()
    group = tree.groups["a1"]
    for url in (
        reverse("ledger:dues_month", args=[group.pk]),
        reverse("ledger:group_reports", args=[group.pk]),
        reverse("ledger:home"),
    ):
        assert url in workspace, url
    login(client, tree, "member_a1")
    me = client.get(reverse("dashboard:me")).content.decode()
    assert reverse("ledger:member", args=[tree.members["党员甲"].pk]) in me
    login(client, tree, "secretary_a")
    dashboard = client.get(reverse("dashboard:branch", args=[tree.branches["A"].pk])).content.decode()
    assert reverse("ledger:branch", args=[tree.branches["A"].pk]) in dashboard


# --- Flat query counts ---------------------------------------------------------------------------


def _group_with(size: int):
    """A branch (tracked, with a secretary) whose one group has ``size`` members, each with a payment
    last month and a report; the leader's user."""
    org = f.OrganisationFactory()
    branch = f.BranchFactory(organisation=org, ledger_start_on=add_months(THIS_MONTH, -6))
    group = f.PartyGroupFactory(branch=branch)
    members = [f.GroupMembershipFactory(group=group).member for _ in range(size)]
    f.LeaderAppointmentFactory(group=group, member=members[0])
    for member in members:
        f.DuesPaymentFactory(member=member, month=add_months(LAST_MONTH, -1))
        f.ThoughtReportFactory(member=member, received_on=TODAY)
    secretary = f.MemberFactory(branch=branch)
    f.CommitteeMembershipFactory(member=secretary, post=CommitteePost.SECRETARY)
    return group, f.user_for(members[0]), members


def _queries(client, user, url: str, data: dict | None = None) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url) if data is None else client.post(url, data)
    assert response.status_code in (200, 302), response.status_code
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["dues_month", "group_arrears", "group_reports"])
def test_group_pages_query_count_is_flat(db, client, page):
    small, small_user, _ = _group_with(1)
    large, large_user, _ = _group_with(20)
    assert _queries(client, small_user, reverse(f"ledger:{page}", args=[small.pk])) == _queries(
        client, large_user, reverse(f"ledger:{page}", args=[large.pk])
    )


def test_dues_month_save_query_count_is_flat(db, client):
    counts = []
    for size in (1, 20):
        group, user, members = _group_with(size)
        data = dues_post(dict.fromkeys(members, ("50.00", "50.00")))
        counts.append(_queries(client, user, dues_url(group, LAST_MONTH), data))
        assert DuesPayment.objects.filter(member__in=members, month=LAST_MONTH).count() == size
    assert counts[0] == counts[1]


def _branch_with(groups: int):
    org = f.OrganisationFactory()
    branch = f.BranchFactory(organisation=org, ledger_start_on=add_months(THIS_MONTH, -6))
    for _ in range(groups):
        group = f.PartyGroupFactory(branch=branch)
        for member in [f.GroupMembershipFactory(group=group).member for _ in range(3)]:
            f.DuesPaymentFactory(member=member, month=LAST_MONTH)
            f.ThoughtReportFactory(member=member, received_on=TODAY)
    secretary = f.MemberFactory(branch=branch)
    f.CommitteeMembershipFactory(member=secretary, post=CommitteePost.SECRETARY)
    return branch, f.user_for(secretary)


def test_branch_overview_query_count_is_flat(db, client):
    small, small_user = _branch_with(1)
    large, large_user = _branch_with(20)
    assert PartyGroup.objects.filter(branch=large).count() == 20
    assert _queries(client, small_user, reverse("ledger:branch", args=[small.pk])) == _queries(
        client, large_user, reverse("ledger:branch", args=[large.pk])
    )

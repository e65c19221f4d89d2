"""Tests of members/admin.py (and partygroup/admin.py's ScopedAdminMixin): scoped changelists,
masked personal data, and the import (preview → confirm) and export of members."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from groups.models import GroupMembership
from members.enums import CommitteePost, PersonalField
from members.models import DuesPayment, Member, Organisation, PersonalDataReveal, ThoughtReport, Unit
from tests import factories as f
from tests.import_files import HEADERS, csv_bytes, member_row, member_rows, xlsx_bytes

# whitenoise warns when STATIC_ROOT has not been collected (tests never run collectstatic).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

MEMBER_PERMS = ("view_member", "change_member", "add_member", "view_unit", "view_personaldatareveal")


def make_staff(user, *codenames):
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="members", codename__in=codenames)
    )
    return user


@pytest.fixture
def secretary(world, client):
    make_staff(world.secretary, *MEMBER_PERMS)
    client.force_login(world.secretary)
    return client


@pytest.fixture
def org_staff(world, client):
    make_staff(world.org_staff, "view_member", "view_unit")
    client.force_login(world.org_staff)
    return client


@pytest.fixture
def superuser(client, db):
    user = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def changelist_names(response) -> set[str]:
    return {m.name for m in response.context["cl"].result_list}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Scoping ---------------------------------------------------------------------------------------
def test_member_changelist_of_a_secretary_lists_only_the_branchs_members(world, secretary):
    response = secretary.get(reverse("admin:members_member_changelist"))

    assert response.status_code == 200
    assert changelist_names(response) == set(
        Member.objects.filter(branch=world.branch).values_list("name", flat=True)
    )
    assert world.other_branch.members.get().name not in changelist_names(response)


def test_member_change_page_of_another_branch_redirects_to_the_index_as_not_found(world, secretary):
    other = world.other_branch.members.get()

    response = secretary.get(reverse("admin:members_member_change", args=[other.pk]))

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert messages_of(response) == [f"ID 为“{other.pk}”的 党员 不存在。可能已经被删除了？"]


def test_member_history_pages_of_another_branch_are_forbidden(world, secretary):
    other = world.other_branch.members.get()
    other.name = "改名"
    other.save()
    version = other.history.latest().history_id

    history = secretary.get(reverse("admin:members_member_history", args=[other.pk]))
    version_page = secretary.get(reverse("admin:members_member_simple_history", args=[other.pk, version]))

    assert (history.status_code, version_page.status_code) == (403, 403)


def test_member_changelist_of_org_staff_lists_the_subtree(world, org_staff):
    response = org_staff.get(reverse("admin:members_member_changelist"))

    assert changelist_names(response) == set(
        Member.objects.filter(branch=world.branch).values_list("name", flat=True)
    )


def test_member_changelist_branch_filter_offers_only_visible_branches(world, org_staff):
    sibling = f.BranchFactory(organisation=world.branch.organisation, name="第二支部")
    f.MemberFactory(branch=sibling)

    response = org_staff.get(reverse("admin:members_member_changelist"))

    branch_filter = next(s for s in response.context["cl"].filter_specs if s.title == "党支部")
    assert sorted(label for _, label in branch_filter.lookup_choices) == sorted(["办公室党支部", "第二支部"])


def test_unit_changelist_is_scoped_to_the_branch(world, secretary):
    own = f.UnitFactory(branch=world.branch, name="本支部单位")
    f.UnitFactory(branch=world.other_branch, name="他支部单位")

    response = secretary.get(reverse("admin:members_unit_changelist"))

    assert {u.name for u in response.context["cl"].result_list} == {own.name}


def test_member_search_matches_names_and_whole_id_numbers_only(world, secretary):
    member = world.members[1]
    url = reverse("admin:members_member_changelist")

    by_name = secretary.get(url, {"q": member.name})
    by_id = secretary.get(url, {"q": member.id_number})
    by_digits = secretary.get(url, {"q": member.id_number[6:14]})

    assert member.name in changelist_names(by_name)
    assert changelist_names(by_id) == {member.name}
    assert changelist_names(by_digits) == set()  # no probing of ID numbers by fragments


def test_member_change_page_is_read_only_for_org_staff(world, org_staff):
    member = world.members[1]
    url = reverse("admin:members_member_change", args=[member.pk])

    page = org_staff.get(url)
    post = org_staff.post(url, {"name": "改名", "branch": world.branch.pk})

    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert post.status_code == 403
    member.refresh_from_db()
    assert member.name != "改名"


def _branch_with_secretary(world, size: int):
    branch = f.BranchFactory(organisation=world.branch.organisation)
    unit = f.UnitFactory(branch=branch)
    secretary_member = f.MemberFactory(branch=branch, unit=unit)
    f.CommitteeMembershipFactory(member=secretary_member, post=CommitteePost.SECRETARY)
    for _ in range(size - 1):
        f.MemberFactory(branch=branch, unit=unit)
    return make_staff(f.user_for(secretary_member, f"secretary{size}"), *MEMBER_PERMS)


def test_member_changelist_query_count_is_flat_with_1_and_20_members(world, client):
    def queries(size: int) -> int:
        client.force_login(_branch_with_secretary(world, size))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("admin:members_member_changelist"))
        assert len(response.context["cl"].result_list) == size
        return len(captured.captured_queries)

    assert queries(1) == queries(20)


# --- Masking ---------------------------------------------------------------------------------------
def test_member_changelist_shows_id_numbers_and_phones_masked(world, secretary):
    member = world.members[1]

    content = secretary.get(reverse("admin:members_member_changelist")).content.decode()

    assert member.masked_id_number in content and member.masked_phone in content
    assert member.id_number not in content and member.phone not in content


def test_member_change_page_shows_full_values_to_the_secretary_and_logs_the_reveal(world, secretary):
    member = world.members[1]

    response = secretary.get(
        reverse("admin:members_member_change", args=[member.pk]), REMOTE_ADDR="127.0.0.1"
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert (form["id_number"].value(), form["phone"].value()) == (member.id_number, member.phone)
    assert set(
        PersonalDataReveal.objects.values_list("user", "member", "field", "context", "ip_address")
    ) == {
        (world.secretary.pk, member.pk, PersonalField.ID_NUMBER, "管理后台", "127.0.0.1"),
        (world.secretary.pk, member.pk, PersonalField.PHONE, "管理后台", "127.0.0.1"),
    }


def test_member_change_page_masks_personal_data_for_org_staff_without_the_right(world, org_staff):
    member = world.members[1]

    response = org_staff.get(reverse("admin:members_member_change", args=[member.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert member.masked_id_number in content and member.masked_phone in content
    assert member.id_number not in content and member.phone not in content
    assert "id_number" not in response.context["adminform"].form.fields
    assert PersonalDataReveal.objects.count() == 0


def test_member_history_page_masks_changed_personal_data_for_org_staff(world, org_staff):
    member = world.members[1]
    old_phone = member.phone
    member.phone = "13811112222"
    member.save()

    content = org_staff.get(reverse("admin:members_member_history", args=[member.pk])).content.decode()

    assert "138****2222" in content
    assert "13811112222" not in content and old_phone not in content


def test_member_saved_in_the_admin_records_the_user_in_history(world, secretary):
    member = world.members[1]
    url = reverse("admin:members_member_change", args=[member.pk])
    form = secretary.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "user"}
    data.update({"name": "改名喆", "branch": world.branch.pk, "unit": "", "left_on": "", "email": ""})
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}

    response = secretary.post(url, data)

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "改名喆"
    assert list(
        member.history.values_list("name", "history_user__username", "history_change_reason")[:1]
    ) == [("改名喆", "secretary", "管理后台修改")]


# --- Import through the admin ----------------------------------------------------------------------
def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_import(client, world, data: bytes, name="members.xlsx", fmt="0", branch=None):
    return client.post(
        reverse("admin:members_member_import"),
        {
            "resource": "0",
            "format": fmt,
            "branch": (branch or world.branch).pk,
            "import_file": upload(name, data),
        },
    )


def test_admin_import_previews_then_imports_on_confirm(world, secretary):
    rows = member_rows(3, groups=["第一党小组"], units=["新处"])

    preview = post_import(secretary, world, xlsx_bytes(rows))

    assert preview.status_code == 200
    result = preview.context["result"]
    assert [r.import_type for r in result.rows] == ["new", "new", "new"]
    assert [r.diff[0] for r in result.rows] == [r["姓名"] for r in rows]
    assert result.rows[0].diff[8] == rows[0]["身份证号"][:6] + "********" + rows[0]["身份证号"][-4:]
    assert result.report.new_units == ["新处"]
    content = preview.content.decode()
    assert "将新建单位：新处" in content and rows[0]["身份证号"] not in content
    assert not Member.objects.filter(id_number__in=[r["身份证号"] for r in rows]).exists()
    confirm = preview.context["confirm_form"]

    done = secretary.post(reverse("admin:members_member_process_import"), confirm.initial)

    assert done.status_code == 302
    assert done.url == reverse("admin:members_member_changelist")
    assert set(
        Member.objects.filter(id_number__in=[r["身份证号"] for r in rows]).values_list(
            "name", "branch", "unit__name"
        )
    ) == {(r["姓名"], world.branch.pk, "新处") for r in rows}
    assert GroupMembership.objects.filter(member__id_number__in=[r["身份证号"] for r in rows]).count() == 3
    assert messages_of(done) == [
        "导入完成：共3行，已新增党员3名，更新0名，无变化0名，新建单位1个（新处），编入党小组3名。"
    ]


def test_admin_import_page_describes_the_file_format(world, secretary):
    response = secretary.get(reverse("admin:members_member_import"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "、".join(HEADERS) in content
    assert "单次最多 50000 行、10 MB" in content
    assert list(response.context["form"].fields["branch"].queryset) == [world.branch]


def test_admin_import_confirm_writes_nothing_when_the_data_changed_since_the_preview(world, secretary):
    rows = member_rows(2, units=["新处"])
    preview = post_import(secretary, world, xlsx_bytes(rows))
    confirm = preview.context["confirm_form"]
    # Meanwhile the second ID number is registered in another branch.
    f.MemberFactory(branch=world.other_branch, id_number=rows[1]["身份证号"])
    before = (Member.objects.count(), Unit.objects.count())

    done = secretary.post(reverse("admin:members_member_process_import"), confirm.initial)

    assert done.status_code == 302
    assert done.url == reverse("admin:members_member_import")
    assert messages_of(done) == [
        "未导入任何数据。第3行【身份证号】该身份证号已登记在其他党支部的党员名下，不能导入到本支部（请先办理组织关系转接）。"
    ]
    assert (Member.objects.count(), Unit.objects.count()) == before


def test_admin_import_preview_lists_bad_rows_and_offers_no_confirmation(world, secretary):
    rows = [member_row(0), member_row(1, 性别="未知"), member_row(2, 所在党小组="不存在的小组")]
    before = (Member.objects.count(), Unit.objects.count(), GroupMembership.objects.count())

    response = post_import(secretary, world, xlsx_bytes(rows))

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    invalid = response.context["result"].invalid_rows
    assert [(r.number, r.error_dict) for r in invalid] == [
        (3, {"性别": ["性别只能填写“男”或“女”。"]}),
        (
            4,
            {
                "所在党小组": [
                    "本支部没有名为“不存在的小组”的现有党小组（已撤销或尚未建立的党小组不能编入）。"
                ]
            },
        ),
    ]
    assert "共3行数据，其中2行有错误（2处），未导入任何数据。" in response.content.decode()
    assert (Member.objects.count(), Unit.objects.count(), GroupMembership.objects.count()) == before


def test_admin_import_of_a_csv_file(world, secretary):
    response = post_import(
        secretary, world, csv_bytes(member_rows(2), encoding="gb18030"), name="m.csv", fmt="1"
    )

    assert [r.import_type for r in response.context["result"].rows] == ["new", "new"]


def test_admin_import_refuses_a_file_over_the_size_limit(world, secretary, settings):
    settings.UPLOAD_MAX_BYTES = 1024

    response = post_import(secretary, world, xlsx_bytes(member_rows(20)))

    errors = response.context["form"].errors["import_file"]
    assert (
        len(errors) == 1
        and errors[0].startswith("文件大小为")
        and errors[0].endswith("超过上限1 KB，请拆分后分批导入。")
    )


def test_admin_import_refuses_a_file_over_the_row_limit(world, secretary, settings):
    settings.UPLOAD_MAX_ROWS = 2

    response = post_import(secretary, world, xlsx_bytes(member_rows(3)))

    assert response.context["form"].errors["import_file"] == [
        "文件的数据行超过2行（单次导入上限），请拆分后分批导入。"
    ]


def test_admin_import_refuses_a_wrong_header_as_a_form_error(world, secretary):
    response = post_import(secretary, world, xlsx_bytes(member_rows(1), headers=HEADERS[:-1]))

    assert response.context["form"].errors["import_file"] == [
        "表头（第1行）不正确：缺少列：所在党小组。表头应为：姓名、性别、出生日期、党员类别、入党日期、转正日期、"
        "所在单位、手机号码、身份证号、所在党小组。"
    ]


def test_admin_import_offers_only_the_branches_the_user_manages(world, secretary):
    response = post_import(secretary, world, xlsx_bytes(member_rows(1)), branch=world.other_branch)

    assert list(response.context["form"].fields["branch"].queryset) == [world.branch]
    assert "branch" in response.context["form"].errors
    assert not Member.objects.filter(branch=world.other_branch).exclude(
        pk=world.other_branch.members.get().pk
    )


def test_admin_import_is_not_offered_to_org_staff_without_a_committee_post(world, org_staff):
    response = org_staff.get(reverse("admin:members_member_import"))

    assert response.status_code == 403


# --- Export through the admin ----------------------------------------------------------------------
def post_export(client, **extra):
    return client.post(reverse("admin:members_member_export"), {"resource": "0", "format": "0", **extra})


def exported_rows(response) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_admin_export_is_masked_and_scoped_by_default(world, secretary):
    response = post_export(secretary)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="members-')
    rows = exported_rows(response)
    assert rows[0] == list(HEADERS)
    members = Member.objects.filter(branch=world.branch).order_by("branch", "name", "id")
    assert [(r[0], r[8]) for r in rows[1:]] == [(m.name, m.masked_id_number) for m in members]
    assert PersonalDataReveal.objects.count() == 0


def test_admin_export_with_reveal_shows_full_values_and_logs_them(world, secretary):
    response = post_export(secretary, reveal="on")

    members = Member.objects.filter(branch=world.branch).order_by("branch", "name", "id")
    assert [(r[0], r[8]) for r in exported_rows(response)[1:]] == [(m.name, m.id_number) for m in members]
    assert set(PersonalDataReveal.objects.values_list("member", "context")) == {
        (m.pk, "导出") for m in members
    }


# --- The other screens -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model",
    ["ruleset", "organisation", "branch", "unit", "member", "committeemembership", "organisationstaff"],
)
def test_superuser_opens_changelist_and_add_page(world, superuser, model):
    assert superuser.get(reverse(f"admin:members_{model}_changelist")).status_code == 200
    assert superuser.get(reverse(f"admin:members_{model}_add")).status_code == 200


def test_organisation_admin_adds_a_root_node_through_the_move_node_form(superuser, db):
    response = superuser.post(
        reverse("admin:members_organisation_add"),
        {
            "name": "新工委",
            "kind": "work_committee",
            "rule_set": "",
            "treebeard_position": "first-child",
            "treebeard_ref_node": "",
        },
    )

    assert response.status_code == 302
    node = Organisation.objects.get(name="新工委")
    assert node.depth == 1
    # treebeard inserts the node, then the admin saves it once more: both rows name the user.
    assert list(
        node.history.order_by("history_id").values_list("history_type", "history_user__username")
    ) == [
        ("+", "root"),
        ("~", "root"),
    ]


def test_personal_data_reveal_log_is_read_only(world, secretary):
    reveal = PersonalDataReveal.objects.create(
        user=world.secretary, member=world.members[1], field=PersonalField.ID_NUMBER, context="导出"
    )

    listing = secretary.get(reverse("admin:members_personaldatareveal_changelist"))
    add = secretary.get(reverse("admin:members_personaldatareveal_add"))
    change = secretary.get(reverse("admin:members_personaldatareveal_change", args=[reveal.pk]))

    assert listing.status_code == 200
    assert add.status_code == 403
    assert change.status_code == 200 and not change.context["has_change_permission"]


# --- Members' duties (R-30 … R-33) -----------------------------------------------------------------
DUTY_PERMS = ("view_duespayment", "add_duespayment", "view_thoughtreport", "add_thoughtreport")


@pytest.fixture
def dues_secretary(world, client):
    make_staff(world.secretary, *DUTY_PERMS)
    client.force_login(world.secretary)
    return client


def test_dues_changelist_is_scoped_to_the_branch_r31(world, dues_secretary):
    own = f.DuesPaymentFactory(member=world.members[1])
    f.DuesPaymentFactory(member=world.other_branch.members.get())
    response = dues_secretary.get(reverse("admin:members_duespayment_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]


def test_dues_added_in_the_admin_goes_through_the_service_r31(world, dues_secretary):
    member = world.members[1]
    data = {
        "member": member.pk,
        "month": "2025-03-17",
        "amount_due": "50.00",
        "amount_paid": "50.00",
        "paid_on": "2025-03-20",
        "note": "",
    }
    response = dues_secretary.post(reverse("admin:members_duespayment_add"), data)
    assert response.status_code == 302
    payment = DuesPayment.objects.get()
    assert (payment.member, payment.month, payment.collected_by) == (
        member,
        dt.date(2025, 3, 1),
        world.secretary,
    )
    again = dues_secretary.post(reverse("admin:members_duespayment_add"), data | {"amount_paid": "60.00"})
    assert again.status_code == 200
    assert again.context["adminform"].form.errors == {
        "month": [f"“{member.name}”2025年3月的党费已于2025-03-20交纳（实交50.00元），不能重复交纳（R-31）。"]
    }
    assert DuesPayment.objects.count() == 1


def test_dues_change_page_is_read_only_and_cannot_be_deleted_r31(world, dues_secretary):
    payment = f.DuesPaymentFactory(member=world.members[1])
    url = reverse("admin:members_duespayment_change", args=[payment.pk])
    response = dues_secretary.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert dues_secretary.post(url, {"amount_paid": "1.00"}).status_code == 403
    assert (
        dues_secretary.post(reverse("admin:members_duespayment_delete", args=[payment.pk])).status_code == 403
    )
    payment.refresh_from_db()
    assert payment.amount_paid == Decimal("50.00")


def test_dues_of_another_branch_are_not_found_in_the_admin(world, dues_secretary):
    other = f.DuesPaymentFactory(member=world.other_branch.members.get())
    response = dues_secretary.get(reverse("admin:members_duespayment_change", args=[other.pk]))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_dues_changelist_query_count_is_flat_with_1_and_20_rows(world, dues_secretary):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert dues_secretary.get(reverse("admin:members_duespayment_changelist")).status_code == 200
        return len(ctx.captured_queries)

    f.DuesPaymentFactory(member=world.members[1], month=dt.date(2024, 1, 1))
    one = count()
    for month in range(2, 13):
        for member in world.members[1:3]:
            f.DuesPaymentFactory(member=member, month=dt.date(2024, month, 1))
    assert count() == one


def test_thought_report_added_in_the_admin_is_refused_with_the_reason_r30(world, dues_secretary):
    response = dues_secretary.post(
        reverse("admin:members_thoughtreport_add"),
        {
            "member": world.members[1].pk,
            "received_on": "2025-04-03",
            "kind": "written",
            "period_start": "2025-03-01",
            "period_end": "2025-05-01",
            "summary": "汇报",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"period_end": ["汇报期间不能晚于汇报日期所在月份。"]}
    assert not ThoughtReport.objects.exists()

"""Tests of members/models.py: masking, Member.clean() (the member rules the import reuses),
rule-set inheritance (R-37) and the constraints' Chinese messages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.enums import MemberState, MemberStatus
from members.models import Member, Organisation, mask_id_number, mask_phone
from tests import factories as f

D = dt.date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010519491231002X", "110105********002X"),
        ("1234567890", "**********"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number_keeps_region_and_last_four(value, expected):
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "138****8000"),
        ("+8613800138000", "+86138****8000"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone_hides_the_middle_four_digits(value, expected):
    assert mask_phone(value) == expected


def test_member_masked_properties_use_the_mask_functions(db):
    member = f.MemberFactory.build(id_number="11010519491231002X", phone="13800138000")
    assert (member.masked_id_number, member.masked_phone) == ("110105********002X", "138****8000")


def clean_errors(member: Member) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        member.clean()
    return exc.value.message_dict


def valid_member(**overrides) -> Member:
    branch = f.BranchFactory()
    values = {
        "branch": branch,
        "name": "张喆",
        "gender": "F",
        "birth_date": D(1949, 12, 31),
        "id_number": "11010519491231002x",
        "phone": "138 0013 8000",
        "status": MemberStatus.FULL,
        "joined_on": D(1975, 7, 1),
        "full_member_on": D(1976, 7, 1),
    }
    values.update(overrides)
    return Member(**values)


def test_member_clean_normalises_id_number_and_phone(db):
    member = valid_member()
    member.full_clean()
    assert (member.id_number, member.phone) == ("11010519491231002X", "13800138000")


def test_member_clean_turns_an_empty_id_number_into_null(db):
    member = valid_member(id_number="")
    member.clean()
    assert member.id_number is None


TOMORROW = timezone.localdate() + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"birth_date": TOMORROW, "id_number": None, "joined_on": None, "full_member_on": None},
            {"birth_date": ["出生日期不能晚于今天。"]},
        ),
        (
            {"birth_date": D(1949, 12, 30)},
            {"birth_date": ["出生日期与身份证号中的出生日期（1949-12-31）不一致。"]},
        ),
        ({"joined_on": TOMORROW, "full_member_on": None}, {"joined_on": ["入党日期不能晚于今天。"]}),
        (
            {"joined_on": D(1949, 12, 31), "full_member_on": None},
            {"joined_on": ["入党日期必须晚于出生日期。"]},
        ),
        (
            {"status": MemberStatus.PROBATIONARY, "joined_on": None, "full_member_on": None},
            {"joined_on": ["预备党员必须填写入党日期。"]},
        ),
        ({"status": MemberStatus.PROBATIONARY}, {"full_member_on": ["预备党员不应有转正日期。"]}),
        ({"full_member_on": TOMORROW}, {"full_member_on": ["转正日期不能晚于今天。"]}),
        ({"full_member_on": D(1975, 6, 30)}, {"full_member_on": ["转正日期不能早于入党日期。"]}),
        ({"state": MemberState.LEFT}, {"left_on": ["离册党员必须填写离册日期。"]}),
        ({"left_on": D(2020, 1, 1)}, {"left_on": ["在册党员不应有离册日期。"]}),
    ],
)
def test_member_clean_refuses_inconsistent_dates_and_states(db, overrides, errors):
    assert clean_errors(valid_member(**overrides)) == errors


def test_member_clean_refuses_a_unit_of_another_branch(db):
    member = valid_member(unit=f.UnitFactory())
    assert clean_errors(member) == {"unit": ["所在单位不属于该党员的党支部。"]}


def test_member_valid_passes_full_clean(db):
    valid_member().full_clean()


def test_id_number_is_unique_across_branches_with_a_chinese_message(db):
    existing = f.MemberFactory()
    duplicate = valid_member(id_number=existing.id_number, birth_date=existing.birth_date)
    with pytest.raises(ValidationError) as exc:
        duplicate.validate_unique()
    assert exc.value.message_dict == {"id_number": ["具有 身份证号 的 党员 已存在。"]}


def test_was_full_member_on_uses_the_full_membership_date(db):
    member = valid_member()
    assert member.was_full_member_on(D(1976, 7, 1))
    assert not member.was_full_member_on(D(1976, 6, 30))
    assert not valid_member(status=MemberStatus.PROBATIONARY).was_full_member_on(D(2000, 1, 1))
    assert valid_member(full_member_on=None).was_full_member_on(D(1900, 1, 1))


def test_organisation_rule_set_is_inherited_from_the_nearest_ancestor(db):
    """R-37: a child without its own rule set works under its ancestor's (else the 2019 rules)."""
    loudi = f.rule_set("loudi-2023")
    root = f.OrganisationFactory(name="工委")
    middle = f.OrganisationFactory(name="机关党委", parent=root, rule_set=loudi)
    leaf = f.OrganisationFactory(name="党总支", parent=Organisation.objects.get(pk=middle.pk))

    assert root.effective_rule_set().code == "central-2019"
    assert Organisation.objects.get(pk=leaf.pk).effective_rule_set() == loudi


def test_committee_membership_refuses_a_member_of_another_branch(db):
    membership = f.CommitteeMembershipFactory.build(member=f.MemberFactory(), branch=f.BranchFactory())
    with pytest.raises(ValidationError) as exc:
        membership.clean()
    assert exc.value.message_dict == {"member": ["支委会成员必须是本支部党员。"]}

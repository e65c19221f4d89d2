"""Tests of members/validators.py: ID numbers (GB 11643-1999), mobile numbers, names."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from members.validators import (
    id_check_digit,
    id_number_birth_date,
    id_number_gender,
    normalise_id_number,
    normalise_phone,
    validate_id_number,
    validate_mobile,
    validate_person_name,
)

# The sample number of GB 11643-1999 (check character X).
SAMPLE_ID = "11010519491231002X"


def error_of(validator, value) -> tuple[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        validator(value)
    return exc.value.code, exc.value.messages


def test_id_check_digit_of_the_standards_sample_is_x():
    assert id_check_digit(SAMPLE_ID[:17]) == "X"


@pytest.mark.parametrize("value", [SAMPLE_ID, SAMPLE_ID.lower(), f" {SAMPLE_ID[:9]} {SAMPLE_ID[9:]} "])
def test_validate_id_number_accepts_valid_numbers_after_normalising(value):
    validate_id_number(value)
    assert normalise_id_number(value) == SAMPLE_ID


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("11010519491231002", "id_format", "身份证号应为18位（最后一位可为X）。"),
        ("1101051949123100XX", "id_format", "身份证号应为18位（最后一位可为X）。"),
        ("110105194902300021", "id_birth", "身份证号中的出生日期无效。"),
        ("110105194912310021", "id_checksum", "身份证号校验位错误，请核对。"),
    ],
)
def test_validate_id_number_refuses_bad_numbers_with_a_chinese_message(value, code, message):
    assert error_of(validate_id_number, value) == (code, [message])


def test_id_number_birth_date_and_gender_come_from_the_number():
    assert id_number_birth_date(SAMPLE_ID) == dt.date(1949, 12, 31)
    assert id_number_birth_date("110105194902300021") is None
    assert id_number_gender(SAMPLE_ID) == "F"  # 17th digit 2: even
    assert id_number_gender("110105194912310010") == "M"


@pytest.mark.parametrize(
    "value", ["13800138000", "+8613800138000", "8613800138000", "138-0013-8000", "138 0013 8000"]
)
def test_validate_mobile_accepts_mainland_mobile_numbers(value):
    validate_mobile(value)


@pytest.mark.parametrize(
    "value", ["12800138000", "1380013800", "138001380000", "010-12345678", "+85261234567"]
)
def test_validate_mobile_refuses_other_numbers(value):
    assert error_of(validate_mobile, value) == ("phone", ["手机号码应为11位中国大陆手机号（可带+86）。"])


def test_normalise_phone_removes_spaces_and_dashes():
    assert normalise_phone(" 138-0013 8000 ") == "13800138000"


@pytest.mark.parametrize("value", ["张喆", "王𠇔", "阿依古丽·买买提", "Zhang San", "欧阳-娜娜"])
def test_validate_person_name_accepts_rare_characters_and_minority_names(value):
    validate_person_name(value)


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "name_empty", "姓名不能为空。"),
        ("   ", "name_empty", "姓名不能为空。"),
        (" 张三", "name_space", "姓名前后不能有空格。"),
        ("张3", "name_char", "姓名含有不允许的字符“3”。"),
        ("=张三", "name_char", "姓名含有不允许的字符“=”。"),
    ],
)
def test_validate_person_name_refuses_empty_padded_or_odd_names(value, code, message):
    assert error_of(validate_person_name, value) == (code, [message])

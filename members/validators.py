"""Validators for personal data: resident ID numbers (GB 11643-1999), mobile numbers, names."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_NAME_EXTRA = {"·", "•", "-", " "}


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def id_number_birth_date(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except (ValueError, IndexError):
        return None


def id_number_gender(value: str) -> str:
    """'M' or 'F' from the 17th digit (odd = male)."""
    return "M" if int(value[16]) % 2 else "F"


def validate_id_number(value: str) -> None:
    value = normalise_id_number(value)
    if not _ID_RE.match(value):
        raise ValidationError(_("身份证号应为18位（最后一位可为X）。"), code="id_format")
    if id_number_birth_date(value) is None:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_birth")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("身份证号校验位错误，请核对。"), code="id_checksum")


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def validate_mobile(value: str) -> None:
    if not _MOBILE_RE.match(normalise_phone(value)):
        raise ValidationError(_("手机号码应为11位中国大陆手机号（可带+86）。"), code="phone")


def validate_person_name(value: str) -> None:
    """Chinese names, including rare characters outside the BMP (e.g. 𠇔), and minority names with ·."""
    value = value or ""
    if not value.strip():
        raise ValidationError(_("姓名不能为空。"), code="name_empty")
    if value != value.strip():
        raise ValidationError(_("姓名前后不能有空格。"), code="name_space")
    for char in value:
        if char in _NAME_EXTRA:
            continue
        category = unicodedata.category(char)
        if not category.startswith("L"):
            raise ValidationError(_("姓名含有不允许的字符“%(char)s”。") % {"char": char}, code="name_char")

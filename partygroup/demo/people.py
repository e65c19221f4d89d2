"""Realistic, deterministic personal data for demo and benchmark members.

ID numbers follow GB 11643-1999 (region, birth date, sequence whose parity gives the gender, check
digit from ``members.validators.id_check_digit``) and are unique within one ``IdNumbers``. Region
codes are those of 娄底市 (Loudi) and its counties.
"""

from __future__ import annotations

import datetime as dt
import random

from members.enums import Gender
from members.validators import id_check_digit


def words(text: str) -> tuple[str, ...]:
    """A tuple of the space-separated words of ``text`` (long lists of names stay readable)."""
    return tuple(text.split())


# 娄星区、双峰县、新化县、冷水江市、涟源市
LOUDI_REGIONS = ("431302", "431321", "431322", "431381", "431382")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向汤"
)
GIVEN_MALE = words(
    "伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 斌 波 浩 宇 凯 建华 志强 晓东 文博 国平 建军 海波 立新 俊杰 子豪 "
    "明轩 浩然 喆 堃 振宇 志明 卫东 湘平 湘军 胜利 建国 新民"
)
GIVEN_FEMALE = words(
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 婷 雪 琳 倩 颖 琰 璐 萍 秀英 桂英 海燕 秀兰 丽娟 晓红 雨萱 思琪 梦瑶 欣怡 "
    "佳慧 美玲 湘云 玉兰 春梅 红梅 慧敏 丹丹"
)
MOBILE_PREFIXES = words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 157 158 159 166 173 175 177 180 181 182 183 185 "
    "186 187 188 189 199"
)


class IdNumbers:
    """Hands out valid, unique resident ID numbers; the same calls give the same numbers."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def __len__(self) -> int:
        return len(self._used)

    def make(self, *, birth: dt.date, gender: str, region: str, start: int = 0) -> str:
        # The 3-digit sequence: odd for men, even for women, so 500 numbers per region, day and gender.
        parity = 1 if gender == Gender.MALE else 0
        for step in range(500):
            seq = ((start + step) % 500) * 2 + parity
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self._used:
                self._used.add(number)
                return number
        raise RuntimeError(f"身份证号顺序码已用尽：{region} {birth:%Y-%m-%d}")


def random_name(rng: random.Random, gender: str) -> str:
    given = GIVEN_MALE if gender == Gender.MALE else GIVEN_FEMALE
    return rng.choice(SURNAMES) + rng.choice(given)


def random_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def random_date(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def party_dates(birth: dt.date, offset: int) -> tuple[dt.date, dt.date]:
    """A full member's joining and full-membership dates: joined at 22–27, full one year later."""
    joined = dt.date(birth.year + 22 + offset % 6, 1 + (birth.month + offset) % 12, 1 + offset % 28)
    return joined, joined.replace(year=joined.year + 1)

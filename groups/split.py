"""The split suggestion: propose a division of a branch's members into groups, and accept it (R-05).

- ``suggest_split`` is a pure function (no database): members and a rule set in, a ``SplitResult`` out —
  either a partition into groups with names and leader candidates, or the reasons (Chinese) why no
  partition can satisfy the rules. It finds a partition whenever one exists (proof in docs/split.md).
- ``check_proposal`` is the same set of hard checks for a proposal the secretary may have adjusted.
- ``split_accept`` (service) re-checks a proposal and turns it into one recorded branch decision:
  the branch's current groups are dissolved, the new ones created with their members, each leader
  designated, all on one date and under one document number, in one transaction.

Rules: R-01 (20+ members → several groups), R-03 (≥ 3 members), R-04 (≥ 1 full member), R-07 (units
kept together, small units merged with a close one), R-08 (size guideline, a preference), R-09 (every
member in exactly one group), R-24 (leader is a full member), R-26 (generally the unit's head).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

from groups import services
from groups.enums import AppointmentMode, GroupChangeKind
from groups.models import GroupChange, LeaderAppointment, PartyGroup
from members.models import Branch, Member, Unit
from partygroup.findings import Finding

NAME_MAX_LENGTH = 120  # PartyGroup.name
_NAME_UNITS_SHOWN = 3  # "甲处、乙处、丙处等党小组"
_CLOSE_PREFIX = 2  # unit names sharing their first 2 characters are "close" (预算一科 / 预算二科)
_HEAD_TITLES = ("长", "主任", "负责人", "书记", "主席", "经理", "总监")
_MISSING_SHOWN = 10


class SplitRuleSet(Protocol):
    """What the split needs of a rule set (``members.models.RuleSet`` or any object with these fields)."""

    split_threshold: int
    min_group_members: int
    min_full_members: int
    size_guideline_enabled: bool
    size_guideline_min: int
    size_guideline_max: int


@dataclass(frozen=True)
class SplitMember:
    """A member as the split sees them (no database object needed)."""

    id: int
    name: str
    is_full: bool  # full member (正式党员) on the day the groups start
    unit_id: int | None = None
    unit_name: str | None = None
    is_leading_cadre: bool = False
    post: str = ""
    full_member_on: dt.date | None = None
    joined_on: dt.date | None = None


@dataclass(frozen=True)
class ProposedGroup:
    name: str
    member_ids: tuple[int, ...]
    leader_id: int | None


@dataclass(frozen=True)
class SplitBounds:
    """The hard bounds the split works with, derived from the rule set (docs/split.md §1)."""

    min_size: int  # max(min_group_members, min_full): a group holds at least its full members
    max_size: int  # size_guideline_max when enabled, else split_threshold − 1
    min_full: int  # max(min_full_members, 1): needs one full member to lead
    threshold: int  # from this many members, at least 2 groups
    preferred_min: int | None  # R-08 guideline minimum when enabled: a preference, not a bound
    max_rule: str  # the rule the maximum comes from, for messages

    @property
    def min_rule(self) -> str:
        return "R-03" if self.min_size > self.min_full else "R-03、R-04"


@dataclass(frozen=True)
class SplitResult:
    groups: tuple[ProposedGroup, ...]
    bounds: SplitBounds
    reasons: tuple[str, ...] = ()  # why no partition exists (Chinese); empty when ``groups`` is a proposal
    notes: tuple[str, ...] = ()  # advisories about the proposal, Chinese

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


def split_bounds(rule_set: SplitRuleSet) -> SplitBounds:
    min_full = max(1, rule_set.min_full_members)
    if rule_set.size_guideline_enabled:
        max_size, max_rule, preferred = rule_set.size_guideline_max, "R-08", rule_set.size_guideline_min
    else:
        max_size, max_rule, preferred = rule_set.split_threshold - 1, "R-01", None
    return SplitBounds(
        min_size=max(1, rule_set.min_group_members, min_full),
        max_size=max_size,
        min_full=min_full,
        threshold=rule_set.split_threshold,
        preferred_min=preferred,
        max_rule=max_rule,
    )


def feasible_group_counts(size: int, full: int, bounds: SplitBounds) -> range:
    """Every k for which k groups within the bounds exist: k·min ≤ n ≤ k·max and k·min_full ≤ F."""
    if size < 1 or bounds.min_size > bounds.max_size:
        return range(0)
    return range(
        max(1, -(-size // bounds.max_size)), min(size // bounds.min_size, full // bounds.min_full) + 1
    )


def _refusal_reasons(size: int, full: int, b: SplitBounds, requested: int | None) -> list[str]:
    lo, hi, fmin = b.min_size, b.max_size, b.min_full
    if lo > hi:
        return [
            f"规则集的要求相互矛盾：每个党小组至少{lo}名党员（{b.min_rule}），但最多{hi}名（{b.max_rule}），"
            "无法划分党小组。"
        ]
    if size == 0:
        return ["本支部没有在册党员，无法划分党小组。"]
    if requested is not None:
        k = requested
        if k < 1:
            return ["党小组个数至少为1个。"]
        reasons = []
        if size >= b.threshold and k < 2:
            reasons.append(
                f"本支部有{size}名党员，达到{b.threshold}人，应当划分2个以上党小组（R-01），不能只设{k}个党小组。"
            )
        if k * lo > size:
            reasons.append(
                f"党员人数不足：划分{k}个党小组至少需要{k * lo}名党员"
                f"（每个党小组不少于{lo}名，{b.min_rule}），本支部只有{size}名。"
            )
        if size > k * hi:
            reasons.append(
                f"党员人数过多：{k}个党小组最多容纳{k * hi}名党员（每个党小组不超过{hi}名，{b.max_rule}），"
                f"本支部有{size}名，至少应划分{-(-size // hi)}个党小组。"
            )
        if k * fmin > full:
            reasons.append(
                f"本支部只有{full}名正式党员，无法划分{k}个党小组（每个党小组至少{fmin}名正式党员，R-04）。"
            )
        return reasons
    need = 2 if size >= b.threshold else 1
    by_size_max = -(-size // hi)
    k_min = max(need, by_size_max)
    if k_min <= min(size // lo, full // fmin):
        return []
    problems = []
    if full // fmin < k_min:
        if k_min == 1:
            problems.append(
                f"本支部只有{full}名正式党员，每个党小组至少需要{fmin}名正式党员，"
                "预备党员不能单独组成党小组（R-04），无法组成党小组"
            )
        else:
            problems.append(
                f"本支部只有{full}名正式党员，无法划分{k_min}个以上党小组（每个党小组至少{fmin}名正式党员，R-04）"
            )
    if size // lo < k_min:
        if k_min == 1:
            problems.append(
                f"党员人数不足：本支部只有{size}名党员，每个党小组不少于{lo}名（{b.min_rule}），无法组成党小组"
            )
        else:
            problems.append(
                f"党员人数不足：划分{k_min}个党小组至少需要{k_min * lo}名党员"
                f"（每个党小组不少于{lo}名，{b.min_rule}），本支部只有{size}名"
            )
    if k_min == 1:
        return [p + "。" for p in problems]
    if by_size_max >= need:
        why = f"本支部有{size}名党员，每个党小组不超过{hi}名（{b.max_rule}），至少应划分{k_min}个党小组"
    else:
        why = f"本支部有{size}名党员，达到{b.threshold}人，应划分2个以上党小组（R-01）"
    return [f"{why}；但{'；'.join(problems)}。"]


def _unit_key(member: SplitMember) -> Hashable | None:
    if member.unit_id is not None:
        return ("id", member.unit_id)
    if member.unit_name:
        return ("name", member.unit_name)
    return None


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _is_head(post: str) -> bool:
    return bool(post) and "副" not in post and any(t in post for t in _HEAD_TITLES)


def _is_deputy_head(post: str) -> bool:
    return bool(post) and "副" in post and any(t in post for t in _HEAD_TITLES)


def _seniority(member: SplitMember) -> dt.date:
    return member.full_member_on or member.joined_on or dt.date.max


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if 1 <= n < 10:
        return digits[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


class _Plan:
    """A working partition: ``groups`` holds lists of indexes into ``people``."""

    def __init__(self, people: Sequence[SplitMember], bounds: SplitBounds):
        self.people = list(people)
        self.b = bounds
        self.unit = [_unit_key(p) for p in self.people]
        self.full = [p.is_full for p in self.people]
        self.unit_name: dict[Hashable, str] = {}
        for p, key in zip(self.people, self.unit, strict=True):
            if key is not None and key not in self.unit_name:
                self.unit_name[key] = p.unit_name or f"单位{p.unit_id}"
        self.groups: list[list[int]] = []

    # --- measures ---------------------------------------------------------------------------------
    def size(self, g: int) -> int:
        return len(self.groups[g])

    def fulls(self, g: int) -> int:
        return sum(1 for i in self.groups[g] if self.full[i])

    def units_in(self, g: int) -> Counter:
        return Counter(self.unit[i] for i in self.groups[g] if self.unit[i] is not None)

    def closeness(self, keys: Sequence[Hashable], g: int) -> int:
        """Longest shared name prefix (≥ 2 characters, else 0) between ``keys`` and the units of group g."""
        best = 0
        for key in keys:
            for other in self.units_in(g):
                if other != key:
                    best = max(best, _common_prefix(self.unit_name[key], self.unit_name[other]))
        return best if best >= _CLOSE_PREFIX else 0

    def _leader_order(self, i: int) -> tuple:
        p = self.people[i]
        return (not p.is_full, not p.is_leading_cadre, not _is_head(p.post), _seniority(p), i)

    # --- 1. greedy placement of units (R-07) -------------------------------------------------------
    def place_units(self) -> None:
        lo, hi = self.b.min_size, self.b.max_size
        by_unit: dict[Hashable, list[int]] = defaultdict(list)
        loose: list[int] = []
        for i, key in enumerate(self.unit):
            (loose if key is None else by_unit[key]).append(i)
        keys = sorted(by_unit, key=lambda k: (self.unit_name[k], str(k)))
        small = []
        for key in keys:
            members = by_unit[key]
            if len(members) < lo:
                small.append(key)
                continue
            # A large unit: as few groups as possible, full members dealt out evenly.
            chunks = -(-len(members) // hi)
            ordered = sorted(members, key=self._leader_order)
            self.groups.extend([ordered[c::chunks] for c in range(chunks)])
        # Small units (fewer than the minimum) join a close group, else the group that needs members most.
        small.sort(key=lambda k: (-len(by_unit[k]), self.unit_name[k], str(k)))
        for key in small:
            members = by_unit[key]
            fits = [g for g in range(len(self.groups)) if self.size(g) + len(members) <= hi]
            if not fits:
                self.groups.append(list(members))
                continue
            best = max(fits, key=lambda g: (self.closeness([key], g), self.size(g) < lo, -self.size(g), -g))
            self.groups[best].extend(members)
        # Members without a unit fill the smallest groups.
        for i in loose:
            fits = [g for g in range(len(self.groups)) if self.size(g) < hi]
            if not fits:
                self.groups.append([i])
                continue
            self.groups[min(fits, key=lambda g: (self.size(g), g))].append(i)

    # --- 2. the number of groups ---------------------------------------------------------------------
    def _merge(self, g: int, h: int) -> None:
        keep, drop = min(g, h), max(g, h)
        self.groups[keep].extend(self.groups[drop])
        del self.groups[drop]

    def _partner(self, g: int, *, must_fit: bool) -> int | None:
        keys = list(self.units_in(g))
        others = [h for h in range(len(self.groups)) if h != g]
        fitting = [h for h in others if self.size(g) + self.size(h) <= self.b.max_size]
        pool = fitting or ([] if must_fit else others)
        if not pool:
            return None
        return max(pool, key=lambda h: (self.closeness(keys, h), -self.size(h), -h))

    def _smallest(self) -> int:
        return min(range(len(self.groups)), key=lambda g: (self.size(g), -g))

    def prefer_guideline(self, lower: int) -> None:
        """R-08 (soft): merge groups below the guideline minimum while the merged group fits."""
        if not self.b.preferred_min:
            return
        for _ in range(len(self.groups)):
            if len(self.groups) <= lower:
                return
            g = self._smallest()
            if self.size(g) >= self.b.preferred_min:
                return
            h = self._partner(g, must_fit=True)
            if h is None:
                return
            self._merge(g, h)

    def reshape(self, k: int) -> None:
        for _ in range(len(self.groups)):
            if len(self.groups) <= k:
                break
            g = self._smallest()
            self._merge(g, self._partner(g, must_fit=False))
        for _ in range(k):
            if len(self.groups) >= k:
                break
            self._split(max(range(len(self.groups)), key=lambda g: (self.size(g), -g)))

    def _split(self, g: int) -> None:
        """Split group g in two: along unit lines when that gives two parts of the minimum size."""
        members = self.groups[g]
        blocks: dict[Hashable, list[int]] = defaultdict(list)
        for i in members:
            blocks[self.unit[i] if self.unit[i] is not None else ("loose", i)].append(i)
        ordered_blocks = sorted(blocks.values(), key=lambda b: (-len(b), b[0]))
        parts: list[list[int]] = [[], []]
        for block in ordered_blocks:
            min(parts, key=len).extend(block)
        if min(len(p) for p in parts) < min(self.b.min_size, len(members) // 2):
            # One unit dominates: cut the sequence of blocks in the middle, full members alternating
            # inside each block so the unit that is cut gives full members to both halves.
            sequence: list[int] = []
            for block in ordered_blocks:
                fulls = [i for i in block if self.full[i]]
                others = [i for i in block if not self.full[i]]
                for a in range(max(len(fulls), len(others))):
                    sequence.extend(x[a] for x in (fulls, others) if a < len(x))
            cut = (len(sequence) + 1) // 2
            parts = [sequence[:cut], sequence[cut:]]
        self.groups[g] = parts[0]
        self.groups.insert(g + 1, parts[1])

    def balance_loose(self) -> None:
        """Members without a unit even out the group sizes (they break no unit apart)."""
        for _ in range(len(self.people) ** 2):
            donors = [g for g in range(len(self.groups)) if any(self.unit[i] is None for i in self.groups[g])]
            if not donors:
                return
            src = max(donors, key=lambda g: (self.size(g), -g))
            dst = self._smallest()
            if self.size(src) - self.size(dst) <= 1:
                return
            loose = [i for i in self.groups[src] if self.unit[i] is None]
            # Keep the donor's full members when it has few; bring one to a receiver that has none.
            wanted = self.fulls(dst) < self.b.min_full and self.fulls(src) > self.b.min_full
            self._move(max(loose, key=lambda i: (self.full[i] == wanted, -i)), src, dst)

    # --- 3. repair moves ---------------------------------------------------------------------------
    def _move(self, i: int, src: int, dst: int) -> None:
        self.groups[src].remove(i)
        self.groups[dst].append(i)

    def repair_sizes(self) -> None:
        """Move one member at a time until every group is within [min, max] (docs/split.md §3, step A)."""
        lo, hi, fmin = self.b.min_size, self.b.max_size, self.b.min_full
        potential = sum(
            max(0, self.size(g) - hi) + max(0, lo - self.size(g)) for g in range(len(self.groups))
        )
        for _ in range(potential):
            over = [g for g in range(len(self.groups)) if self.size(g) > hi]
            under = [g for g in range(len(self.groups)) if self.size(g) < lo]
            if over:
                src = max(over, key=lambda g: (self.size(g), -g))
                targets = [g for g in range(len(self.groups)) if self.size(g) < hi]
                src_units, src_full = self.units_in(src), self.fulls(src)

                def score(pair, src_units=src_units, src_full=src_full, src=src):
                    i, dst = pair
                    unit = self.unit[i]
                    return (
                        not (self.full[i] and src_full <= fmin),
                        unit is not None and self.units_in(dst)[unit] > 0,
                        self.full[i] and self.fulls(dst) < fmin,
                        self.size(dst) < lo,
                        -src_units[unit] if unit is not None else 0,
                        -self.size(dst),
                        -dst,
                        -i,
                    )

                i, dst = max(((i, t) for i in self.groups[src] for t in targets), key=score)
            elif under:
                dst = min(under, key=lambda g: (self.size(g), g))
                donors = [g for g in range(len(self.groups)) if self.size(g) > lo]
                dst_units, dst_full = self.units_in(dst), self.fulls(dst)

                def score(pair, dst_units=dst_units, dst_full=dst_full):
                    i, src = pair
                    unit = self.unit[i]
                    return (
                        not (self.full[i] and self.fulls(src) <= fmin),
                        unit is not None and dst_units[unit] > 0,
                        self.full[i] and dst_full < fmin,
                        -self.units_in(src)[unit] if unit is not None else 0,
                        self.size(src),
                        -src,
                        -i,
                    )

                i, src = max(((i, d) for d in donors for i in self.groups[d]), key=score)
            else:
                return
            self._move(i, src, dst)
        if any(not lo <= self.size(g) <= hi for g in range(len(self.groups))):  # pragma: no cover
            raise AssertionError("repair_sizes did not converge; see docs/split.md §3")

    def repair_full(self) -> None:
        """Give every group its full members by moves or swaps that keep sizes in range (step B)."""
        lo, hi, fmin = self.b.min_size, self.b.max_size, self.b.min_full
        potential = sum(max(0, fmin - self.fulls(g)) for g in range(len(self.groups)))
        for _ in range(potential):
            short = [g for g in range(len(self.groups)) if self.fulls(g) < fmin]
            if not short:
                return
            dst = min(short, key=lambda g: (self.fulls(g), g))
            dst_units = self.units_in(dst)
            donors = [g for g in range(len(self.groups)) if self.fulls(g) > fmin]

            def score(pair, dst_units=dst_units, dst=dst):
                i, src = pair
                unit = self.unit[i]
                return (
                    self.size(src) > lo and self.size(dst) < hi,
                    unit is not None and dst_units[unit] > 0,
                    -self.units_in(src)[unit] if unit is not None else 0,
                    self.fulls(src),
                    -src,
                    -i,
                )

            i, src = max(((i, d) for d in donors for i in self.groups[d] if self.full[i]), key=score)
            if not (self.size(src) > lo and self.size(dst) < hi):
                src_units = self.units_in(src)
                back = max(
                    (j for j in self.groups[dst] if not self.full[j]),
                    key=lambda j: (
                        self.unit[j] is not None and src_units[self.unit[j]] > 0,
                        -dst_units[self.unit[j]] if self.unit[j] is not None else 0,
                        -j,
                    ),
                )
                self._move(back, dst, src)
            self._move(i, src, dst)
        if any(self.fulls(g) < fmin for g in range(len(self.groups))):  # pragma: no cover
            raise AssertionError("repair_full did not converge; see docs/split.md §3")

    # --- 4. names, leaders, notes ------------------------------------------------------------------
    def _main_unit(self, g: int) -> Hashable | None:
        units = self.units_in(g)
        if not units:
            return None
        return min(units, key=lambda u: (-units[u], self.unit_name[u], str(u)))

    def leader(self, g: int) -> int:
        """R-24: a full member; R-26: the head of the group's main unit, else of another unit in the group,
        else a leading cadre, else a deputy head, else the longest-standing full member."""
        main = self._main_unit(g)

        def rank(i: int) -> tuple:
            p = self.people[i]
            head = _is_head(p.post) and self.unit[i] is not None
            if head and self.unit[i] == main:
                level = 0
            elif head:
                level = 1
            elif p.is_leading_cadre:
                level = 2
            elif _is_deputy_head(p.post):
                level = 3
            else:
                level = 4
            return (level, _seniority(p), p.id)

        return min((i for i in self.groups[g] if self.full[i]), key=rank)

    def names(self) -> list[str]:
        totals: dict[Hashable, int] = Counter(u for u in self.unit if u is not None)
        home: dict[Hashable, int] = {}
        for u in totals:
            home[u] = max(range(len(self.groups)), key=lambda g, u=u: (self.units_in(g)[u], -g))
        bases = []
        for g in range(len(self.groups)):
            units = self.units_in(g)
            named = sorted(
                (u for u in units if home[u] == g), key=lambda u: (-units[u], self.unit_name[u], str(u))
            )
            if not named and units:
                named = [self._main_unit(g)]
            labels = [self.unit_name[u] for u in named]
            base = "、".join(labels[:_NAME_UNITS_SHOWN]) + ("等" if len(labels) > _NAME_UNITS_SHOWN else "")
            if len(base) > NAME_MAX_LENGTH - 12:
                base = base[: NAME_MAX_LENGTH - 13] + "等"
            bases.append(base)
        repeated = Counter(bases)
        seen: Counter = Counter()
        used: set[str] = set()
        names = []
        for base in bases:
            if repeated[base] > 1 or not base:
                seen[base] += 1
                name = f"{base}第{_cn_number(seen[base])}党小组"
            else:
                name = f"{base}党小组"
            candidate, n = name, 1
            while candidate in used and n <= len(bases):
                n += 1
                candidate = f"{name}（{n}）"
            used.add(candidate)
            names.append(candidate)
        return names

    def notes(self, names: Sequence[str]) -> list[str]:
        notes = []
        where: dict[Hashable, set[int]] = defaultdict(set)
        totals: Counter = Counter()
        for g, members in enumerate(self.groups):
            for i in members:
                if self.unit[i] is not None:
                    where[self.unit[i]].add(g)
                    totals[self.unit[i]] += 1
        for u in sorted(where, key=lambda u: (self.unit_name[u], str(u))):
            if len(where[u]) > 1:
                listed = "、".join(f"“{names[g]}”" for g in sorted(where[u]))
                why = (
                    "超过每个党小组的人数上限"
                    if totals[u] > self.b.max_size
                    else "为使每个党小组人数和正式党员数符合要求"
                )
                notes.append(
                    f"单位“{self.unit_name[u]}”的{totals[u]}名党员分在{len(where[u])}个党小组（{listed}），"
                    f"{why}（R-07）。"
                )
        if self.b.preferred_min:
            for g, name in enumerate(names):
                if self.size(g) < self.b.preferred_min:
                    notes.append(
                        f"“{name}”有{self.size(g)}名党员，少于{self.b.preferred_min}人的指导下限（R-08，建议性要求）。"
                    )
        return notes


def suggest_split(
    members: Sequence[SplitMember], *, rule_set: SplitRuleSet, groups: int | None = None
) -> SplitResult:
    """Propose groups for ``members`` under ``rule_set``; ``groups=k`` asks for exactly k groups.

    Without ``groups``: a branch of ``split_threshold`` (20) or more members gets at least 2 groups
    (R-01), as many as its units suggest (R-07), fewer when the R-08 guideline prefers larger groups;
    a smaller branch gets one group when it fits (R-02: dividing it is done on request).
    """
    people = list(members)
    ids = [p.id for p in people]
    if len(set(ids)) != len(ids):
        raise ValueError("suggest_split: member ids must be unique")
    bounds = split_bounds(rule_set)
    size, full = len(people), sum(1 for p in people if p.is_full)
    reasons = _refusal_reasons(size, full, bounds, groups)
    if reasons:
        return SplitResult(groups=(), bounds=bounds, reasons=tuple(reasons))
    counts = feasible_group_counts(size, full, bounds)
    plan = _Plan(people, bounds)
    plan.place_units()
    if groups is not None:
        k = groups
    else:
        lower = max(counts.start, 2 if size >= bounds.threshold else 1)
        if size < bounds.threshold:
            k = lower
        else:
            plan.prefer_guideline(lower)
            k = min(max(len(plan.groups), lower), counts.stop - 1)
    plan.reshape(k)
    plan.balance_loose()
    plan.repair_sizes()
    plan.repair_full()
    names = plan.names()
    proposed = tuple(
        ProposedGroup(
            name=name,
            member_ids=tuple(sorted(people[i].id for i in plan.groups[g])),
            leader_id=people[plan.leader(g)].id,
        )
        for g, name in enumerate(names)
    )
    return SplitResult(groups=proposed, bounds=bounds, notes=tuple(plan.notes(names)))


def check_proposal(
    members: Sequence[SplitMember],
    groups: Sequence[ProposedGroup],
    *,
    rule_set: SplitRuleSet,
    outsiders: Mapping[int, str] | None = None,
) -> list[str]:
    """The hard checks of a (possibly adjusted) proposal; Chinese messages, empty when it is valid.

    ``members`` are the branch's members (all must be placed, R-09); ``outsiders`` maps ids that are
    not among them to the message to show (another branch, left the party roll …).
    """
    b = split_bounds(rule_set)
    outsiders = outsiders or {}
    by_id = {m.id: m for m in members}
    if not groups:
        return ["请至少提出一个党小组。"]
    errors: list[str] = []
    names = Counter(group.name.strip() for group in groups)
    # A group is named in messages by its name, or by its position when the name is blank or repeated.
    labels = [
        group.name.strip() if group.name.strip() and names[group.name.strip()] == 1 else f"第{n}个党小组"
        for n, group in enumerate(groups, start=1)
    ]
    reported_names: set[str] = set()
    for n, group in enumerate(groups, start=1):
        name = group.name.strip()
        if not name:
            errors.append(f"第{n}个党小组未填写名称。")
        elif len(name) > NAME_MAX_LENGTH:
            errors.append(f"第{n}个党小组的名称过长（最多{NAME_MAX_LENGTH}个字）。")
        elif names[name] > 1 and name not in reported_names:
            reported_names.add(name)
            errors.append(f"党小组名称“{name}”重复，同一党支部的党小组名称不能相同。")
    placed: dict[int, int] = {}
    reported: set[int] = set()
    rosters: list[list[SplitMember]] = []
    for g, group in enumerate(groups):
        roster = []
        for member_id in group.member_ids:
            if member_id not in by_id:
                if member_id not in reported:
                    reported.add(member_id)
                    errors.append(
                        outsiders.get(
                            member_id,
                            f"编号为{member_id}的党员不是本支部在册党员，不能编入本支部的党小组（R-09）。",
                        )
                    )
                continue
            member = by_id[member_id]
            if member_id in placed:
                if placed[member_id] == g:
                    errors.append(f"党员“{member.name}”在“{labels[g]}”中重复列出。")
                else:
                    errors.append(
                        f"党员“{member.name}”同时列在“{labels[placed[member_id]]}”和“{labels[g]}”中，"
                        "每名党员只能编入一个党小组（R-09）。"
                    )
                continue
            placed[member_id] = g
            roster.append(member)
        rosters.append(roster)
    missing = [m.name for m in members if m.id not in placed]
    if missing:
        shown = "、".join(missing[:_MISSING_SHOWN]) + (
            f"等{len(missing)}名党员" if len(missing) > _MISSING_SHOWN else ""
        )
        errors.append(f"{shown}未编入任何党小组（R-09：党支部划分党小组后，每名党员都应编入一个党小组）。")
    if len(members) >= b.threshold and len(groups) < 2:
        errors.append(f"本支部有{len(members)}名党员，达到{b.threshold}人，应当划分2个以上党小组（R-01）。")
    for label, group, roster in zip(labels, groups, rosters, strict=True):
        size, full = len(roster), sum(1 for m in roster if m.is_full)
        if size < b.min_size:
            errors.append(f"党小组“{label}”只有{size}名党员，少于{b.min_size}名（{b.min_rule}）。")
        if size > b.max_size:
            errors.append(
                f"党小组“{label}”有{size}名党员，超过每个党小组{b.max_size}名的上限（{b.max_rule}）。"
            )
        if full < b.min_full:
            errors.append(
                f"党小组“{label}”只有{full}名正式党员，至少需要{b.min_full}名，预备党员不能单独组成党小组（R-04）。"
            )
        if group.leader_id is None:
            errors.append(f"党小组“{label}”未提出组长人选（R-24）。")
            continue
        leader = by_id.get(group.leader_id)
        if leader is None or all(m.id != leader.id for m in roster):
            leader_name = leader.name if leader else f"编号为{group.leader_id}的党员"
            errors.append(f"组长人选“{leader_name}”不是党小组“{label}”的成员。")
        elif not leader.is_full:
            errors.append(f"组长人选“{leader.name}”是预备党员，党小组组长必须是正式党员（R-24）。")
    return errors


# --- With the database ---------------------------------------------------------------------------
def split_members(*, branch: Branch, on: dt.date) -> list[SplitMember]:
    """The branch's members on the roll, as the split sees them (full membership as of ``on``)."""
    return [
        SplitMember(
            id=m.pk,
            name=m.name,
            is_full=m.was_full_member_on(on),
            unit_id=m.unit_id,
            unit_name=m.unit.name if m.unit_id else None,
            is_leading_cadre=m.is_leading_cadre,
            post=m.post,
            full_member_on=m.full_member_on,
            joined_on=m.joined_on,
        )
        for m in Member.objects.active().filter(branch=branch).select_related("unit").order_by("pk")
    ]


def suggest_split_for_branch(*, branch: Branch, on: dt.date, groups: int | None = None) -> SplitResult:
    return suggest_split(
        split_members(branch=branch, on=on), rule_set=branch.organisation.effective_rule_set(), groups=groups
    )


@dataclass(frozen=True)
class SplitAcceptance:
    groups: list[PartyGroup]
    appointments: list[LeaderAppointment]
    changes: list[GroupChange]  # the dissolutions first, then one ``create`` per new group
    dissolved: list[PartyGroup]
    findings: list[Finding]  # advisories on the new groups' composition (R-08 …)


def _dominant_unit(members: Sequence[Member]) -> Unit | None:
    """The unit of more than half of the group's members, recorded as the group's unit (R-07)."""
    counts = Counter(m.unit_id for m in members if m.unit_id)
    if not counts:
        return None
    unit_id, count = counts.most_common(1)[0]
    if count * 2 <= len(members):
        return None
    return next(m.unit for m in members if m.unit_id == unit_id)


def split_accept(
    *,
    branch: Branch,
    groups: Sequence[ProposedGroup],
    decided_on: dt.date,
    document_number: str,
    effective_on: dt.date,
    by,
    attests_political_quality: bool,
    attests_dedication: bool,
    attests_organising_ability: bool,
    attestation_note: str = "",
) -> SplitAcceptance:
    """R-05: the branch adopts a division into groups as one decision (one date, one document number).

    The proposal is checked again (``check_proposal``): every member of the branch exactly once
    (R-09), sizes (R-03, R-01/R-08), full members (R-04), leaders who are full members of their group
    (R-24). The branch's current groups are dissolved on ``effective_on`` (their members' memberships
    and leaders' appointments end that day), the new groups are created through ``group_create`` and
    each leader is designated by the branch through ``leader_appoint`` (R-25 attestations given by
    the secretary). Any refusal raises ``ValidationError`` with Chinese messages; nothing is saved.
    """
    document_number = document_number.strip()
    errors: list[str] = []
    if not document_number:
        errors.append("请填写支部决定的会议记录或文件编号（R-05）。")
    if decided_on > effective_on:
        errors.append("支部决定日期不能晚于党小组建立日期。")
    if not (attests_political_quality and attests_dedication and attests_organising_ability):
        errors.append(
            "党支部须逐项确认组长条件（R-25，第十条第（二）至（四）项：政治素质、事业心和责任感、组织协调能力）。"
        )
    with transaction.atomic():
        branch = Branch.objects.select_for_update().select_related("organisation").get(pk=branch.pk)
        rule_set = branch.organisation.effective_rule_set()
        members = split_members(branch=branch, on=effective_on)
        known = {m.id for m in members}
        listed = {i for g in groups for i in g.member_ids}
        outsiders = {}
        for other in Member.objects.filter(pk__in=listed - known).select_related("branch"):
            if other.branch_id != branch.pk:
                outsiders[other.pk] = (
                    f"党员“{other.name}”是“{other.branch.name}”的党员，不能编入本支部的党小组（R-09）。"
                )
            else:
                outsiders[other.pk] = f"党员“{other.name}”已不在册，不能编入党小组。"
        errors.extend(check_proposal(members, groups, rule_set=rule_set, outsiders=outsiders))
        if errors:
            raise ValidationError(errors)

        instances = Member.objects.select_related("unit").in_bulk(sorted(known))
        dissolved: list[PartyGroup] = []
        changes: list[GroupChange] = []
        for old in PartyGroup.objects.filter(branch=branch, dissolved_on__isnull=True).order_by("pk"):
            changes.append(
                services.group_dissolve(
                    group=old,
                    dissolved_on=effective_on,
                    decided_on=decided_on,
                    document_number=document_number,
                    summary=f"按党小组划分方案重新划分党小组，撤销“{old.name}”。",
                    by=by,
                )
            )
            dissolved.append(old)
        created: list[PartyGroup] = []
        appointments: list[LeaderAppointment] = []
        findings: list[Finding] = []
        for proposal in groups:
            name = proposal.name.strip()
            roster = [instances[i] for i in proposal.member_ids]
            group, group_findings = services.group_create(
                branch=branch,
                name=name,
                established_on=effective_on,
                decided_on=decided_on,
                document_number=document_number,
                by=by,
                unit=_dominant_unit(roster),
                members=roster,
                summary=f"按党小组划分方案建立党小组“{name}”，编入党员{len(roster)}名。",
            )
            created.append(group)
            findings.extend(group_findings)
            changes.append(GroupChange.objects.get(group=group, kind=GroupChangeKind.CREATE))
            appointments.append(
                services.leader_appoint(
                    group=group,
                    member=instances[proposal.leader_id],
                    started_on=effective_on,
                    by=by,
                    mode=AppointmentMode.DESIGNATED,
                    decision_number=document_number,
                    attests_political_quality=attests_political_quality,
                    attests_dedication=attests_dedication,
                    attests_organising_ability=attests_organising_ability,
                    attestation_note=attestation_note,
                )
            )
        return SplitAcceptance(
            groups=created, appointments=appointments, changes=changes, dissolved=dissolved, findings=findings
        )

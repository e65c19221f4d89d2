"""The core of the demo: organisation tree, branches, units, members, committees, groups, leaders.

Everything goes through the services of the groups app where one exists (group_create,
group_adjust, group_dissolve, membership_*, leader_*, group_change_*), so the data is valid and
has its history; the rest is saved with ``audited_save`` (full_clean + history with a reason).
The deliberate rule violations are declared with ``ctx.expect`` where they are made; docs/demo.md
tells their story.

The tree (R-37: the Loudi 2023 rule set on one node, the central 2019 rule set elsewhere):

    市直机关工委 (central-2019)
    ├── 市直机关工委机关党支部            8 members, 3 groups        R-03, R-04
    ├── 市财政局机关党委 (inherits central-2019)
    │   ├── 市财政局机关第一党支部        26 members, 4 unit groups  R-07, R-09, R-24
    │   └── 市财政局离退休干部党支部      12 members, no groups
    └── 市自然资源局机关党委 (loudi-2023)
        └── 市自然资源局机关党支部        22 members, 1 group        R-01, R-08
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from groups import services
from groups.enums import AppointmentMode, GroupChangeKind, LeaderRole
from groups.models import GroupChange, GroupMembership
from members.enums import CommitteePost, Gender, MemberState, MemberStatus, OrganisationKind
from members.models import Branch, CommitteeMembership, Member, Organisation, OrganisationStaff, RuleSet, Unit
from partygroup.audit import audited_save
from partygroup.demo.base import (
    COMMITTEE_AUTH_GROUP,
    COMMITTEE_PERMISSIONS,
    ORG_STAFF_AUTH_GROUP,
    ORG_STAFF_PERMISSIONS,
    DemoContext,
    create_account,
    permission_group,
)
from partygroup.demo.people import LOUDI_REGIONS, party_dates, random_date, random_mobile

M, F = Gender.MALE, Gender.FEMALE
REASON = "演示数据"
# The rules checked by groups.findings: over the demo they find exactly what ``ctx.expect`` declares.
COVERED_RULES = ("R-01", "R-03", "R-04", "R-07", "R-08", "R-09", "R-24")


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    gender: str
    birth: dt.date | None = None  # None: drawn from the branch's range
    unit: str | None = None  # key in ctx.units
    post: str = ""
    leading: bool = False
    joined: dt.date | None = None  # full members: None → derived from the birth date
    probationary_days: int | None = None  # probationary: joined this many days before today


# --- Organisations, branches, units, members -------------------------------------------------------
def _organisation(ctx: DemoContext, key: str, *, name: str, kind: str, rule_set: str | None, parent=None):
    node = Organisation(
        name=name, kind=kind, rule_set=RuleSet.objects.get(code=rule_set) if rule_set else None
    )
    node._history_user = ctx.by
    node._change_reason = f"{REASON}：建立上级党组织"
    if parent is None:
        node = Organisation.objects.add_root(instance=node)
    else:  # re-read the parent: treebeard places the child from the parent's stored numchild
        node = Organisation.objects.add_child(Organisation.objects.get(pk=parent.pk), instance=node)
    ctx.organisations[key] = node
    return node


def _branch(ctx: DemoContext, key: str, *, organisation, name: str, established: dt.date, term_ends: dt.date):
    branch = Branch(
        organisation=organisation, name=name, established_on=established, committee_term_ends_on=term_ends
    )
    ctx.branches[key] = audited_save(branch, by=ctx.by, reason=f"{REASON}：建立党支部")
    return ctx.branches[key]


def _units(ctx: DemoContext, branch: Branch, names: dict[str, str]) -> None:
    for key, name in names.items():
        ctx.units[key] = audited_save(Unit(branch=branch, name=name), by=ctx.by, reason=f"{REASON}：建立单位")


def _members(
    ctx: DemoContext,
    branch: Branch,
    people: list[Person],
    *,
    rng: random.Random,
    births: tuple[dt.date, dt.date],
) -> None:
    for index, person in enumerate(people):
        birth = person.birth or random_date(rng, *births)
        if person.probationary_days is not None:
            status, joined, full = MemberStatus.PROBATIONARY, ctx.days_ago(person.probationary_days), None
        else:
            joined, full = party_dates(birth, index)
            if person.joined:
                joined, full = person.joined, person.joined.replace(year=person.joined.year + 1)
            status = MemberStatus.FULL
        member = Member(
            branch=branch,
            name=person.name,
            gender=person.gender,
            birth_date=birth,
            id_number=ctx.ids.make(
                birth=birth, gender=person.gender, region=rng.choice(LOUDI_REGIONS), start=rng.randrange(500)
            ),
            phone=random_mobile(rng),
            unit=ctx.units[person.unit] if person.unit else None,
            post=person.post,
            is_leading_cadre=person.leading,
            status=status,
            joined_on=joined,
            full_member_on=full,
        )
        ctx.members[person.key] = audited_save(member, by=ctx.by, reason=f"{REASON}：建立党员档案")


def _committee(ctx: DemoContext, branch: Branch, posts: dict[str, str], started: dt.date) -> None:
    for key, post in posts.items():
        audited_save(
            CommitteeMembership(branch=branch, member=ctx.members[key], post=post, started_on=started),
            by=ctx.by,
            reason=f"{REASON}：支委会选举",
        )


def _transfer_out(ctx: DemoContext, key: str, *, on: dt.date, to: str) -> None:
    """A member's party relation moves to another branch: group membership ends, the record leaves."""
    member = ctx.members[key]
    for membership in GroupMembership.objects.filter(member=member, ended_on__isnull=True):
        services.membership_end(membership=membership, ended_on=on, by=ctx.by, reason="组织关系转出")
    member.state = MemberState.LEFT
    member.left_on = on
    audited_save(member, by=ctx.by, reason=f"组织关系转出至{to}")


# --- Groups (R-05) -------------------------------------------------------------------------------
def _doc(prefix: str, day: dt.date, number: int) -> str:
    return f"{prefix}〔{day.year}〕{number}号"


def _group(
    ctx: DemoContext,
    key: str,
    *,
    branch: str,
    name: str,
    unit: str | None,
    established: dt.date,
    decided: dt.date,
    document: str,
    members: list[str],
) -> GroupChange:
    group, _findings = services.group_create(
        branch=ctx.branches[branch],
        name=name,
        unit=ctx.units[unit] if unit else None,
        established_on=established,
        decided_on=decided,
        document_number=document,
        members=[ctx.members[k] for k in members],
        by=ctx.by,
    )
    ctx.groups[key] = group
    return GroupChange.objects.get(group=group, kind=GroupChangeKind.CREATE)


def _file(ctx: DemoContext, change: GroupChange, *, filed: dt.date, acknowledged: dt.date | None = None):
    change = services.group_change_file(change=change, filed_on=filed, by=ctx.by)
    if acknowledged:
        change = services.group_change_acknowledge(
            change=change, on=acknowledged, comment="同意备案。", by=ctx.by
        )
    return change


def _place(ctx: DemoContext, key: str, group: str, on: dt.date) -> None:
    services.membership_start(member=ctx.members[key], group=ctx.groups[group], started_on=on, by=ctx.by)


def _appoint(
    ctx: DemoContext,
    group: str,
    member: str,
    on: dt.date,
    *,
    role: str = LeaderRole.LEADER,
    mode: str = AppointmentMode.DESIGNATED,
    term_ends: dt.date | None = None,
    decision: str = "",
) -> None:
    services.leader_appoint(
        group=ctx.groups[group],
        member=ctx.members[member],
        started_on=on,
        role=role,
        mode=mode,
        term_ends_on=term_ends,
        decision_number=decision,
        attests_political_quality=True,
        attests_dedication=True,
        attests_organising_ability=True,
        attestation_note="经支委会考察，符合党小组组长任职条件。",
        by=ctx.by,
    )


# --- The parts of the tree -------------------------------------------------------------------------
def _finance_branch(ctx: DemoContext) -> None:
    """市财政局机关第一党支部: 26 members, 4 groups aligned with its 处室; R-07, R-09, R-24."""
    branch = _branch(
        ctx,
        "finance",
        organisation=ctx.organisations["finance"],
        name="市财政局机关第一党支部",
        established=dt.date(2016, 3, 15),
        term_ends=dt.date(2027, 3, 14),
    )
    _units(
        ctx,
        branch,
        {"f_office": "办公室", "f_budget": "预算科", "f_treasury": "国库科", "f_procure": "政府采购监管科"},
    )
    d = dt.date
    people = [
        # 局领导 belong to no 处室 (unit empty); each joins the group of the 处室 they oversee.
        Person("director", "周建华", M, d(1968, 4, 12), None, "局长", True, d(1990, 6, 20)),
        Person("deputy1", "李喆", M, d(1975, 9, 3), None, "副局长", True, d(1998, 5, 10)),
        Person("deputy2", "王琰", F, d(1979, 1, 22), None, "副局长", True, d(2002, 7, 1)),
        Person("off1", "陈志强", M, d(1978, 11, 5), "f_office", "办公室主任", joined=d(2001, 6, 18)),
        Person("off2", "刘海燕", F, d(1983, 2, 14), "f_office", "办公室副主任", joined=d(2006, 5, 26)),
        Person("off3", "张堃", M, d(1990, 7, 30), "f_office", "科员", joined=d(2013, 6, 8)),
        Person("off4", "杨静", F, d(1992, 12, 8), "f_office", "科员", joined=d(2016, 11, 2)),
        Person("off5", "黄文博", M, d(1995, 5, 17), "f_office", "科员", joined=d(2020, 6, 28)),
        Person("off6", "赵雨萱", F, d(1999, 3, 2), "f_office", "科员", probationary_days=200),
        Person("bud1", "吴国平", M, d(1976, 8, 19), "f_budget", "预算科科长", joined=d(1999, 12, 1)),
        Person("bud2", "孙丽", F, d(1985, 10, 11), "f_budget", "预算科副科长", joined=d(2008, 6, 30)),
        Person("bud3", "郑晓东", M, d(1988, 4, 25), "f_budget", "科员", joined=d(2011, 5, 4)),
        Person("bud4", "马秀英", F, d(1991, 6, 9), "f_budget", "科员", joined=d(2014, 7, 1)),
        Person("bud5", "刘𠇔", M, d(1993, 9, 14), "f_budget", "科员", joined=d(2017, 3, 21)),
        Person("bud6", "朱敏", F, d(1994, 1, 27), "f_budget", "科员", joined=d(2018, 12, 12)),
        Person("tre1", "胡勇", M, d(1977, 3, 3), "f_treasury", "国库科科长", joined=d(2000, 7, 1)),
        Person("tre2", "郭娟", F, d(1984, 12, 20), "f_treasury", "国库科副科长", joined=d(2007, 9, 15)),
        Person("tre3", "何磊", M, d(1989, 8, 8), "f_treasury", "科员", joined=d(2012, 10, 9)),
        Person("tre4", "林芳", F, d(1996, 2, 18), "f_treasury", "科员", joined=d(2019, 11, 20)),
        Person("tre5", "罗杰", M, d(2000, 10, 1), "f_treasury", "科员", probationary_days=90),
        Person("pro1", "梁建军", M, d(1972, 5, 5), "f_procure", "政府采购监管科科长", joined=d(1995, 6, 1)),
        Person("pro2", "谢涛", M, d(1994, 11, 11), "f_procure", "科员"),  # R-24, dates set below
        Person("pro3", "宋娜", F, d(1987, 7, 7), "f_procure", "政府采购监管科副科长", joined=d(2010, 4, 16)),
        Person("pro4", "唐超", M, d(1990, 9, 9), "f_procure", "科员", joined=d(2014, 5, 20)),
        Person("pro5", "许桂英", F, d(1986, 4, 4), "f_procure", "科员", joined=d(2009, 12, 8)),
        Person("newcomer", "韩鑫", M, d(1991, 3, 16), "f_procure", "科员", joined=d(2015, 7, 1)),
    ]
    _members(ctx, branch, people, rng=ctx.rng, births=(d(1965, 1, 1), d(2000, 12, 31)))
    # 谢涛 was entered as a full member (joined 600 days ago, full 365 days later) …
    xie = ctx.members["pro2"]
    xie.joined_on, xie.full_member_on = ctx.days_ago(600), ctx.days_ago(235)
    audited_save(xie, by=ctx.by, reason=f"{REASON}：录入入党及转正日期")
    _committee(
        ctx,
        branch,
        {
            "deputy1": CommitteePost.SECRETARY,
            "off2": CommitteePost.ORGANISATION,
            "tre2": CommitteePost.DISCIPLINE,
        },
        d(2022, 3, 15),
    )

    # 2019: two mixed groups, each member placed when they joined the party (R-06 history).
    first_set = ["director", "deputy1", *(p.key for p in people if p.unit in {"f_office", "f_budget"})]
    second_set = ["deputy2", *(p.key for p in people if p.unit in {"f_treasury", "f_procure"})]
    founded, decided = d(2019, 5, 20), d(2019, 5, 16)

    def joined_by(keys: list[str], day: dt.date) -> list[str]:
        out = []
        for k in keys:
            member = ctx.members[k]
            if k != "newcomer" and member.is_full_member and member.joined_on <= day:
                out.append(k)
        return out

    for key, name, keys in (("old1", "机关第一党小组", first_set), ("old2", "机关第二党小组", second_set)):
        change = _group(
            ctx,
            key,
            branch="finance",
            name=name,
            unit=None,
            established=founded,
            decided=decided,
            document=_doc("财机支", decided, 3),
            members=joined_by(keys, founded),
        )
        _file(ctx, change, filed=d(2019, 5, 24), acknowledged=d(2019, 6, 3))
    _appoint(ctx, "old1", "off1", founded, term_ends=d(2022, 3, 14))
    _appoint(ctx, "old2", "tre1", founded, term_ends=d(2022, 3, 14))
    _place(ctx, "tre4", "old2", d(2019, 11, 20))
    _place(ctx, "off5", "old1", d(2020, 6, 28))

    # 2021: the branch re-forms its groups along the 处室 and dissolves the two old ones.
    reform, decided = d(2021, 3, 15), d(2021, 3, 10)
    unit_groups = (
        ("office", "办公室党小组", "f_office", ["director"]),
        ("budget", "预算科党小组", "f_budget", ["deputy1"]),
        ("treasury", "国库科党小组", "f_treasury", ["deputy2"]),
        ("procure", "政府采购监管科党小组", "f_procure", []),
    )
    for key, name, unit, cadres in unit_groups:
        keys = cadres + [p.key for p in people if p.unit == unit]
        change = _group(
            ctx,
            key,
            branch="finance",
            name=name,
            unit=unit,
            established=reform,
            decided=decided,
            document=_doc("财机支", decided, 2),
            members=joined_by(keys, reform),
        )
        _file(ctx, change, filed=d(2021, 3, 18), acknowledged=d(2021, 3, 30))
    for key in ("old1", "old2"):
        change = services.group_dissolve(
            group=ctx.groups[key],
            dissolved_on=reform,
            decided_on=decided,
            document_number=_doc("财机支", decided, 2),
            summary=f"按处室重新划分党小组，撤销“{ctx.groups[key].name}”。",
            by=ctx.by,
        )
        _file(ctx, change, filed=d(2021, 3, 18), acknowledged=d(2021, 3, 30))
    for group, leader in (("office", "off1"), ("budget", "bud1"), ("treasury", "tre1"), ("procure", "pro1")):
        _appoint(ctx, group, leader, reform, decision=_doc("财机支", decided, 2))
    _appoint(ctx, "office", "off2", d(2022, 3, 20), role=LeaderRole.DEPUTY)
    _appoint(ctx, "procure", "pro3", d(2023, 4, 10), role=LeaderRole.DEPUTY, mode=AppointmentMode.RECOMMENDED)

    # New members join the group of their 处室 on the day they join the party.
    _place(ctx, "pro2", "procure", ctx.days_ago(600))
    _place(ctx, "off6", "office", ctx.days_ago(200))
    _place(ctx, "tre5", "treasury", ctx.days_ago(90))

    # 朱敏 of 预算科 is moved to 国库科党小组; the higher organisation returns the filing.
    moved, decided = d(2025, 9, 1), d(2025, 8, 28)
    change, _findings = services.group_adjust(
        branch=branch,
        moves=[(ctx.members["bud6"], ctx.groups["treasury"])],
        effective_on=moved,
        decided_on=decided,
        document_number=_doc("财机支", decided, 6),
        summary="朱敏同志长期在国库科协助工作，调整至国库科党小组。",
        by=ctx.by,
    )
    change = services.group_change_file(change=change, filed_on=d(2025, 9, 3), by=ctx.by)
    services.group_change_return(
        change=change,
        comment="朱敏同志仍在预算科工作，党小组宜与处室对应，请说明理由或重新研究。",
        by=ctx.by,
    )
    ctx.expect(
        "R-07", "预算科", "预算科的朱敏被调整到国库科党小组，预算科党员分在两个党小组（上级已退回该调整）。"
    )

    # 谢涛 is recommended as leader (the outgoing leader leaves office) while recorded as full …
    _appoint(
        ctx,
        "procure",
        "pro2",
        ctx.days_ago(150),
        mode=AppointmentMode.RECOMMENDED,
        decision=_doc("财机支", ctx.days_ago(150), 4),
    )
    # … and a later data check finds his probationary period was extended: he is not yet a full member.
    xie.refresh_from_db()
    xie.status, xie.full_member_on = MemberStatus.PROBATIONARY, None
    audited_save(xie, by=ctx.by, reason="数据更正：经核查预备期延长一年，尚未转正，原录入的转正日期有误")
    ctx.expect("R-24", "政府采购监管科党小组", "组长谢涛经数据更正为预备党员，组长须为正式党员，待支部调整。")

    # 韩鑫 transferred in this year and has not been placed in a group yet.
    ctx.expect("R-09", "韩鑫", "韩鑫今年调入本支部，尚未编入党小组。")


def _retiree_branch(ctx: DemoContext) -> None:
    """市财政局离退休干部党支部: 12 members, fewer than 20, not divided into groups (R-02)."""
    branch = _branch(
        ctx,
        "retirees",
        organisation=ctx.organisations["finance"],
        name="市财政局离退休干部党支部",
        established=dt.date(2016, 3, 15),
        term_ends=dt.date(2028, 5, 31),
    )
    names = [
        ("r1", "蒋立新", M), ("r2", "曾桂英", F), ("r3", "彭卫东", M), ("r4", "肖玉兰", F),
        ("r5", "田建国", M), ("r6", "袁春梅", F), ("r7", "邓胜利", M), ("r8", "曹秀兰", F),
        ("r9", "龙湘平", M), ("r10", "谭红梅", F), ("r11", "贺新民", M), ("r12", "罗湘云", F),
    ]  # fmt: skip
    people = [Person(key, name, gender, post="退休干部") for key, name, gender in names]
    _members(ctx, branch, people, rng=ctx.rng, births=(dt.date(1945, 1, 1), dt.date(1962, 12, 31)))
    _committee(
        ctx,
        branch,
        {"r1": CommitteePost.SECRETARY, "r2": CommitteePost.ORGANISATION, "r3": CommitteePost.DISCIPLINE},
        dt.date(2023, 6, 1),
    )


def _resources_branch(ctx: DemoContext) -> None:
    """市自然资源局机关党支部 (Loudi rule set): 22 members in a single group; R-01 and R-08."""
    branch = _branch(
        ctx,
        "resources",
        organisation=ctx.organisations["resources"],
        name="市自然资源局机关党支部",
        established=dt.date(2019, 1, 10),
        term_ends=dt.date(2027, 12, 31),
    )
    _units(
        ctx,
        branch,
        {"n_office": "办公室", "n_plan": "国土空间规划科", "n_farm": "耕地保护科", "n_reg": "不动产登记科"},
    )
    cadre = Person("n1", "段振宇", M, post="副局长", leading=True)  # no 处室
    by_unit = {
        "n_office": [
            ("n2", "邹佳慧", F, "办公室主任"),
            ("n3", "熊斌", M),
            ("n4", "白雪", F),
            ("n5", "孟浩", M),
        ],
        "n_plan": [
            ("n6", "秦湘军", M, "国土空间规划科科长"),
            ("n7", "邱倩", F),
            ("n8", "侯宇", M),
            ("n9", "江婷", F),
            ("n10", "尹凯", M),
        ],
        "n_farm": [
            ("n11", "薛颖", F, "耕地保护科科长"),
            ("n12", "雷鹏", M),
            ("n13", "黎萍", F),
            ("n14", "史辉", M),
        ],
        "n_reg": [
            ("n15", "陶振宇", M, "不动产登记科科长"),
            ("n16", "毛璐", F),
            ("n17", "郝波", M),
            ("n18", "顾琳", F),
        ],
    }
    # transferred in this year
    arrivals = [("n19", "龚子豪", M, "n_plan"), ("n20", "邵欣怡", F, "n_farm"), ("n21", "万明轩", M, "n_reg")]
    arrivals.append(("n22", "覃丹丹", F, "n_office"))
    people = [cadre]
    for unit, rows in by_unit.items():
        people += [Person(k, n, g, unit=unit, post=rest[0] if rest else "科员") for k, n, g, *rest in rows]
    people += [Person(k, n, g, unit=u, post="科员") for k, n, g, u in arrivals]
    _members(ctx, branch, people, rng=ctx.rng, births=(dt.date(1970, 1, 1), dt.date(1995, 12, 31)))
    _committee(
        ctx,
        branch,
        {"n1": CommitteePost.SECRETARY, "n2": CommitteePost.ORGANISATION, "n11": CommitteePost.DISCIPLINE},
        dt.date(2022, 12, 30),
    )
    founded, decided = dt.date(2023, 9, 15), dt.date(2023, 9, 12)
    change = _group(
        ctx,
        "resources",
        branch="resources",
        name="自然资源局机关党小组",
        unit=None,
        established=founded,
        decided=decided,
        document=_doc("资机支", decided, 5),
        members=[f"n{i}" for i in range(1, 19)],
    )
    _file(ctx, change, filed=dt.date(2023, 9, 18), acknowledged=dt.date(2023, 9, 28))
    _appoint(ctx, "resources", "n2", founded, decision=_doc("资机支", decided, 5))
    _appoint(ctx, "resources", "n6", founded, role=LeaderRole.DEPUTY, decision=_doc("资机支", decided, 5))
    # Four members transferred in are placed in the one group; the decision is not filed yet.
    effective = ctx.days_ago(25)
    services.group_adjust(
        branch=branch,
        moves=[(ctx.members[k], ctx.groups["resources"]) for k in ("n19", "n20", "n21", "n22")],
        effective_on=effective,
        decided_on=ctx.days_ago(28),
        document_number=_doc("资机支", ctx.days_ago(28), 3),
        summary="新调入的龚子豪、邵欣怡、万明轩、覃丹丹4名党员编入自然资源局机关党小组。",
        by=ctx.by,
    )
    ctx.expect("R-01", "市自然资源局机关党支部", "支部党员已达22名，仍只有1个党小组，应划分若干党小组。")
    ctx.expect("R-08", "自然资源局机关党小组", "娄底规则集启用10-20人指导范围，该党小组有22名党员。")


def _committee_office_branch(ctx: DemoContext) -> None:
    """市直机关工委机关党支部: 3 small groups; two members transferred out leave R-03 and R-04."""
    branch = _branch(
        ctx,
        "committee_office",
        organisation=ctx.organisations["root"],
        name="市直机关工委机关党支部",
        established=dt.date(2018, 6, 1),
        term_ends=dt.date(2029, 1, 9),
    )
    _units(ctx, branch, {"w_general": "综合科", "w_service": "机关服务中心", "w_publicity": "宣传科"})
    people = [
        Person("w1", "钟慧敏", F, unit="w_general", post="综合科科长"),
        Person("w2", "汪俊杰", M, unit="w_general", post="综合科副科长"),
        Person("w3", "范思琪", F, unit="w_general", post="科员"),
        Person("w4", "金海波", M, unit="w_service", post="机关服务中心主任"),
        Person("w5", "石美玲", F, unit="w_service", post="机关服务中心副主任"),
        Person("w6", "廖志明", M, unit="w_service", post="科员"),  # transferred out
        Person("w7", "夏丽娟", F, unit="w_publicity", post="宣传科科长"),  # transferred out
        Person("w8", "韦梦瑶", F, unit="w_publicity", post="科员", probationary_days=330),
        Person("w9", "付浩然", M, unit="w_publicity", post="科员", probationary_days=300),
        Person("w10", "方晓红", F, unit="w_publicity", post="科员", probationary_days=270),
    ]
    _members(ctx, branch, people, rng=ctx.rng, births=(dt.date(1972, 1, 1), dt.date(1995, 12, 31)))
    _committee(
        ctx,
        branch,
        {"w1": CommitteePost.SECRETARY, "w4": CommitteePost.ORGANISATION, "w3": CommitteePost.DISCIPLINE},
        dt.date(2024, 1, 10),
    )
    founded, decided = dt.date(2024, 3, 20), dt.date(2024, 3, 15)
    for key, name, unit, keys, leader in (
        ("general", "综合科党小组", "w_general", ["w1", "w2", "w3"], "w2"),
        ("service", "机关服务中心党小组", "w_service", ["w4", "w5", "w6"], "w4"),
    ):
        change = _group(
            ctx,
            key,
            branch="committee_office",
            name=name,
            unit=unit,
            established=founded,
            decided=decided,
            document=_doc("工委机支", decided, 1),
            members=keys,
        )
        _file(ctx, change, filed=dt.date(2024, 3, 22), acknowledged=dt.date(2024, 4, 2))
        _appoint(ctx, key, leader, founded, decision=_doc("工委机支", decided, 1))
    # The new probationary members get a group of 宣传科 led by its 科长; filed, not yet acknowledged.
    founded, decided = ctx.days_ago(250), ctx.days_ago(255)
    change = _group(
        ctx,
        "publicity",
        branch="committee_office",
        name="宣传科党小组",
        unit="w_publicity",
        established=founded,
        decided=decided,
        document=_doc("工委机支", decided, 4),
        members=["w7", "w8", "w9", "w10"],
    )
    _file(ctx, change, filed=ctx.days_ago(245))
    _appoint(ctx, "publicity", "w7", founded, decision=_doc("工委机支", decided, 4))
    # Two transfers out: 机关服务中心党小组 keeps 2 members, 宣传科党小组 only probationary members.
    _transfer_out(ctx, "w6", on=ctx.days_ago(60), to="市人社局机关党支部")
    leader = ctx.groups["publicity"].appointments.get(ended_on__isnull=True)
    services.leader_end(appointment=leader, ended_on=ctx.days_ago(40), reason="组织关系转出", by=ctx.by)
    _transfer_out(ctx, "w7", on=ctx.days_ago(40), to="市委宣传部机关党支部")
    ctx.expect("R-03", "机关服务中心党小组", "廖志明组织关系转出后，该党小组只剩2名党员。")
    ctx.expect("R-04", "宣传科党小组", "组长夏丽娟转出后，该党小组只剩3名预备党员，没有正式党员。")


def _accounts(ctx: DemoContext) -> None:
    committee = permission_group(COMMITTEE_AUTH_GROUP, COMMITTEE_PERMISSIONS)
    org_staff = permission_group(ORG_STAFF_AUTH_GROUP, ORG_STAFF_PERMISSIONS)
    secretaries = (
        ("shuji_caizheng", "finance", "deputy1"),
        ("shuji_lituixiu", "retirees", "r1"),
        ("shuji_ziran", "resources", "n1"),
        ("shuji_gongwei", "committee_office", "w1"),
    )
    create_account(
        ctx, username="admin", role="系统管理员", note="超级用户，可进入管理后台", is_superuser=True
    )
    for username, branch, key in secretaries:
        create_account(
            ctx,
            username=username,
            role="支部书记",
            note=f"{ctx.branches[branch].name}（可进入管理后台导入党员）",
            member=ctx.members[key],
            is_staff=True,
            auth_groups=(committee,),
        )
    create_account(
        ctx,
        username="zuzhi_caizheng",
        role="组织委员",
        note="市财政局机关第一党支部",
        member=ctx.members["off2"],
    )
    for username, group, key in (
        ("zuzhang_bangongshi", "office", "off1"),
        ("zuzhang_yusuan", "budget", "bud1"),
        ("zuzhang_guoku", "treasury", "tre1"),
        ("zuzhang_caigou", "procure", "pro2"),
    ):
        create_account(
            ctx, username=username, role="党小组组长", note=ctx.groups[group].name, member=ctx.members[key]
        )
    create_account(
        ctx,
        username="dangyuan_caizheng",
        role="党员",
        note="办公室党小组普通党员",
        member=ctx.members["off3"],
    )
    for username, org, can_view, note in (
        ("org_gongwei", "root", True, "市直机关工委，可查看完整个人信息，可确认备案"),
        ("org_caizheng", "finance", False, "市财政局机关党委，个人信息脱敏显示，可确认备案"),
    ):
        user = create_account(
            ctx,
            username=username,
            role="组织部门工作人员",
            note=note,
            is_staff=True,
            auth_groups=(org_staff,),
        )
        audited_save(
            OrganisationStaff(
                organisation=ctx.organisations[org], user=user, can_view_personal_data=can_view
            ),
            by=ctx.by,
            reason=f"{REASON}：组织部门工作人员",
        )


DEMO_USERNAMES = (
    "admin",
    "shuji_caizheng",
    "shuji_lituixiu",
    "shuji_ziran",
    "shuji_gongwei",
    "zuzhi_caizheng",
    "zuzhang_bangongshi",
    "zuzhang_yusuan",
    "zuzhang_guoku",
    "zuzhang_caigou",
    "dangyuan_caizheng",
    "org_gongwei",
    "org_caizheng",
)


def build(ctx: DemoContext) -> None:
    ctx.cover(*COVERED_RULES)
    ctx.log("正在建立组织树（市直机关工委 → 机关党委）…")
    root = _organisation(
        ctx, "root", name="市直机关工委", kind=OrganisationKind.WORK_COMMITTEE, rule_set="central-2019"
    )
    _organisation(
        ctx,
        "finance",
        name="市财政局机关党委",
        kind=OrganisationKind.ORGAN_COMMITTEE,
        rule_set=None,
        parent=root,
    )
    _organisation(
        ctx,
        "resources",
        name="市自然资源局机关党委",
        kind=OrganisationKind.ORGAN_COMMITTEE,
        rule_set="loudi-2023",
        parent=root,
    )
    ctx.log("正在建立市财政局机关第一党支部（26名党员，4个党小组）…")
    _finance_branch(ctx)
    ctx.log("正在建立市财政局离退休干部党支部（12名党员，未划分党小组）…")
    _retiree_branch(ctx)
    ctx.log("正在建立市自然资源局机关党支部（娄底规则集）…")
    _resources_branch(ctx)
    ctx.log("正在建立市直机关工委机关党支部…")
    _committee_office_branch(ctx)
    ctx.log("正在开通演示账号…")
    _accounts(ctx)

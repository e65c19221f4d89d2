"""One journey per role on the demo data (docs/demo.md), in Debian's Chromium, as the user clicks it.

Each journey asserts what the person sees (and, where it writes, what was saved), and saves a
screenshot of every page it visits at 1280 and 375 px (tests/browser/helpers.py; the user guide
docs/guide/ shows a selection). The journeys run as subtests of one test on one demo built by
``demo_site`` (conftest.py): each works in its own branch or group, or only reads, so none depends on
another having run, or on their order.

- ``meeting``: the leader of 综合科党小组 requests this month's meeting (R-11), the branch secretary
  approves it in place on the dashboard (R-11), the leader notifies (R-11), records the minutes with
  an absentee and an observer (R-14), marks it held and reports it (R-13), and downloads the PDF.
- ``split``: the secretary of the 12-member retired cadres' branch asks for a split into two groups,
  moves a member, and accepts it as a branch decision with the leaders' attestations (R-01 … R-05,
  R-24, R-25).
- ``overview``: organisation staff filter the heatmap (R-10) by branch and year and open a branch's
  dashboard, read-only.
- ``member``: a plain member reads their own page and downloads an archived minutes PDF (R-12).
- ``admin``: the superuser sees every branch, finds a member and the rule sets (R-37) in the admin.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db.models import Q
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.enums import FilingStatus
from groups.models import GroupChange, GroupMembership, PartyGroup
from meetings.enums import HELD_STATES, AttendanceRole, MeetingKind, MeetingState
from meetings.models import Attendance, Meeting
from meetings.selectors import roster_on
from members.enums import MemberState
from members.models import Branch, Member, RuleSet
from partygroup.findings import collect_findings
from tests.browser.helpers import ARTIFACTS_DIR, DESKTOP, GUIDE_DIR, PHONE, Journey, pdf_text_of

# django_db: pytest-django creates the test database only for tests that ask for one (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

LEADER = "zuzhang_zonghe"  # 汪俊杰, 综合科党小组 (市直机关工委机关党支部): no meeting this month yet
SECRETARY = "shuji_gongwei"
SPLIT_SECRETARY = "shuji_lituixiu"  # 市财政局离退休干部党支部: 12 members, no groups
ORG_STAFF = "org_gongwei"
MEMBER = "dangyuan_caizheng"  # 张堃, 办公室党小组
ADMIN = "admin"


def squeeze(text: str) -> str:
    """Text without any whitespace: the PDF's layout may break a long title across lines."""
    return "".join(text.split())


def in_place(page: Page) -> None:
    """Mark the document, to prove later (``assert_same_document``) that no page load happened."""
    page.evaluate("window.__journeyMark = 'same-document'")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__journeyMark") == "same-document", "页面被重新加载，而不是就地更新"


# --- 1. Group leader and branch secretary: a month's meeting from request to PDF -----------------


def meeting_journey(journey: Journey) -> None:
    """R-11 (request, approval before notice, notice), R-14 (minutes: attendance with reasons, an
    observer), R-12/R-13 (held, reported), and the minutes PDF."""
    today = timezone.localdate()
    group = PartyGroup.objects.get(name="综合科党小组")
    title = f"{today.year}年{today.month}月党小组会：学习《中国共产党纪律处分条例》"

    leader = journey.open_as(LEADER, login_shot="01-login", guide=PHONE)
    expect(leader).to_have_url(re.compile(rf"/workspace/groups/{group.pk}/$"))
    month_card = leader.locator("#this-month")
    expect(month_card).to_contain_text("新建本月党小组会")
    agenda = month_card.get_by_label("拟定议题")
    expect(agenda).not_to_have_value("")  # copied from the annual plan
    journey.shoot(leader, "02-workspace-new", guide=PHONE)

    # The request: a draft, then submitted to the branch.
    month_card.get_by_label("会议主题").fill(title)
    month_card.get_by_label("拟开始时间").fill("09:00")
    month_card.get_by_label("拟召开地点").fill("工委机关三楼会议室")
    month_card.get_by_role("button", name="新建本月党小组会").click()
    expect(month_card.locator(".workspace-title")).to_have_text(title)
    expect(month_card).to_contain_text("草稿")
    journey.shoot(leader, "03-workspace-draft")
    meeting = Meeting.objects.get(group=group, title=title)
    assert meeting.state == MeetingState.DRAFT

    month_card.get_by_role("button", name="提交请示").click()
    expect(month_card.locator(".workspace-waiting")).to_have_text("等待支部批准")
    # no notice before the branch's approval — the workspace offers no step to take.
    expect(month_card.get_by_role("button")).to_have_count(0)
    journey.shoot(leader, "04-workspace-submitted", guide=PHONE)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SUBMITTED

    # The secretary approves in place on the branch dashboard.
    secretary = journey.open_as(SECRETARY)
    expect(secretary).to_have_url(re.compile(rf"/dashboard/branch/{group.branch_id}/$"))
    row = secretary.locator(f"#queue-meeting-{meeting.pk}")
    expect(row).to_contain_text(title)
    expect(row.locator("ol > li")).to_have_text(meeting.agenda_lines())
    journey.shoot(secretary, "05-dashboard-queue", guide=DESKTOP)
    in_place(secretary)
    row.get_by_placeholder("批准意见（可选）").fill("同意。请提前通知全体党员。")
    row.get_by_role("button", name="批准").click()
    expect(row).to_contain_text("已批准会议内容（R-11）。")
    expect(row.locator(".badge").last).to_have_text("已批准")
    expect(row.locator("[data-actions]")).to_have_count(0)
    assert_same_document(secretary)
    journey.shoot(secretary, "06-dashboard-approved", guide=DESKTOP)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.APPROVED

    # The leader notifies every member.
    leader.reload()
    expect(month_card.locator(".workspace-next")).to_contain_text("通知全体党员")
    journey.shoot(leader, "07-workspace-approved", guide=PHONE)
    leader.once("dialog", lambda dialog: dialog.accept())
    month_card.get_by_role("button", name="通知全体党员").click()
    expect(month_card.locator(".workspace-next")).to_contain_text("填写会议记录")
    journey.shoot(leader, "08-workspace-notified")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED

    # The minutes: attendance prefilled from the roster, one absentee with a reason, an observer.
    month_card.get_by_role("link", name="填写会议记录").click()
    expect(leader).to_have_url(re.compile(rf"/workspace/meetings/{meeting.pk}/minutes/$"))
    roster = roster_on(group, today)
    rows = leader.locator(".attendance-row")
    expect(rows).to_have_count(len(roster))
    assert sorted(rows.locator(".attendance-name").all_inner_texts()) == sorted(m.name for m in roster)
    expect(rows.get_by_label("参加", exact=True)).to_have_count(len(roster))
    absentee, recorder = [m for m in roster if m.name != "汪俊杰"][:2]
    absent_row = rows.filter(has_text=absentee.name)
    absent_row.get_by_label("缺席", exact=True).check()
    absent_row.get_by_label(f"{absentee.name}的缺席原因").fill("出差")
    observer = leader.locator(".observer-row").first
    observer.get_by_label("或：姓名（系统外人员）").fill("贺立群")
    observer.get_by_label("职务").fill("市委组织部组织二科科长")
    head = leader.locator("#minutes-form")
    head.get_by_label("结束时间").fill("10:30")
    head.get_by_label("记录人").select_option(value=str(recorder.pk))
    head.get_by_label("主持人总结").fill("大家结合工作实际谈了体会，会后把学习成果落实到日常工作中。")
    journey.shoot(leader, "09-minutes", guide=DESKTOP)
    leader.get_by_role("button", name="保存并标记为已召开").click()
    expect(leader).to_have_url(re.compile(rf"/workspace/meetings/{meeting.pk}/minutes/$"))
    expect(leader.locator("#this-month .workspace-next")).to_contain_text("上报党支部")
    expect(leader.get_by_role("alert").first).to_contain_text("会议已标记为已召开")
    journey.shoot(leader, "10-workspace-held")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD
    attendance = {
        (a.member.name if a.member else a.person_name, a.person_title, a.role, a.absence_reason)
        for a in Attendance.objects.filter(meeting=meeting).select_related("member")
    }
    assert attendance == {
        *((m.name, "", AttendanceRole.PRESENT, "") for m in roster if m != absentee),
        (absentee.name, "", AttendanceRole.ABSENT, "出差"),
        ("贺立群", "市委组织部组织二科科长", AttendanceRole.OBSERVER, ""),
    }

    # Reported to the branch; the PDF of the minutes downloads.
    leader.locator("#this-month").get_by_role("button", name="上报党支部").click()
    expect(leader.locator("#this-month .workspace-waiting")).to_have_text("等待支部存档")
    journey.shoot(leader, "11-workspace-reported", guide=PHONE)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.REPORTED
    with leader.expect_download() as download:
        leader.locator("#this-month").get_by_role("link", name="下载PDF").click()
    text = squeeze(pdf_text_of(download.value, ARTIFACTS_DIR / "meeting"))
    assert squeeze(title) in text
    assert "贺立群" in text
    assert "出差" in text


# --- 2. Branch secretary: accept a split suggestion --------------------------------------------


def change_proposal(page: Page, action) -> None:
    """Change a field of the split proposal: htmx re-checks it and swaps the proposal; wait for
    the swap before the next change, which it would otherwise overwrite."""
    with page.expect_response(lambda r: "/split/" in r.url and r.request.method == "POST"):
        action()
    expect(page.locator("#split-proposal .split-check")).to_be_visible()
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-swapping")).to_have_count(0)


def split_journey(journey: Journey) -> None:
    """R-02 (a branch under 20 may form groups), R-03/R-04 (size, a full member each), R-24 (leader
    candidates are full members), R-25 (attestations), R-05 (a branch decision, filed upwards)."""
    branch = Branch.objects.get(name="市财政局离退休干部党支部")
    names = ("离退休第一党小组", "离退休第二党小组")
    assert not PartyGroup.objects.filter(branch=branch).exists()

    secretary = journey.open_as(SPLIT_SECRETARY, login_shot="01-login")
    expect(secretary).to_have_url(re.compile(rf"/dashboard/branch/{branch.pk}/$"))
    expect(secretary.locator("#branch-main")).to_contain_text("本支部尚未划分党小组。")
    journey.shoot(secretary, "02-dashboard")

    secretary.locator(".dashboard-links").get_by_role("link", name="党小组").click()
    expect(secretary.locator("h1")).to_have_text(f"{branch.name}的党小组")
    journey.shoot(secretary, "03-groups-none")
    secretary.locator(".group-tabs").get_by_role("link", name="划分建议").click()
    expect(secretary).to_have_url(re.compile(rf"/groups/branches/{branch.pk}/split/$"))
    expect(secretary.locator(".split-summary")).to_contain_text("可以根据工作需要划分党小组（R-02）")
    journey.shoot(secretary, "04-split-suggestion")

    # Two groups, on request: every member placed, each group with a full-member leader candidate.
    secretary.get_by_label("指定党小组个数").fill("2")
    secretary.get_by_role("button", name="重新建议").click()
    cards = secretary.locator(".split-group")
    expect(cards).to_have_count(2)
    expect(secretary.locator(".split-member")).to_have_count(12)
    for card in cards.all():
        expect(card.locator(".split-member").first).to_be_visible()
        assert card.get_by_label("组长人选（R-24：须为正式党员）").input_value()
    journey.shoot(secretary, "05-split-two-groups", guide=DESKTOP)

    # Adjust: name the groups, move one member from the first group to the second.
    for index, name in enumerate(names):
        field = secretary.locator(f"#g-{index}-name")
        change_proposal(secretary, lambda field=field, name=name: (field.fill(name), field.blur()))
    first_count = cards.nth(0).locator(".split-member").count()
    second_count = cards.nth(1).locator(".split-member").count()
    move = cards.nth(0).locator(".split-member").last.get_by_role("combobox")
    moved = Member.objects.get(pk=int(move.get_attribute("id").removeprefix("m-")))
    change_proposal(secretary, lambda: move.select_option(label=f"2. {names[1]}"))
    expect(secretary.locator(".split-check")).to_contain_text("调整后的方案符合规定")
    expect(cards.nth(0).locator(".split-member")).to_have_count(first_count - 1)
    expect(cards.nth(1).locator(".split-member")).to_have_count(second_count + 1)
    expect(cards.nth(1).locator(".split-members")).to_contain_text(moved.name)
    journey.shoot(secretary, "06-split-adjusted", guide=PHONE)

    # Accept as a branch decision with the leaders' attestations (R-05, R-25).
    accept = secretary.locator(".split-accept")
    accept.get_by_label("会议记录/文件编号").fill("离退休支〔2026〕3号")
    for label in ("政治素质高", "热爱党的工作", "组织协调能力较强"):
        accept.get_by_label(re.compile(label)).check()
    accept.get_by_label("考察意见").fill("两名组长人选均为正式党员，经支部委员会考察同意。")
    journey.shoot(secretary, "07-split-decision")
    accept.get_by_role("button", name="确认方案并建立党小组").click()

    expect(secretary).to_have_url(re.compile(r"/groups/\?branch=\d+$"))
    expect(secretary.get_by_role("alert").first).to_contain_text("已按划分方案建立2个党小组")
    expect(secretary.locator(".group-row .group-name a")).to_have_text(list(names))
    journey.shoot(secretary, "08-groups-created", guide=DESKTOP)
    groups = {g.name: g for g in PartyGroup.objects.filter(branch=branch)}
    assert set(groups) == set(names)
    today = timezone.localdate()
    placed = dict(
        GroupMembership.objects.current(today)
        .filter(group__branch=branch)
        .values_list("member_id", "group__name")
    )
    active = Member.objects.filter(branch=branch, state=MemberState.ACTIVE)
    assert set(placed) == set(active.values_list("pk", flat=True))
    assert placed[moved.pk] == names[1]
    assert list(placed.values()).count(names[0]) == first_count - 1
    changes = GroupChange.objects.filter(branch=branch)
    assert {c.group.name for c in changes} == set(names)
    assert {c.document_number for c in changes} == {"离退休支〔2026〕3号"}

    # The decision is filed with the higher organisation from the dashboard, in place.
    secretary.locator("nav.navbar").get_by_role("link", name="支部工作台").click()
    filings = secretary.locator("#filings .dash-change-row")
    expect(filings).to_have_count(len(changes))
    journey.shoot(secretary, "09-dashboard-filings", guide=DESKTOP)
    in_place(secretary)
    first = filings.first
    first.get_by_role("button", name="报上级备案").click()
    expect(first).to_contain_text("已报上级党组织备案（R-05）。")
    assert_same_document(secretary)
    journey.shoot(secretary, "10-dashboard-filed")
    assert sorted(
        GroupChange.objects.filter(branch=branch).values_list("filing_status", flat=True)
    ) == sorted([FilingStatus.FILED, FilingStatus.PENDING])


# --- 3. Organisation staff: the heatmap, filtered, and a branch read-only -----------------------


def overview_journey(journey: Journey) -> None:
    """R-10 (the month × group heatmap of held group meetings), R-05 (acknowledging a filing), and a
    branch's dashboard read-only: organisation staff see the approval queue but cannot act."""
    today = timezone.localdate()
    year = today.year - 1
    branch = Branch.objects.get(name="市财政局机关第一党支部")

    staff = journey.open_as(ORG_STAFF, login_shot="01-login")
    expect(staff).to_have_url(re.compile(r"/dashboard/overview/$"))
    expect(staff.locator("h1")).to_have_text(f"组织部门总览 · {today.year}年")
    expect(staff.locator("tr.dash-heatmap-branch")).to_have_count(Branch.objects.count())
    # Findings by rule over every branch of the organisation, as checked live (stored counts).
    live: dict[str, list[int]] = {}
    for finding in collect_findings(Branch.objects.all(), today):
        live.setdefault(finding.rule_id, [0, 0])[0 if finding.is_violation else 1] += 1
    assert live  # the demo has its deliberate violations
    rule_rows = staff.locator("table.dash-rule-counts tbody tr")
    expect(rule_rows).to_have_count(len(live))
    for rule_id, (violations, advisories) in live.items():
        row = staff.locator(f"table.dash-rule-counts tr[data-rule='{rule_id}']")
        expect(row.locator("[data-violations]")).to_have_text(str(violations))
        expect(row.locator("[data-advisories]")).to_have_text(str(advisories))
    journey.shoot(staff, "02-overview", guide=DESKTOP)

    # Check again now (after fixing something): queued in the background, back to the same page.
    staff.get_by_role("button", name="立即重新检查").click()
    expect(staff.locator(".alert")).to_contain_text(f"已开始重新检查 {Branch.objects.count()} 个党支部")
    expect(staff).to_have_url(re.compile(r"/dashboard/overview/$"))

    # acknowledge the filed change of 宣传科党小组, in place.
    in_place(staff)
    filing = staff.locator("#filings .dash-filing-row").filter(has_text="宣传科党小组")
    filing.get_by_placeholder("备案意见（可选）").fill("同意备案。")
    filing.get_by_role("button", name="备案").click()
    expect(filing).to_contain_text("已备案（R-05）。")
    expect(filing.locator("[data-actions]")).to_have_count(0)
    assert_same_document(staff)
    journey.shoot(staff, "03-overview-acknowledged", guide=DESKTOP)
    assert (
        GroupChange.objects.get(
            group__name="宣传科党小组", filing_status=FilingStatus.ACKNOWLEDGED
        ).organisation_comment
        == "同意备案。"
    )

    # Filter: one branch, last year.
    staff.locator(".filter-box > summary").click()
    staff.get_by_label("党支部", exact=True).select_option(label=branch.name)
    staff.get_by_label("年度").fill(str(year))
    staff.get_by_role("button", name="查询").click()
    expect(staff).to_have_url(re.compile(rf"[?&]year={year}"))
    expect(staff.locator("h1")).to_have_text(f"组织部门总览 · {year}年")
    blocks = staff.locator("tr.dash-heatmap-branch")
    expect(blocks).to_have_count(1)
    expect(blocks).to_have_attribute("data-branch-id", str(branch.pk))
    # The groups that existed in that year (as the heatmap counts them).
    groups = PartyGroup.objects.filter(branch=branch, established_on__lte=dt.date(year, 12, 31)).filter(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=dt.date(year, 1, 1))
    )
    rows = staff.locator("tr[data-group-id]")
    expect(rows).to_have_count(groups.count())
    for group in groups:
        held = {
            str(m)
            for m in Meeting.objects.filter(
                group=group, kind=MeetingKind.GROUP_MEETING, held_on__year=year, state__in=sorted(HELD_STATES)
            ).values_list("held_on__month", flat=True)
        }
        cells = staff.locator(f"tr[data-group-id='{group.pk}'] td.dash-heat-held")
        assert set(cells.evaluate_all("cells => cells.map(c => c.dataset.month)")) == held, group.name
    journey.shoot(staff, "04-overview-filtered", guide=DESKTOP)

    # Drill down: the branch's dashboard, read-only — the queue is visible, no action anywhere.
    blocks.get_by_role("link", name=branch.name).click()
    expect(staff).to_have_url(re.compile(rf"/dashboard/branch/{branch.pk}/$"))
    expect(staff.locator("[data-read-only]")).to_have_text("只读查看")
    expect(staff.locator("#approval-queue .dash-queue-row")).not_to_have_count(0)
    expect(staff.locator("#branch-main form")).to_have_count(0)
    expect(staff.locator("#branch-main [data-actions]")).to_have_count(0)
    journey.shoot(staff, "05-branch-read-only", guide=DESKTOP)


# --- 4. A plain member: their own page and an archived minutes PDF ------------------------------


def member_journey(journey: Journey) -> None:
    """R-06 (group history), R-12 (archived minutes of their own group), personal data masked."""
    member = Member.objects.get(user__username=MEMBER)
    group = GroupMembership.objects.current(timezone.localdate()).get(member=member).group
    archived = Meeting.objects.filter(group=group, state=MeetingState.ARCHIVED)

    page = journey.open_as(MEMBER, login_shot="01-login")
    expect(page).to_have_url(re.compile(r"/dashboard/me/$"))
    expect(page.locator("h1")).to_have_text("我的党员信息")
    id_number = page.locator("[data-id-number]")
    expect(id_number).to_contain_text("*")
    assert member.id_number not in id_number.inner_text()
    # Only the member's own pages in the menu: no branch dashboard, registry or workspace.
    expect(page.locator("nav.navbar").get_by_role("link", name="支部工作台")).to_have_count(0)
    expect(page.locator("nav.navbar").get_by_role("link", name="党员名册")).to_have_count(0)
    expect(page.locator("nav.navbar").get_by_role("link", name="我的工作台")).to_have_count(0)
    listed = page.locator("[data-meeting-id]")
    expect(listed).to_have_count(archived.count())
    journey.shoot(page, "02-me", guide=PHONE)

    latest = archived.order_by("-held_on", "-pk").first()
    row = page.locator(f"[data-meeting-id='{latest.pk}']")
    row.get_by_role("link", name=latest.title).click()
    expect(page).to_have_url(re.compile(rf"/meetings/{latest.pk}/$"))
    expect(page.locator("h1")).to_contain_text(latest.title)
    journey.shoot(page, "03-meeting-archived", guide=PHONE)

    page.go_back()
    with page.expect_download() as download:
        page.locator(f"[data-meeting-id='{latest.pk}']").get_by_role("link", name="PDF").click()
    text = squeeze(pdf_text_of(download.value, ARTIFACTS_DIR / "member"))
    assert squeeze(latest.title) in text
    assert latest.archive_number in text


# --- 5. The administrator: the admin site -------------------------------------------------------


def admin_journey(journey: Journey) -> None:
    """The superuser sees every branch (the overview) and keeps the configuration in the admin site:
    members (found by name) and the rule sets (R-37)."""
    admin = journey.open_as(ADMIN, login_shot="01-login")
    expect(admin).to_have_url(re.compile(r"/dashboard/overview/$"))
    expect(admin.locator("tr.dash-heatmap-branch")).to_have_count(Branch.objects.count())
    journey.shoot(admin, "02-overview")

    admin.locator("nav.navbar").get_by_role("link", name="管理后台").click()
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    expect(admin.locator("#site-name")).to_contain_text("党小组工作管理系统 · 管理后台")
    journey.shoot(admin, "03-admin-index", guide=DESKTOP)

    admin.locator("#content-main").get_by_role("link", name="党员", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/members/member/$"))
    expect(admin.locator("#result_list tbody tr")).not_to_have_count(0)
    journey.shoot(admin, "04-admin-members")
    admin.locator("#searchbar").fill("张堃")
    admin.locator("#searchbar").press("Enter")
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("张堃")
    journey.shoot(admin, "05-admin-member-search", guide=DESKTOP)

    admin.goto(journey.url("/admin/members/ruleset/"))
    expect(admin.locator("#result_list tbody tr")).to_have_count(RuleSet.objects.count())
    expect(admin.locator("#result_list")).to_contain_text("central-2019")
    expect(admin.locator("#result_list")).to_contain_text("loudi-2023")
    journey.shoot(admin, "06-admin-rule-sets", guide=DESKTOP)


# --- The test: every journey on one demo -------------------------------------------------------

JOURNEYS = {
    "meeting": meeting_journey,
    "split": split_journey,
    "overview": overview_journey,
    "member": member_journey,
    "admin": admin_journey,
}


def test_every_role_journey_on_the_demo_data(start_journey, subtests):
    """Each role's journey (above) as a subtest of ONE test: the demo is built once per database run
    even when xdist deals the suite's tests to several workers (``demo_site`` is per module, but
    xdist would split a module's tests between workers, and each would build it again). A failed
    journey does not stop the others; each is reported under its name."""
    for name, journey_steps in JOURNEYS.items():
        with subtests.test(msg=name), start_journey(name) as journey:
            journey_steps(journey)


def test_guide_shows_exactly_the_screenshots_the_journeys_select():
    """docs/guide/*.md and docs/guide/img/ agree: every picture the guide shows exists (a renamed
    shot breaks no link unnoticed), and every committed picture is shown (no orphans)."""
    referenced = {
        match
        for page in GUIDE_DIR.parent.glob("*.md")
        for match in re.findall(r"img/[a-z0-9/-]+\.png", page.read_text(encoding="utf-8"))
    }
    committed = {f"img/{path.relative_to(GUIDE_DIR).as_posix()}" for path in GUIDE_DIR.rglob("*.png")}
    assert referenced
    assert referenced == committed

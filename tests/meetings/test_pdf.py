"""meetings/pdf.py and ``manage.py render_minutes``: the minutes PDF follows seed 002's template (R-14).

Each test renders a real PDF (WeasyPrint, Noto CJK) and reads it back with poppler-utils
(``pdftotext -layout``, ``pdffonts``, ``pdfdetach -list``, ``pdfinfo``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from weasyprint.urls import URLFetcher

from meetings import services
from meetings.enums import (
    MINUTES_TITLES,
    ActionItemStatus,
    AttendanceRole,
    EvaluationGrade,
    MeetingKind,
    MeetingState,
)
from meetings.models import Meeting
from meetings.pdf import (
    MinutesUnavailableError,
    chinese_numeral,
    has_printable_minutes,
    minutes_content_disposition,
    minutes_context,
    minutes_filename,
    minutes_pdf,
)
from partygroup.pdf import (
    StaticOnlyURLFetcher,
    pdf_attachment_count,
    pdf_fonts,
    pdf_page_count,
    pdf_text,
)
from tests.meetings.factories import LIFE_RECORD, make_meeting

STYLES = ["appstatic:pdf/house.css", "appstatic:pdf/minutes.css"]
WATERMARK = "appstatic:pdf/draft-watermark.svg"

H_IMG = '<img src="file:///etc/passwd">'
H_LINK = '<link rel="attachment" href="file:///etc/passwd">'
H_IMPORT = "<style>@import url(http://127.0.0.1:9/);</style>"
H_SCRIPT = "<script>alert(1)</script>"


def squeeze(text: str) -> str:
    return "".join(text.split())


def pages_of(pdf: bytes) -> list[list[str]]:
    """The non-empty lines of each page of ``pdftotext -layout``."""
    pages = pdf_text(pdf).split("\f")
    return [[line for line in page.splitlines() if line.strip()] for page in pages if page.strip()]


def body_of(pdf: bytes) -> str:
    """The text without the page furniture (running header on pages 2…, footer on every page),
    whitespace removed: what the record says, in reading order."""
    parts = []
    for number, lines in enumerate(pages_of(pdf), 1):
        body = lines[1:-1] if number > 1 else lines[:-1]
        parts.append(squeeze("".join(body)))
    return "".join(parts)


def assert_in_order(text: str, needles: list[str]) -> None:
    position = 0
    for needle in needles:
        found = text.find(squeeze(needle), position)
        assert found >= 0, f"“{needle}” missing after position {position}"
        position = found + len(squeeze(needle))


@pytest.fixture
def day():
    return timezone.localdate() - dt.timedelta(days=10)


@pytest.fixture
def record(world, day):
    """A group meeting with everything the template holds, walked through the services and archived:
    two absentees with reasons, an observer from outside the group and one from the branch committee,
    three agenda items with speakers, two decided matters, a follow-up of an earlier matter and an
    addendum."""
    earlier = make_meeting(
        world.group, world.leader, state=MeetingState.ARCHIVED, held_on=day - dt.timedelta(30)
    )
    earlier_item = earlier.action_items.get()
    meeting = make_meeting(
        world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=day, title="十月份党小组会"
    )
    leader, present, away, sick = world.members
    secretary = world.secretary.member
    services.minutes_save(
        meeting=meeting,
        by=world.leader,
        mark_held=True,
        held_on=day,
        half_day="pm",
        start_time=dt.time(14, 30),
        end_time=dt.time(16, 45),
        place="机关二号楼三楼会议室",
        host=leader,
        recorder=present,
        opening="根据党支部工作安排，今天我们召开党小组会。",
        chair_summary="大家发言积极，意见明确。",
        attendance=[
            services.AttendanceInput(role=AttendanceRole.PRESENT, member=leader),
            services.AttendanceInput(role=AttendanceRole.PRESENT, member=present),
            services.AttendanceInput(role=AttendanceRole.ABSENT, member=away, absence_reason="出差在外"),
            services.AttendanceInput(role=AttendanceRole.ABSENT, member=sick, absence_reason="病假"),
            services.AttendanceInput(
                role=AttendanceRole.OBSERVER, person_name="赵建国", person_title="副局长"
            ),
            services.AttendanceInput(role=AttendanceRole.OBSERVER, member=secretary, person_title="支部书记"),
        ],
        agenda_items=[
            services.AgendaItemInput(
                title="学习机关党委关于加强党小组建设的通知要求",
                record="集体学习通知全文。\n逐条对照本组情况。",
                speeches=[
                    services.SpeechInput(speaker=present, views="通知要求具体，要逐条落实。"),
                    services.SpeechInput(speaker_name="赵建国", views="党小组要在日常中发挥作用。"),
                    services.SpeechInput(speaker=leader, views="会后把学习要求落实到每个人。"),
                ],
            ),
            services.AgendaItemInput(
                title="讨论对入党申请人的意见",
                record="介绍入党申请人的现实表现。",
                speeches=[
                    services.SpeechInput(speaker=secretary, views="同意推荐为入党积极分子人选。"),
                    services.SpeechInput(speaker=leader, views="一致同意推荐。"),
                ],
            ),
            services.AgendaItemInput(title="通报党费收缴情况", record="本季度党费已全部收缴。"),
        ],
        action_items=[
            services.ActionItemInput(
                description="组织观看警示教育片",
                measures="由组织委员联系放映场地",
                owner=present,
                due_on=day + dt.timedelta(days=20),
                agenda_number=1,
            ),
            services.ActionItemInput(
                description="报送入党积极分子推荐人选",
                owner=leader,
                due_on=day + dt.timedelta(days=5),
                agenda_number=2,
            ),
        ],
        follow_ups=[
            services.FollowUpInput(
                action_item=earlier_item,
                note="心得已在本次会上交流",
                status_after=ActionItemStatus.DONE,
                completed_on=day,
            )
        ],
    )
    meeting = services.meeting_report(meeting=meeting, by=world.leader)
    meeting = services.meeting_archive(meeting=meeting, by=world.secretary)
    services.addendum_add(
        meeting=meeting, text="议题二的推荐人选为张某某。", reason="记录遗漏", by=world.secretary
    )
    meeting.refresh_from_db()
    return meeting


@pytest.fixture
def record_pdf(record):
    fetcher = StaticOnlyURLFetcher()
    result = minutes_pdf(record, url_fetcher=fetcher)
    return result, fetcher


def cn(day: dt.date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def test_minutes_pdf_prints_every_template_field_in_the_templates_order(record, record_pdf):
    """R-14, seed 002: 时间、地点、主持人、参加人员、缺席人员、列席人员、会议议题、会议内容 (议题一 …),
    the chair's conclusion with the report line, then decided matters and the signature lines."""
    result, _fetcher = record_pdf
    assert_in_order(
        body_of(result),
        [
            "办公室党支部　第一党小组",
            "党小组会议记录",
            "时间：",
            "地点：",
            "主持人：",
            "参加人员：",
            "缺席人员：",
            "列席人员：",
            "会议议题：",
            "会议内容：",
            "议题一：",
            "议题二：",
            "议题三：",
            "（主持人）：大家发言积极",
            "我们组如实向支部委员会报告大家的意见。",
            "议定事项",
            "前次议定事项跟进",
            "主持人：",
            "签字：",
            "记录人：",
            "签字：",
            "补正记录",
        ],
    )


def test_minutes_pdf_prints_the_record(world, record, record_pdf, day):
    result, _fetcher = record_pdf
    leader, present, away, sick = world.members
    secretary = world.secretary.member
    text = body_of(result)
    assert_in_order(
        text,
        [
            f"时间：{cn(day)}，下午，14:30—16:45",
            "地点：机关二号楼三楼会议室",
            f"主持人：{leader.name}（党小组组长）",
            f"参加人员：{leader.name}、{present.name}（共2人）",
            f"缺席人员：{away.name}（出差在外）、{sick.name}（病假）",
            f"列席人员：赵建国（副局长）、{secretary.name}（支部书记）",
            "一、学习机关党委关于加强党小组建设的通知要求",
            "二、讨论对入党申请人的意见",
            "三、通报党费收缴情况",
            f"{leader.name}（主持人）：根据党支部工作安排，今天我们召开党小组会。",
            "议题一：学习机关党委关于加强党小组建设的通知要求",
            "集体学习通知全文。",
            "逐条对照本组情况。",
            "党员分别发言：",
            f"{present.name}：通知要求具体，要逐条落实。",
            "赵建国：党小组要在日常中发挥作用。",
            f"{leader.name}：会后把学习要求落实到每个人。",
            "议题二：讨论对入党申请人的意见",
            f"{secretary.name}：同意推荐为入党积极分子人选。",
            f"{leader.name}：一致同意推荐。",
            "议题三：通报党费收缴情况",
            "本季度党费已全部收缴。",
            f"{leader.name}（主持人）：大家发言积极，意见明确。我们组如实向支部委员会报告大家的意见。",
            "1.组织观看警示教育片（议题一）",
            "落实措施：由组织委员联系放映场地",
            f"责任人：{present.name}完成时限：{cn(day + dt.timedelta(days=20))}状态：未开始",
            "2.报送入党积极分子推荐人选（议题二）",
            "落实措施：无",
            f"责任人：{leader.name}完成时限：{cn(day + dt.timedelta(days=5))}状态：未开始",
            "1.整理学习心得，下次党小组会交流",
            "进展情况：心得已在本次会上交流",
            "跟进后状态：已完成",
            f"主持人：{leader.name}签字：",
            f"记录人：{present.name}签字：",
            f"存档编号：{record.archive_number}",
            "补正一",
            "原因：记录遗漏",
            "议题二的推荐人选为张某某。",
        ],
    )
    # The third item has no speeches: "党员分别发言" is printed for the first two only.
    assert text.count("党员分别发言：") == 2
    assert "草稿" not in squeeze(pdf_text(result))


def test_minutes_pdf_numbers_every_page_and_repeats_the_header(record, record_pdf):
    result, _fetcher = record_pdf
    pages = pages_of(result)
    total = pdf_page_count(result)
    assert total >= 2  # the record fixture fills more than one page
    assert len(pages) == total
    assert [" ".join(lines[-1].split()) for lines in pages] == [
        f"第 {n} 页 共 {total} 页" for n in range(1, total + 1)
    ]
    for lines in pages[1:]:
        assert squeeze(lines[0]) == f"办公室党支部第一党小组存档编号：{record.archive_number}"
    # Page 1 carries the organisation and the archive number in its body, not in a running header.
    assert [squeeze(line) for line in pages[0][:3]] == [
        "办公室党支部第一党小组",
        f"存档编号：{record.archive_number}",
        "党小组会议记录",
    ]


def test_minutes_pdf_embeds_the_serif_cjk_font_and_nothing_else(record_pdf):
    result, fetcher = record_pdf
    fonts_found = pdf_fonts(result)
    names = {re.sub(r"^[A-Z]{6}\+", "", f["name"]) for f in fonts_found}
    assert names == {"Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold"}
    assert {f["embedded"] for f in fonts_found} == {"yes"}
    assert not [f for f in fonts_found if "Type 3" in f["type"]]
    assert pdf_attachment_count(result) == 0
    assert fetcher.requested == STYLES
    assert fetcher.refused == []


def test_minutes_pdf_of_a_meeting_not_archived_is_marked_draft(world):
    """Decision (docs/pdf.md): only the archived record is filed (R-12); before that the PDF carries
    the watermark and the header "草稿（未存档）" and no archive number."""
    meeting = make_meeting(world.group, world.leader, state=MeetingState.REPORTED)
    fetcher = StaticOnlyURLFetcher()
    result = minutes_pdf(meeting, url_fetcher=fetcher)
    text = squeeze(pdf_text(result))
    assert "草稿（未存档）" in text
    assert "存档编号" not in text
    assert fetcher.requested == [*STYLES, WATERMARK]
    assert fetcher.served == fetcher.requested


def test_minutes_pdf_of_notified_meeting_with_minutes_prints_the_draft(world):
    """Minutes written but the meeting not yet marked held: printable, as a draft."""
    meeting = make_meeting(
        world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=timezone.localdate()
    )
    assert has_printable_minutes(meeting) is False
    leader, present, away, sick = world.members
    services.minutes_save(
        meeting=meeting,
        by=world.leader,
        held_on=meeting.planned_date,
        half_day="am",
        start_time=dt.time(9, 0),
        end_time=dt.time(10, 0),
        place="一楼会议室",
        host=leader,
        recorder=present,
        chair_summary="会议记录草稿。",
        attendance=[
            services.AttendanceInput(role=AttendanceRole.PRESENT, member=m) for m in (leader, present, away)
        ]
        + [services.AttendanceInput(role=AttendanceRole.ABSENT, member=sick, absence_reason="休假")],
        agenda_items=[services.AgendaItemInput(title="学习新党章")],
    )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.NOTIFIED
    assert has_printable_minutes(meeting) is True
    text = body_of(minutes_pdf(meeting))
    assert_in_order(
        text, ["草稿（未存档）", "时间：", "上午，09:00—10:00", "缺席人员：", f"{sick.name}（休假）"]
    )
    assert "本次会议无议定事项。" in text


@pytest.mark.parametrize("kind", list(MeetingKind))
def test_minutes_pdf_title_is_the_kinds_title(world, kind):
    meeting = make_meeting(world.group, world.leader, kind=kind, state=MeetingState.HELD)
    lines = pages_of(minutes_pdf(meeting))[0]
    titles = [squeeze(line) for line in lines if squeeze(line) in set(MINUTES_TITLES.values())]
    assert titles == [MINUTES_TITLES[kind]]


def test_minutes_pdf_prints_the_life_meetings_steps(world):
    """R-18: before (study, talks, opinions), during (problems, criticism, direction), after; the
    rectification measures are marked among the decided matters."""
    meeting = make_meeting(
        world.group, world.leader, kind=MeetingKind.LIFE_MEETING, state=MeetingState.REPORTED
    )
    text = body_of(minutes_pdf(meeting))
    assert_in_order(
        text,
        [
            "党小组组织生活会记录",
            "组织生活会各环节",
            f"会议主题：{LIFE_RECORD['theme']}",
            "会前",
            f"围绕主题组织学习：{LIFE_RECORD['before_study']}",
            f"开展谈心谈话：{LIFE_RECORD['before_talks']}",
            f"听取意见：{LIFE_RECORD['before_opinions']}",
            "会上",
            f"查摆问题：{LIFE_RECORD['during_problems']}",
            f"批评和自我批评：{LIFE_RECORD['during_criticism']}",
            f"明确整改方向：{LIFE_RECORD['during_direction']}",
            "会后",
            "整改落实情况：（待填写）",
            "议定事项",
            "1.（整改措施）整理学习心得",
        ],
    )
    assert "民主评议结果" not in text


def test_minutes_pdf_prints_the_evaluation_results(world):
    """R-19: each member's self-evaluation and peer-evaluation result."""
    meeting = make_meeting(
        world.group, world.leader, kind=MeetingKind.EVALUATION, state=MeetingState.ARCHIVED
    )
    text = body_of(minutes_pdf(meeting))
    results = list(meeting.evaluations.select_related("member").order_by("member__name"))
    assert len(results) == len(world.members)
    expected = ["民主评议结果"]
    for n, result in enumerate(results, 1):
        expected += [
            f"{n}.{result.member.name}党员互评结果：{EvaluationGrade(result.peer_result).label}",
            f"党性分析和个人自评：{result.self_evaluation}",
        ]
    assert_in_order(text, [*expected, "议定事项"])
    assert "组织生活会各环节" not in text


def test_minutes_pdf_renders_hostile_text_as_text(world, day, monkeypatch):
    """Markup in every user field prints literally; the fetcher is asked for the style sheets only;
    nothing is attached; WeasyPrint's own fetcher is never used (FACTS.md)."""
    asked: list[str] = []
    default_asked: list[str] = []
    original_fetch = StaticOnlyURLFetcher.fetch

    def recording_fetch(self, url, headers=None):
        asked.append(url)
        return original_fetch(self, url, headers)

    def default_fetch(self, url, headers=None):
        default_asked.append(url)
        raise OSError("WeasyPrint's default fetcher must not be used")

    monkeypatch.setattr(StaticOnlyURLFetcher, "fetch", recording_fetch)
    monkeypatch.setattr(URLFetcher, "fetch", default_fetch)

    meeting = make_meeting(
        world.group, world.leader, state=MeetingState.NOTIFIED, planned_date=day, title=H_SCRIPT
    )
    leader, present, away, sick = world.members
    services.minutes_save(
        meeting=meeting,
        by=world.leader,
        mark_held=True,
        held_on=day,
        half_day="pm",
        start_time=dt.time(15, 0),
        end_time=dt.time(16, 0),
        place=H_IMG,
        host=leader,
        recorder=present,
        opening=H_LINK,
        chair_summary=f"{H_IMPORT}\n{H_SCRIPT}",
        attendance=[
            services.AttendanceInput(role=AttendanceRole.PRESENT, member=m) for m in (leader, present, away)
        ]
        + [
            services.AttendanceInput(role=AttendanceRole.ABSENT, member=sick, absence_reason=H_LINK),
            services.AttendanceInput(role=AttendanceRole.OBSERVER, person_name=H_IMG, person_title=H_SCRIPT),
        ],
        agenda_items=[
            services.AgendaItemInput(
                title=H_SCRIPT,
                record=f"{H_IMPORT}\n{H_IMG}",
                speeches=[
                    services.SpeechInput(speaker_name=H_SCRIPT, views=H_LINK),
                    services.SpeechInput(speaker=present, views=H_IMPORT),
                ],
            )
        ],
        action_items=[
            services.ActionItemInput(
                description=H_IMG, measures=H_LINK, owner=present, due_on=day + dt.timedelta(days=9)
            )
        ],
    )
    services.meeting_report(meeting=meeting, by=world.leader)
    services.meeting_archive(meeting=meeting, by=world.secretary)
    services.addendum_add(meeting=meeting, text=H_LINK, reason=H_SCRIPT, by=world.secretary)
    meeting.refresh_from_db()

    result = minutes_pdf(meeting)

    text = squeeze(pdf_text(result))
    for hostile in (H_IMG, H_LINK, H_IMPORT, H_SCRIPT, "@import url(http://127.0.0.1:9/)"):
        assert squeeze(hostile) in text, hostile
    assert text.count(squeeze(H_IMG)) == 4  # place, observer, record, decided matter
    assert text.count(squeeze(H_LINK)) == 5  # opening, absentee's reason, speech, measures, addendum
    assert "root:" not in text
    assert pdf_attachment_count(result) == 0
    assert asked == STYLES
    assert default_asked == []


@pytest.mark.parametrize(
    "state",
    [
        MeetingState.DRAFT,
        MeetingState.SUBMITTED,
        MeetingState.RETURNED,
        MeetingState.APPROVED,
        MeetingState.NOTIFIED,  # notified, minutes not written yet
        MeetingState.CANCELLED,
    ],
)
def test_minutes_pdf_refuses_a_meeting_without_minutes(world, state):
    meeting = make_meeting(world.group, world.leader, state=state)
    assert has_printable_minutes(meeting) is False
    with pytest.raises(MinutesUnavailableError, match=r"会议.*(没有可打印的会议记录|尚未填写会议记录)"):
        minutes_pdf(meeting)


def test_minutes_context_queries_do_not_grow_with_the_record(world, record):
    """The record fixture has 3 agenda items, 5 speeches, 6 attendances, a follow-up and an addendum;
    a plain meeting has fewer of each: the number of queries is the same."""
    plain = make_meeting(world.group, world.leader, state=MeetingState.ARCHIVED)
    counts = []
    for meeting in (plain, record):
        with CaptureQueriesContext(connection) as queries:
            minutes_context(Meeting.objects.get(pk=meeting.pk))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 12


@pytest.mark.parametrize(
    ("number", "numeral"),
    [
        (1, "一"),
        (2, "二"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (35, "三十五"),
        (99, "九十九"),
        (100, "100"),
    ],
)
def test_chinese_numeral_numbers_agenda_items(number, numeral):
    assert chinese_numeral(number) == numeral


def test_minutes_filename_names_kind_group_and_date(world, record, day):
    assert minutes_filename(record) == f"党小组会议记录-第一党小组-{day:%Y-%m-%d}.pdf"
    header = minutes_content_disposition(record)
    assert header.startswith("attachment; filename*=utf-8''")
    assert "%E5%85%9A%E5%B0%8F%E7%BB%84" in header  # 党小组, RFC 5987
    assert minutes_content_disposition(record, as_attachment=False).startswith("inline; ")


def test_minutes_filename_strips_characters_unsafe_in_file_names(record, day):
    record.group.name = '第一/党小组:"A"\r\n'
    assert minutes_filename(record) == f"党小组会议记录-第一_党小组_A-{day:%Y-%m-%d}.pdf"
    assert not set('/\\:"\r\n') & set(minutes_filename(record))


def test_render_minutes_writes_the_pdf(record, tmp_path):
    target = tmp_path / "minutes.pdf"
    call_command("render_minutes", str(record.pk), "-o", str(target))
    written = target.read_bytes()
    assert written.startswith(b"%PDF-")
    assert "党小组会议记录" in squeeze(pdf_text(written))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minutes.pdf"]  # no temporary file left


def test_render_minutes_into_a_directory_uses_the_standard_name(record, tmp_path):
    call_command("render_minutes", str(record.pk), "-o", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == [minutes_filename(record)]


def test_render_minutes_refuses_an_unknown_meeting(db, tmp_path):
    with pytest.raises(CommandError, match="ID 为 999999 的会议不存在"):
        call_command("render_minutes", "999999", "-o", str(tmp_path / "x.pdf"))
    assert list(tmp_path.iterdir()) == []


def test_render_minutes_refuses_a_meeting_without_minutes(world, tmp_path):
    meeting = make_meeting(world.group, world.leader, state=MeetingState.APPROVED)
    with pytest.raises(CommandError, match="没有可打印的会议记录"):
        call_command("render_minutes", str(meeting.pk), "-o", str(tmp_path / "x.pdf"))
    assert list(tmp_path.iterdir()) == []


def test_render_minutes_refuses_a_missing_directory(record, tmp_path):
    with pytest.raises(CommandError, match="输出目录"):
        call_command("render_minutes", str(record.pk), "-o", str(Path(tmp_path) / "nope" / "x.pdf"))

"""The minutes of a meeting as a PDF that follows seed 002's template "党小组会议记录" (R-14).

Order of the template: 时间、地点、主持人、参加人员、缺席人员（注明缺席原因）、列席人员、会议议题、
会议内容 (opening, 议题一/议题二 … with the speakers' main views in speaking order, the chair's conclusion
and the line that the group reports its views to the branch committee); then the decided matters
(R-16), the follow-ups of earlier matters, the life meeting's steps (R-18) or the evaluation results
(R-19), the signature lines and, once archived, the archive number and the addenda (R-12).

Only meetings whose minutes exist are printed (``PRINTABLE_STATES``). A record not yet archived
carries the watermark "草稿" and the header "草稿（未存档）": only the archived record is the copy
filed for inspection (R-12).
The caller (view, command) authorises the user before calling ``minutes_pdf``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from groups.enums import LeaderRole
from groups.models import LeaderAppointment
from meetings.enums import AttendanceRole, MeetingKind, MeetingState
from meetings.models import Meeting, Minutes
from meetings.selectors import with_full_record
from partygroup.pdf import StaticOnlyURLFetcher, render_pdf

TEMPLATE = "meetings/pdf/minutes.html"
# States in which minutes may exist and be printed: notified (minutes being written), held,
# reported, archived. A cancelled meeting prints nothing.
PRINTABLE_STATES = frozenset(
    {MeetingState.NOTIFIED, MeetingState.HELD, MeetingState.REPORTED, MeetingState.ARCHIVED}
)

_DIGITS = "零一二三四五六七八九"


class MinutesUnavailableError(Exception):
    """The meeting has no minutes to print (message in Chinese)."""


def chinese_numeral(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (agenda items are numbered 一、二、…)."""
    if not 1 <= number <= 99:
        return str(number)
    tens, units = divmod(number, 10)
    if tens == 0:
        return _DIGITS[units]
    prefix = "" if tens == 1 else _DIGITS[tens]
    return f"{prefix}十{_DIGITS[units] if units else ''}"


def cn_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日" if day else ""


def time_line(minutes: Minutes) -> str:
    """时间：YYYY年MM月DD日，上午/下午，HH:MM—HH:MM (seed 002)."""
    return (
        f"{cn_date(minutes.held_on)}，{minutes.get_half_day_display()}，"
        f"{minutes.start_time:%H:%M}—{minutes.end_time:%H:%M}"
    )


def has_printable_minutes(meeting: Meeting) -> bool:
    """Whether ``minutes_pdf`` will print this meeting (for showing the link on screens)."""
    return meeting.state in PRINTABLE_STATES and Minutes.objects.filter(meeting_id=meeting.pk).exists()


def _load(meeting_id: int) -> Meeting:
    """The meeting with everything the minutes print, in a fixed number of queries."""
    return with_full_record(Meeting.objects.all(), with_addenda=True).get(pk=meeting_id)


def _host_role(meeting: Meeting, minutes: Minutes) -> str:
    """ "党小组组长"/"党小组副组长" when the host held that post on the day, else ""."""
    role = (
        LeaderAppointment.objects.current(minutes.held_on)
        .filter(group_id=meeting.group_id, member_id=minutes.host_id)
        .values_list("role", flat=True)
        .first()
    )
    if role == LeaderRole.LEADER:
        return _("党小组组长")
    if role == LeaderRole.DEPUTY:
        return _("党小组副组长")
    return ""


def _require_printable(meeting: Meeting) -> Minutes:
    if meeting.state not in PRINTABLE_STATES:
        raise MinutesUnavailableError(
            _("会议“%(title)s”当前状态为“%(state)s”，没有可打印的会议记录。")
            % {"title": meeting.title, "state": meeting.get_state_display()}
        )
    try:
        return meeting.minutes
    except Minutes.DoesNotExist:
        raise MinutesUnavailableError(
            _("会议“%(title)s”尚未填写会议记录，不能生成 PDF。") % {"title": meeting.title}
        ) from None


def minutes_context(meeting: Meeting) -> dict[str, Any]:
    """Everything the template prints, as plain values in the template's order."""
    meeting = _load(meeting.pk)
    minutes = _require_printable(meeting)
    attendances = list(meeting.attendances.all())
    present = [a.display_name for a in attendances if a.role == AttendanceRole.PRESENT]
    absent = [
        f"{a.display_name}（{a.absence_reason}）" for a in attendances if a.role == AttendanceRole.ABSENT
    ]
    observers = [
        f"{a.display_name}（{a.person_title}）" if a.person_title else a.display_name
        for a in attendances
        if a.role == AttendanceRole.OBSERVER
    ]
    agenda = [
        {
            "numeral": chinese_numeral(item.number),
            "title": item.title,
            "record": item.record,
            "speeches": [{"name": s.display_name, "views": s.views} for s in item.speeches.all()],
        }
        for item in meeting.agenda_items.all()
    ]
    actions = [
        {
            "number": n,
            "description": a.description,
            "measures": a.measures,
            "owner": a.owner.name,
            "due_on": cn_date(a.due_on),
            "status": a.get_status_display(),
            "completed_on": cn_date(a.completed_on),
            "agenda": chinese_numeral(a.agenda_item.number) if a.agenda_item_id else "",
            "is_rectification": a.is_rectification,
        }
        for n, a in enumerate(meeting.action_items.all(), 1)
    ]
    follow_ups = [
        {
            "description": f.action_item.description,
            "owner": f.action_item.owner.name,
            "decided_on": cn_date(f.action_item.meeting.held_on or f.action_item.meeting.planned_date),
            "due_on": cn_date(f.action_item.due_on),
            "note": f.note,
            "status": f.get_status_after_display(),
        }
        for f in meeting.follow_ups.all()
    ]
    life_record = getattr(meeting, "life_record", None) if meeting.kind == MeetingKind.LIFE_MEETING else None
    evaluations = list(meeting.evaluations.all()) if meeting.kind == MeetingKind.EVALUATION else []
    host_role = _host_role(meeting, minutes)
    return {
        "meeting": meeting,
        "minutes": minutes,
        "title": meeting.minutes_title,
        "organisation": f"{meeting.group.branch.name}　{meeting.group.name}",
        "branch_name": meeting.group.branch.name,
        "group_name": meeting.group.name,
        "kind_label": meeting.get_kind_display(),
        "is_archived": meeting.is_archived,
        "archive_number": meeting.archive_number if meeting.is_archived else "",
        "archived_on": cn_date(timezone.localdate(meeting.archived_at)) if meeting.archived_at else "",
        "is_draft": not meeting.is_archived,
        "time_line": time_line(minutes),
        "place": minutes.place,
        "host": minutes.host.name,
        "host_line": f"{minutes.host.name}（{host_role}）" if host_role else minutes.host.name,
        "recorder": minutes.recorder.name,
        "present": present,
        "absent": absent,
        "observers": observers,
        "agenda": agenda,
        "opening": minutes.opening,
        "chair_summary": minutes.chair_summary,
        "report_line": minutes.report_line,
        "actions": actions,
        "follow_ups": follow_ups,
        "life_record": life_record,
        "evaluations": evaluations,
        "addenda": [
            {
                "numeral": chinese_numeral(a.number),
                "text": a.text,
                "reason": a.reason,
                "on": cn_date(timezone.localdate(a.created_at)),
            }
            for a in meeting.addenda.all()
        ],
        "printed_on": cn_date(timezone.localdate()),
    }


def minutes_html(meeting: Meeting) -> str:
    """The minutes as HTML (autoescaped template); raises ``MinutesUnavailableError``."""
    return render_to_string(TEMPLATE, minutes_context(meeting))


def minutes_pdf(meeting: Meeting, *, url_fetcher: StaticOnlyURLFetcher | None = None) -> bytes:
    """The minutes as an A4 PDF. Raises ``MinutesUnavailableError`` (no minutes) and
    ``partygroup.pdf.CJKFontMissingError`` (no CJK font installed)."""
    return render_pdf(minutes_html(meeting), url_fetcher=url_fetcher)


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def minutes_filename(meeting: Meeting) -> str:
    """ "党小组会议记录-<group>-<YYYY-MM-DD>.pdf": the kind's title, the group, the meeting's date."""
    day = meeting.held_on or meeting.planned_date
    group = _UNSAFE_FILENAME.sub("_", meeting.group.name).strip(" ._") or "党小组"
    return f"{meeting.minutes_title}-{group}-{day:%Y-%m-%d}.pdf"


def minutes_content_disposition(meeting: Meeting, *, as_attachment: bool = True) -> str:
    """A Content-Disposition value with the Chinese filename RFC 5987-encoded (filename*=utf-8'')."""
    return content_disposition_header(as_attachment, minutes_filename(meeting))

"""R-11: the notice of an approved meeting to every member of the group — e-mail with an .ics invitation.

``notice_send`` builds one message per member of the roster on the planned date (agenda in Chinese,
a ``METHOD:REQUEST`` calendar invitation attached), sends it through Django's mail API and records
the notice and every recipient (sent / no e-mail / failed with the error). One member's failure does
not stop or undo the others. It is called by ``meetings.services.meeting_notify``, which makes the
workflow step approved → notified and the notice one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from icalendar import Calendar, Event, vCalAddress, vText

from meetings.enums import MeetingState, NoticeStatus
from meetings.models import Meeting, MeetingNotice, NoticeRecipient
from meetings.selectors import roster_on
from members.models import Member
from partygroup.audit import audited_save

logger = logging.getLogger(__name__)

# A meeting has a planned start but no planned end: the invitation blocks this long.
DEFAULT_DURATION = dt.timedelta(hours=2)
ICS_PRODID = "-//partygroup//党小组工作管理系统//ZH"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def single_line(text: str) -> str:
    """Collapse newlines and control characters (header injection through a title is impossible)."""
    return " ".join(_CONTROL.sub(" ", text).split())


def meeting_uid(meeting: Meeting) -> str:
    """Stable per meeting, so a calendar updates the same event instead of adding another."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "partygroup"
    return f"meeting-{meeting.pk}@{single_line(domain)}"


def notice_subject(meeting: Meeting) -> str:
    subject = f"【会议通知】{meeting.group.name}{meeting.get_kind_display()}：{meeting.title}"
    return single_line(subject)[:200]


def _when(meeting: Meeting) -> str:
    day = f"{meeting.planned_date.year}年{meeting.planned_date.month}月{meeting.planned_date.day}日"
    if meeting.planned_start:
        return f"{day} {meeting.planned_start:%H:%M}"
    return day


def notice_body(meeting: Meeting) -> str:
    lines = [
        f"{meeting.group.name}全体党员：",
        "",
        f"经党支部批准，定于{_when(meeting)}召开{meeting.get_kind_display()}，"
        f"地点：{meeting.planned_place or '另行通知'}。",
        "",
        f"会议主题：{meeting.title}",
        "会议议题：",
    ]
    lines += [f"  {number}. {line}" for number, line in enumerate(meeting.agenda_lines(), 1)]
    lines += [
        "",
        "请准时参加。因故不能参加的，请会前向党小组组长请假并说明原因。",
        "",
        f"{meeting.group.name}",
    ]
    return "\n".join(lines)


def _event_times(meeting: Meeting) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    if meeting.planned_start is None:  # an all-day event on the planned date
        return meeting.planned_date, meeting.planned_date + dt.timedelta(days=1)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(meeting.planned_date, meeting.planned_start, tzinfo=tz)
    return start, start + DEFAULT_DURATION


def notice_ics(meeting: Meeting, *, attendee_email: str = "", attendee_name: str = "") -> bytes:
    """The ``METHOD:REQUEST`` invitation: UID per meeting, times in Asia/Shanghai, agenda as DESCRIPTION."""
    cal = Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", 0)
    start, end = _event_times(meeting)
    event.add("dtstamp", dt.datetime.now(tz=dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", single_line(f"{meeting.get_kind_display()}：{meeting.title}"))
    event.add("location", single_line(meeting.planned_place or ""))
    event.add("description", "\n".join(meeting.agenda_lines()))
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(single_line(meeting.group.name))
    event.add("organizer", organizer)
    if attendee_email:
        attendee = vCalAddress(f"mailto:{attendee_email}")
        attendee.params["cn"] = vText(single_line(attendee_name))
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee)
    cal.add_component(event)
    if isinstance(start, dt.datetime):
        cal.add_missing_timezones()
    return cal.to_ical()


def _message(meeting: Meeting, member: Member, subject: str, body: str, connection) -> EmailMessage:
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[member.email],
        connection=connection,
    )
    message.attach(
        "meeting.ics",
        notice_ics(meeting, attendee_email=member.email, attendee_name=member.name),
        "text/calendar; method=REQUEST; charset=utf-8",
    )
    return message


def notice_send(*, meeting: Meeting, by, roster: Sequence[Member] | None = None) -> MeetingNotice:
    """Send the notice of a notified meeting to every member of its roster and record it (R-11).

    Members without an e-mail address are recorded as ``no_email`` (the leader informs them another
    way); a failed send is recorded as ``failed`` with the error and does not affect the others.
    """
    if meeting.state != MeetingState.NOTIFIED:
        raise ValueError("notice_send expects a meeting in state 'notified' (use services.meeting_notify)")
    if roster is None:
        roster = roster_on(meeting.group, meeting.planned_date)
    subject = notice_subject(meeting)
    body = notice_body(meeting)
    notice = audited_save(MeetingNotice(meeting=meeting, subject=subject, body=body, sent_by=by), by=by)
    connection = get_connection(fail_silently=False)
    recipients = []
    for member in roster:
        email = (member.email or "").strip()
        if not email:
            recipients.append(NoticeRecipient(notice=notice, member=member, status=NoticeStatus.NO_EMAIL))
            continue
        try:
            _message(meeting, member, subject, body, connection).send()
        except Exception as exc:  # any backend error is recorded; the others go on
            logger.warning("Meeting notice to member %s failed: %s", member.pk, exc)
            error = f"{type(exc).__name__}: {exc}"[:300]
            recipients.append(
                NoticeRecipient(
                    notice=notice, member=member, email=email, status=NoticeStatus.FAILED, error=error
                )
            )
        else:
            recipients.append(
                NoticeRecipient(notice=notice, member=member, email=email, status=NoticeStatus.SENT)
            )
    for recipient in recipients:
        recipient.full_clean(exclude=["notice"])
    NoticeRecipient.objects.bulk_create(recipients)
    return notice

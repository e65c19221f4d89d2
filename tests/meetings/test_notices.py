"""Tests of meetings/notices.py (R-11): one e-mail per member of the roster with an .ics invitation,
members without e-mail recorded for the leader, failures recorded without stopping the others."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from email import message_from_bytes

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.locmem import EmailBackend
from icalendar import Calendar

from meetings import notices, services
from meetings.enums import MeetingState, NoticeStatus
from meetings.models import Meeting, MeetingNotice, NoticeRecipient
from tests import factories as f
from tests.meetings.factories import make_meeting

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def approved(world) -> Meeting:
    """An approved meeting of a group where two of four members have an e-mail address."""
    for member, email in zip(world.members[:2], ["leader@example.org", "member@example.org"], strict=True):
        member.email = email
        member.save(update_fields=["email"])
    return make_meeting(
        world.group, world.leader, state=MeetingState.APPROVED, planned_date=dt.date(2030, 5, 20)
    )


def _ics(message) -> Calendar:
    [(name, content, mimetype)] = [tuple(a) for a in message.attachments]
    assert name == "meeting.ics"
    assert mimetype.startswith("text/calendar")
    return Calendar.from_ical(content.encode() if isinstance(content, str) else content)


def test_notify_mails_every_member_with_email(world, approved):
    notice = services.meeting_notify(meeting=approved, by=world.leader)
    approved.refresh_from_db()
    assert approved.state == MeetingState.NOTIFIED
    assert sorted(m.to[0] for m in mail.outbox) == ["leader@example.org", "member@example.org"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == f"【会议通知】第一党小组党小组会：{approved.title}"
    assert message.subject == notice.subject
    assert "  1. 学习党的二十大精神\n  2. 研究落实支部年度工作安排" in message.body
    assert "经党支部批准，定于2030年5月20日 15:00召开党小组会，地点：三楼会议室。" in message.body
    assert notice.body == message.body
    assert (notice.meeting, notice.sent_by) == (approved, world.leader)


def test_notify_recipients_exactly_match_roster(world, approved):
    left = f.GroupMembershipFactory(
        group=world.group, started_on=dt.date(2020, 1, 1), ended_on=dt.date(2030, 5, 1)
    ).member
    joins_later = f.GroupMembershipFactory(group=world.group, started_on=dt.date(2030, 6, 1)).member
    left.email, joins_later.email = "left@example.org", "later@example.org"
    left.save()
    joins_later.save()
    notice = services.meeting_notify(meeting=approved, by=world.leader)
    assert set(notice.recipients.values_list("member_id", "email", "status", "error")) == {
        (world.members[0].pk, "leader@example.org", NoticeStatus.SENT, ""),
        (world.members[1].pk, "member@example.org", NoticeStatus.SENT, ""),
        (world.members[2].pk, "", NoticeStatus.NO_EMAIL, ""),
        (world.members[3].pk, "", NoticeStatus.NO_EMAIL, ""),
    }
    assert {m.to[0] for m in mail.outbox} == {"leader@example.org", "member@example.org"}


def test_ics_parses_with_times_uid_and_agenda(world, approved):
    services.meeting_notify(meeting=approved, by=world.leader)
    cal = _ics(mail.outbox[0])
    assert str(cal["METHOD"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"meeting-{approved.pk}@localhost"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == dt.datetime(2030, 5, 20, 15, 0, tzinfo=SHANGHAI)
    assert end == dt.datetime(2030, 5, 20, 17, 0, tzinfo=SHANGHAI)
    assert str(start.tzinfo) == "Asia/Shanghai"
    assert str(event["SUMMARY"]) == f"党小组会：{approved.title}"
    assert str(event["LOCATION"]) == "三楼会议室"
    assert str(event["DESCRIPTION"]) == "学习党的二十大精神\n研究落实支部年度工作安排"
    assert str(event["ORGANIZER"]) == "mailto:partygroup@localhost"
    assert {str(a) for a in [event["ATTENDEE"]]} == {f"mailto:{mail.outbox[0].to[0]}"}
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_ics_uid_stable_per_meeting(world, approved):
    other = make_meeting(world.group, world.leader, state=MeetingState.APPROVED)
    uid = lambda m: str(Calendar.from_ical(notices.notice_ics(m)).walk("VEVENT")[0]["UID"])  # noqa: E731
    assert uid(approved) == uid(approved) == f"meeting-{approved.pk}@localhost"
    assert uid(other) != uid(approved)


def test_ics_all_day_without_planned_start(world, approved):
    Meeting.objects.filter(pk=approved.pk).update(planned_start=None)
    approved.refresh_from_db()
    [event] = Calendar.from_ical(notices.notice_ics(approved)).walk("VEVENT")
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (dt.date(2030, 5, 20), dt.date(2030, 5, 21))


def test_send_failure_recorded_and_others_sent(world, approved, monkeypatch):
    original = EmailBackend.send_messages

    def flaky(self, messages):
        if any("member@example.org" in m.to for m in messages):
            raise ConnectionRefusedError("SMTP 127.0.0.1:25 refused")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    notice = services.meeting_notify(meeting=approved, by=world.leader)
    approved.refresh_from_db()
    assert approved.state == MeetingState.NOTIFIED
    assert [m.to for m in mail.outbox] == [["leader@example.org"]]
    rows = {r.member_id: (r.status, r.error) for r in notice.recipients.all()}
    assert rows[world.members[0].pk] == (NoticeStatus.SENT, "")
    assert rows[world.members[1].pk] == (
        NoticeStatus.FAILED,
        "ConnectionRefusedError: SMTP 127.0.0.1:25 refused",
    )
    assert rows[world.members[2].pk] == (NoticeStatus.NO_EMAIL, "")


def test_header_injection_in_title_cannot_break_mail(world, approved):
    """A title with CR/LF (refused by the services, forced here) is folded into one subject line."""
    Meeting.objects.filter(pk=approved.pk).update(title="学习\r\nBcc: evil@example.org\nX-Injected: 1")
    services.meeting_notify(meeting=Meeting.objects.get(pk=approved.pk), by=world.leader)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        parsed = message_from_bytes(message.message().as_bytes())
        assert parsed["Bcc"] is None and parsed["X-Injected"] is None
        assert message.recipients() == message.to
        assert "evil@example.org" not in message.recipients()
    assert notices.single_line("a\r\nb\x00c\u2028d") == "a b c d"


def test_notify_by_non_leader_sends_nothing(world, approved):
    before = (MeetingNotice.objects.count(), NoticeRecipient.objects.count())
    for user in (world.secretary, world.other_leader, world.member_user):
        with pytest.raises(PermissionDenied):
            services.meeting_notify(meeting=approved, by=user)
    assert mail.outbox == []
    assert (MeetingNotice.objects.count(), NoticeRecipient.objects.count()) == before
    approved.refresh_from_db()
    assert approved.state == MeetingState.APPROVED


def test_notice_send_requires_notified_state(world, approved):
    with pytest.raises(ValueError, match="notified"):
        notices.notice_send(meeting=approved, by=world.leader)
    assert mail.outbox == []

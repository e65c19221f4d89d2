"""The annual work report (R-34, 年度工作情况报告): the group reports its year's work to the branch.

This module is the feature's public face:

- reads: ``annual_report_data(group, year)`` / ``annual_report_data_many(groups, year)`` (the
  figures, ``meetings.annual_data``), ``annual_reports_visible_to(user)`` and ``can_view_report``;
- writes (services): ``annual_report_save`` (create or edit the narrative of a draft or returned
  report), ``annual_report_submit`` (to the branch, freezing the figures), ``annual_report_return``
  (with a comment) and ``annual_report_archive`` (with an archive number) — the workflow table is
  ``meetings.annual_enums.REPORT_TRANSITIONS``; every step is recorded (who, when, comment);
- the PDF: ``annual_report_pdf(group, year, *, data=None)`` (``meetings.annual_pdf``).

Refusals (``ValidationError`` with a Chinese reason, nothing saved): a report for a year that has
not ended (the current or a future year: only a read-only preview is shown), a year before the
group existed, an edit of a report that is submitted or archived (archived reports are read-only
for everyone, there is no addendum), a step not allowed in the report's state, a return without a
comment, a submission with an empty narrative section. ``PermissionDenied`` (403): a submit or edit
by anyone but the group's current leader or deputy, a return or archive by anyone but the
secretary, deputy secretary, organisation or discipline member of the group's branch.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from groups.models import PartyGroup
from groups.selectors import roles_of
from meetings.annual_data import (  # noqa: F401  (the public API of the annual report)
    AnnualReportData,
    annual_report_data,
    annual_report_data_many,
    draft_sections,
)
from meetings.annual_enums import (
    EDITABLE_REPORT_STATES,
    NARRATIVE_SECTIONS,
    REPORT_TRANSITIONS,
    AnnualReportState,
    ReportAction,
    ReportActor,
)
from meetings.annual_pdf import render_annual_report_pdf
from meetings.models import AnnualReport, AnnualReportTransition
from meetings.selectors import group_scope_q
from partygroup.audit import audited_save

NARRATIVE_FIELDS = tuple(name for name, _heading in NARRATIVE_SECTIONS)


# --- Reads ----------------------------------------------------------------------------------------------
def annual_reports_visible_to(user) -> QuerySet[AnnualReport]:
    """Org staff: their subtree; the branch committee: the branch; leaders: their groups; a plain
    member: the ARCHIVED reports of their own current group; anyone else: nothing."""
    roles = roles_of(user)
    qs = AnnualReport.objects.select_related("group", "group__branch", "group__branch__organisation")
    if roles.is_superuser:
        return qs
    q = group_scope_q(roles, "group__")
    if roles.own_group_id:
        q |= Q(group_id=roles.own_group_id, state=AnnualReportState.ARCHIVED)
    return qs.filter(q)


def can_view_report(user, group: PartyGroup, report: AnnualReport | None) -> bool:
    """The object-level twin of ``annual_reports_visible_to``; ``report`` None: the unsaved draft or
    preview of ``group``'s year, which only those who oversee or lead the group see."""
    roles = roles_of(user)
    if roles.is_superuser or roles.in_org_subtree(group.branch.organisation.path):
        return True
    if group.branch_id in roles.committee_branch_ids or group.pk in roles.led_group_ids:
        return True
    return report is not None and group.pk == roles.own_group_id and report.is_archived


def is_leader_of(user, group: PartyGroup) -> bool:
    roles = roles_of(user)
    return roles.is_superuser or group.pk in roles.led_group_ids


def is_committee_of(user, group: PartyGroup) -> bool:
    """R-34: the secretary, deputy secretary, organisation or discipline member of the group's branch."""
    roles = roles_of(user)
    return roles.is_superuser or group.branch_id in roles.approving_branch_ids


def year_problems(group: PartyGroup, year: int, *, today: dt.date | None = None) -> list[str]:
    """Why no report of ``group`` may be written for ``year`` (empty: it may)."""
    today = today or timezone.localdate()
    if year >= today.year:
        return [
            f"{year}年度尚未结束，不能起草或报送{year}年度工作情况报告（R-34：年度结束后向党支部报告）；"
            "本年度的数据只能预览。"
        ]
    if year < group.established_on.year:
        return [f"党小组“{group.name}”于{group.established_on:%Y-%m-%d}建立，没有{year}年度的工作可以报告。"]
    if group.dissolved_on is not None and group.dissolved_on <= dt.date(year, 1, 1):
        return [f"党小组“{group.name}”已于{group.dissolved_on:%Y-%m-%d}撤销，没有{year}年度的工作可以报告。"]
    return []


# --- Writes ---------------------------------------------------------------------------------------------
def _require_actor(group: PartyGroup, actor: str, by) -> None:
    if actor == ReportActor.LEADER and not is_leader_of(by, group):
        raise PermissionDenied("只有本党小组的组长或副组长可以起草、修改和报送年度工作情况报告（R-34）。")
    if actor == ReportActor.COMMITTEE and not is_committee_of(by, group):
        raise PermissionDenied(
            "只有本支部的书记、副书记、组织委员或纪检委员可以退回或存档年度工作情况报告（R-34）。"
        )


def _locked(report: AnnualReport) -> AnnualReport:
    return (
        AnnualReport.objects.select_for_update()
        .select_related("group", "group__branch", "group__branch__organisation")
        .get(pk=report.pk)
    )


def _record(report: AnnualReport, *, action: str, from_state: str, by, comment: str = "") -> None:
    AnnualReportTransition.objects.create(
        report=report, action=action, from_state=from_state, to_state=report.state, by=by, comment=comment
    )


def _refuse_year(group: PartyGroup, year: int) -> None:
    problems = year_problems(group, year)
    if problems:
        raise ValidationError({"year": problems})


def annual_report_save(*, group: PartyGroup, year: int, by, **sections: str) -> AnnualReport:
    """Create ``group``'s report for ``year`` (a draft, its narrative prefilled from the figures) or
    change the narrative of a draft or returned one. ``sections``: any of ``basic_situation``,
    ``main_work``, ``problems``, ``next_year_plans``; left out → unchanged (the generated text for a
    new report)."""
    unknown = set(sections) - set(NARRATIVE_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改字段：{', '.join(sorted(unknown))}。")
    _require_actor(group, ReportActor.LEADER, by)
    _refuse_year(group, year)
    with transaction.atomic():
        PartyGroup.objects.select_for_update().filter(pk=group.pk).first()  # one report per group and year
        report = AnnualReport.objects.select_for_update().filter(group=group, year=year).first()
        created = report is None
        if created:
            drafted = draft_sections(annual_report_data(group, year))
            report = AnnualReport(group=group, year=year, created_by=by, **drafted)
        elif report.state not in EDITABLE_REPORT_STATES:
            raise ValidationError(not_editable_message(report))
        for name, value in sections.items():
            setattr(report, name, (value or "").strip())
        audited_save(report, by=by, reason="起草年度工作情况报告" if created else "修改年度工作情况报告")
        if created:
            _record(report, action=ReportAction.CREATE, from_state="", by=by)
        return report


def not_editable_message(report: AnnualReport) -> str:
    if report.state == AnnualReportState.ARCHIVED:
        return f"{report.year}年度工作情况报告已存档，只读，任何人都不能修改（R-34）。"
    return (
        f"{report.year}年度工作情况报告当前状态为“{report.get_state_display()}”，不能修改"
        "（仅草稿或退回修改时可修改）。"
    )


def annual_report_write(
    *, group: PartyGroup, year: int, by, sections: dict[str, str], submit: bool = False
) -> AnnualReport:
    """The edit page in ONE transaction: save the narrative (``annual_report_save``) and, with
    ``submit``, report it to the branch (``annual_report_submit``); a refused step saves nothing."""
    with transaction.atomic():
        report = annual_report_save(group=group, year=year, by=by, **sections)
        if submit:
            report = annual_report_submit(report=report, by=by)
        return report


def _refusal(report: AnnualReport, action: str) -> str:
    if report.state == AnnualReportState.ARCHIVED:
        return f"{report.year}年度工作情况报告已存档，只读（R-34）。"
    allowed = "、".join(str(AnnualReportState(s).label) for s in sorted(REPORT_TRANSITIONS[action].sources))
    return (
        f"年度工作情况报告当前状态为“{report.get_state_display()}”，不能“{ReportAction(action).label}”"
        f"（仅限：{allowed}）。"
    )


def annual_report_transition(*, report: AnnualReport, action: str, by, comment: str = "") -> AnnualReport:
    """One step of ``REPORT_TRANSITIONS``, recorded (who, when, comment). Submitting freezes the
    figures (``snapshot``); archiving gives the archive number."""
    transition = REPORT_TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError(f"未知的操作“{action}”。")
    comment = (comment or "").strip()
    with transaction.atomic():
        report = _locked(report)
        _require_actor(report.group, transition.actor, by)
        if report.state not in transition.sources:
            raise ValidationError(_refusal(report, action))
        if transition.comment_required and not comment:
            raise ValidationError({"comment": f"“{ReportAction(action).label}”时必须填写意见。"})
        _refuse_year(report.group, report.year)
        previous = report.state
        if action == ReportAction.SUBMIT:
            empty = [
                str(heading) for name, heading in NARRATIVE_SECTIONS if not getattr(report, name).strip()
            ]
            if empty:
                raise ValidationError([f"请填写“{heading}”后再报送。" for heading in empty])
            now = timezone.now()
            data = annual_report_data(report.group, report.year, as_of=timezone.localdate(now))
            report.snapshot = data.as_json()
            report.snapshot_at = now
        if action == ReportAction.ARCHIVE:
            report.archive_number = f"{report.year}-{report.group_id:05d}-NB"
            report.archived_at = timezone.now()
        report.state = transition.target
        audited_save(report, by=by, reason=str(ReportAction(action).label))
        _record(report, action=action, from_state=previous, by=by, comment=comment)
        return report


def annual_report_submit(*, report: AnnualReport, by, comment: str = "") -> AnnualReport:
    """The leader reports the year's work to the branch; the figures are frozen from now on."""
    return annual_report_transition(report=report, action=ReportAction.SUBMIT, by=by, comment=comment)


def annual_report_return(*, report: AnnualReport, by, comment: str) -> AnnualReport:
    """The branch committee returns the report for changes, saying why."""
    return annual_report_transition(report=report, action=ReportAction.RETURN, by=by, comment=comment)


def annual_report_archive(*, report: AnnualReport, by, comment: str = "") -> AnnualReport:
    """The branch committee files the report (存档); read-only for everyone from then on."""
    return annual_report_transition(report=report, action=ReportAction.ARCHIVE, by=by, comment=comment)


# --- The PDF --------------------------------------------------------------------------------------------
def annual_report_pdf(group: PartyGroup, year: int, *, data: AnnualReportData | None = None) -> bytes:
    """The report of ``group`` for ``year`` as an A4 PDF: the saved report if there is one (a submitted
    or archived one with its frozen figures), else a draft from ``data`` (computed when omitted).
    The caller authorises the user first."""
    return render_annual_report_pdf(group, year, data=data)

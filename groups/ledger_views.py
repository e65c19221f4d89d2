"""The ledger pages: members' monthly duties — dues (党费, R-31) and thought reports (思想汇报, R-30).

- The leader's monthly collection screen (``ledger:dues_month``): the group's roster of the month
  (``groups.selectors.group_dues_month``), one card per member with the amount due prefilled from
  the member's latest recorded month, saved as ONE transaction through
  ``groups.services.dues_record_month`` — all or nothing, every refusal in Chinese.
- Arrears of the group's current members (``ledger:group_arrears``) and of one member
  (``ledger:member``); for the branch committee and organisation staff an overview of the branch's
  groups (``ledger:branch``).
- The import of a month's payments (.xlsx/.csv): upload → DRY RUN preview listing every bad cell
  (row, column, reason) → confirm, which writes all or nothing (``dues_import_for_group`` for a
  group, ``members.dues_importing.import_dues_file`` for the branch committee). Between the two steps
  the file waits in the default storage under a random name; the confirm form carries only a signed
  token naming it (who uploaded it, for which group or branch and month, its SHA-256), valid one hour.
- Thought reports: the group's status table (``members.selectors.thought_report_statuses``: last
  report, due day, overdue flags of R-30) and the leader's record of a received report
  (``members.services.thought_report_record``).

Fetch and authorise (``partygroup.http``): a group, branch or member outside the user's scope is
**404**; a visible one the role may not read or change is **403**. Permissions are declared once and
used by name: reading a group's ledger is ``groups.view_group_detail`` (its leader or deputy, the
branch committee, organisation staff of the subtree), writing it ``groups.collect_dues`` (R-27 (7):
the leader or deputy; the branch committee may record too); the branch overview is
``members.view_branch_dashboard``, the branch import ``members.manage_branch``; one member's page is
``groups.view_member`` (a plain member: their own only).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import services
from groups.ledger_forms import (
    DuesImportForm,
    ImportConfirmForm,
    ThoughtReportForm,
    dues_month_formset,
    month_param,
)
from groups.models import PartyGroup
from groups.selectors import (
    branch_groups_with_roster,
    current_members,
    group_dues_arrears,
    group_dues_month,
    group_members_during,
    groups_visible_to,
    members_visible_to,
    roles_of,
)
from groups.view_helpers import branch_for, group_for
from members.dues_importing import (
    DuesImportReport,
    dues_template_xlsx,
    import_dues_file,
    latest_amounts_due,
)
from members.enums import MemberState, MemberStatus
from members.importing import ImportFileError
from members.models import Branch, DuesPayment, Member, ThoughtReport
from members.rules import block_label
from members.selectors import (
    branches_visible_to,
    dues_arrears_for,
    member_dues_arrears,
    thought_report_statuses,
)
from members.services import DuesEntry, thought_report_record
from partygroup.http import errors_on, get_visible_or_404, require_perm
from partygroup.months import add_months, month_label, month_start

# Permissions, declared once (groups/permissions.py, members/permissions.py), used by name.
VIEW_GROUP_LEDGER = "groups.view_group_detail"  # leader/deputy, branch committee, org staff
COLLECT_DUES = "groups.collect_dues"  # R-31 / R-27 (7); R-30 reports are received the same way
VIEW_BRANCH = "members.view_branch_dashboard"  # branch committee, org staff of the subtree
MANAGE_BRANCH = "members.manage_branch"  # the branch committee: the branch's dues import
VIEW_MEMBER = "groups.view_member"  # committee, org staff, the member's leader, the member

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_DIR = "ledger-imports"
UPLOAD_SALT = "groups.ledger.dues-import"
UPLOAD_MAX_AGE = 3600  # seconds between the preview and the confirmation
STALE_SCAN_LIMIT = 1000  # old uploads removed per new upload (bounded)
PREVIEW_ROWS = 200  # rows of a good file shown in the preview
PREVIEW_ERRORS = 500  # bad cells listed in the preview (the count of the rest is shown)
RECENT_REPORTS = 30
MEMBER_PAYMENTS = 36
MEMBER_REPORTS = 24
BRANCHES_PER_PAGE = 50


def _month_url(name: str, month: dt.date, **kwargs) -> str:
    return f"{reverse(name, kwargs=kwargs)}?{urlencode({'month': f'{month:%Y-%m}'})}"


def _month_from_query(request: HttpRequest, today: dt.date) -> dt.date:
    month, problem = month_param(request.GET.get("month"), today)
    if problem:
        messages.warning(
            request, _("%(problem)s已显示%(month)s。") % {"problem": problem, "month": month_label(month)}
        )
    return month


def _xlsx_response(data: bytes, filename: str) -> FileResponse:
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=filename, content_type=XLSX)
    add_never_cache_headers(response)
    return response


def _tracking_note(branch: Branch) -> bool:
    """True when the branch has not set its ledger start (nothing is in arrears or overdue yet)."""
    return branch.ledger_start_on is None


# --- Entry: where the user's ledger pages are ------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/ledger/``: straight to the user's one ledger page (a branch, a led group, or their own),
    else a choice among them."""
    user = request.user
    roles = roles_of(user)
    led = (
        list(
            groups_visible_to(user)
            .filter(pk__in=sorted(roles.led_group_ids))
            .order_by("branch__name", "name")
        )
        if roles.led_group_ids
        else []
    )
    branches_qs = branches_visible_to(user).order_by("organisation__path", "name")
    if not (roles.is_superuser or roles.is_org_staff):
        branches_qs = branches_qs.filter(pk__in=sorted(roles.committee_branch_ids))
    page = Paginator(branches_qs, BRANCHES_PER_PAGE).get_page(request.GET.get("page"))
    branches = [b for b in page.object_list if user.has_perm(VIEW_BRANCH, b)]
    own = roles.member_id
    work = len(led) + page.paginator.count
    if work == 1 and not led:
        return redirect("ledger:branch", branch_id=page.object_list[0].pk)
    if work == 1 and led:
        return redirect("ledger:dues_month", group_id=led[0].pk)
    if work == 0:
        if own:
            return redirect("ledger:member", member_id=own)
        raise PermissionDenied(_("您没有可查看的党费和思想汇报台账。"))
    return render(
        request,
        "ledger/choose.html",
        {"groups": led, "page": page, "branches": branches, "own_member_id": own},
    )


# --- the leader's monthly collection ---------------------------------------------------------


@dataclass
class Card:
    """One member's card on the month screen: the recorded payment, or the form to fill."""

    member: Member
    payment: DuesPayment | None
    form: object | None = None


@dataclass
class MonthTotals:
    members: int = 0
    recorded: int = 0
    due: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")


def _dues_month_page(request, group, month, rows, *, formset, can_collect, errors=()) -> HttpResponse:
    forms_by_member = {}
    if formset is not None:
        forms_by_member = {form.posted_member_id(): form for form in formset.forms}
    cards = [Card(member=r.member, payment=r.payment, form=forms_by_member.get(r.member.pk)) for r in rows]
    roster = {r.member.pk for r in rows}
    # A posted card of someone not on the roster (a tampered form): its reasons go to the top.
    stray = [
        e
        for pk, form in forms_by_member.items()
        if pk not in roster
        for errors in form.errors.values()
        for e in errors
    ]
    non_form = formset.non_form_errors() if formset is not None and formset.is_bound else []
    totals = MonthTotals(members=len(rows))
    for row in rows:
        if row.payment is not None:
            totals.recorded += 1
            totals.due += row.payment.amount_due
            totals.paid += row.payment.amount_paid
    today = timezone.localdate()
    return render(
        request,
        "ledger/dues_month.html",
        {
            "group": group,
            "month": month,
            "month_label": month_label(month),
            "prev_url": _month_url("ledger:dues_month", add_months(month, -1), group_id=group.pk),
            "next_url": _month_url("ledger:dues_month", add_months(month, 1), group_id=group.pk),
            "this_month": month == month_start(today),
            "cards": cards,
            "formset": formset,
            "can_collect": can_collect,
            "errors": [*_card_errors_note(formset), *errors, *non_form, *stray],
            "totals": totals,
            "unrecorded": totals.members - totals.recorded,
            "template_url": _month_url("ledger:group_template", month, group_id=group.pk),
            "import_url": _month_url("ledger:group_import", month, group_id=group.pk),
            "untracked": _tracking_note(group.branch),
        },
    )


def _card_errors_note(formset) -> list[str]:
    """On a phone the marked cards may be far down: say at the top how many need correcting."""
    if formset is None or not formset.is_bound:
        return []
    count = sum(1 for form in formset.forms if form.errors)
    if not count:
        return []
    return [
        str(_("%(count)s名党员的卡片有误（已标红），请改正后再保存；本月党费均未保存。") % {"count": count})
    ]


@login_required
@require_http_methods(["GET", "POST"])
def dues_month(request: HttpRequest, group_id: int) -> HttpResponse:
    """R-31: the group's roster of the month with each member's payment; the leader fills in those
    who paid and saves the whole month at once (nothing is saved when any card is wrong)."""
    group = group_for(request, group_id, VIEW_GROUP_LEDGER)
    can_collect = request.user.has_perm(COLLECT_DUES, group)
    today = timezone.localdate()
    month = _month_from_query(request, today)
    rows = group_dues_month(group, month)
    members = {r.member.pk: r.member for r in rows}
    if request.method == "POST":
        require_perm(request.user, COLLECT_DUES, group)
        formset = dues_month_formset(members=members, month=month, data=request.POST)
        errors: list[str] = []
        if formset.is_valid():
            entries = [
                DuesEntry(
                    member=members[form.cleaned_data["member"]],
                    amount_due=form.cleaned_data["amount_due_value"],
                    amount_paid=form.cleaned_data["amount_paid_value"],
                    paid_on=form.cleaned_data["paid_on"],
                    is_lump_sum=form.cleaned_data["is_lump_sum"],
                    note=form.cleaned_data["note"],
                )
                for form in formset.forms
                if form.is_filled
            ]
            try:
                payments = services.dues_record_month(
                    group=group, month=month, entries=entries, by=request.user
                )
            except ValidationError as exc:
                errors = list(exc.messages)
            else:
                paid = sum((p.amount_paid for p in payments), Decimal("0.00"))
                messages.success(
                    request,
                    _("已登记%(month)s%(count)s名党员的党费，实交合计%(paid)s元（R-31）。")
                    % {"month": month_label(month), "count": len(payments), "paid": f"{paid:,.2f}"},
                )
                return redirect(_month_url("ledger:dues_month", month, group_id=group.pk))
        return _dues_month_page(request, group, month, rows, formset=formset, can_collect=True, errors=errors)
    formset = None
    if can_collect:
        unpaid = [r.member.pk for r in rows if r.payment is None]
        latest = latest_amounts_due(unpaid, month) if unpaid else {}
        formset = dues_month_formset(
            members=members,
            month=month,
            initial=[{"member": pk, "amount_due": latest.get(pk, ""), "paid_on": today} for pk in unpaid],
        )
    return _dues_month_page(request, group, month, rows, formset=formset, can_collect=can_collect)


@login_required
@require_GET
def group_arrears(request: HttpRequest, group_id: int) -> HttpResponse:
    """R-31: the months each current member of the group has not paid (or paid in part)."""
    group = group_for(request, group_id, VIEW_GROUP_LEDGER)
    members = list(current_members(group))
    arrears = group_dues_arrears(group)
    rows = [(m, arrears.get(m.pk)) for m in members]
    rows.sort(key=lambda r: (-(r[1].count if r[1] else 0), r[0].name, r[0].pk))
    in_arrears = [a for _m, a in rows if a and a.count]
    return render(
        request,
        "ledger/group_arrears.html",
        {
            "group": group,
            "rows": rows,
            "members_in_arrears": len(in_arrears),
            "months_in_arrears": sum(a.count for a in in_arrears),
            "shortfall": sum((a.shortfall for a in in_arrears), Decimal("0.00")),
            "untracked": _tracking_note(group.branch),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def group_template(request: HttpRequest, group_id: int) -> HttpResponse:
    """The month's collection sheet of the group (.xlsx) to fill in and import."""
    group = group_for(request, group_id, COLLECT_DUES)
    month = _month_from_query(request, timezone.localdate())
    first = month_start(month)
    members = list(group_members_during(group, first, add_months(first, 1)))
    return _xlsx_response(dues_template_xlsx(members, month), f"党费收缴表-{group.name}-{month:%Y-%m}.xlsx")


# --- the import (dry run, then confirm) ------------------------------------------------------


def _sweep_stale_uploads() -> None:
    """Remove uploads that were never confirmed (older than the token's life), a bounded number."""
    try:
        _dirs, files = default_storage.listdir(UPLOAD_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    limit = timezone.now() - dt.timedelta(seconds=UPLOAD_MAX_AGE * 2)
    for name in files[:STALE_SCAN_LIMIT]:
        path = f"{UPLOAD_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue


def stash_upload(data: bytes, *, suffix: str, user, scope: str, month: dt.date) -> str:
    """Keep an uploaded file until it is confirmed; the signed token names it (not the user)."""
    _sweep_stale_uploads()
    name = default_storage.save(f"{UPLOAD_DIR}/{secrets.token_hex(16)}{suffix}", ContentFile(data))
    payload = {
        "name": name,
        "user": user.pk,
        "scope": scope,
        "month": month.isoformat(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return signing.dumps(payload, salt=UPLOAD_SALT)


def _unstash_upload(token: str, *, user, scope: str) -> tuple[bytes, str, dt.date]:
    """The stashed file of ``token`` (bytes, storage name, month) for this user and scope; refused
    with ``ImportFileError`` when expired, forged, someone else's or changed."""
    expired = ImportFileError(str(_("预检结果已过期或无效，请重新上传文件并预检。")))
    try:
        payload = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.BadSignature:
        raise expired from None
    if payload.get("user") != user.pk or payload.get("scope") != scope:
        raise expired
    name = str(payload.get("name", ""))
    if not name.startswith(f"{UPLOAD_DIR}/") or ".." in name:
        raise expired
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise expired from None
    if hashlib.sha256(data).hexdigest() != payload.get("sha256"):
        raise expired
    return data, name, dt.date.fromisoformat(payload["month"])


def _discard(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        default_storage.delete(name)


@dataclass
class ImportScope:
    """Where an import goes and how it is run: a group (its roster) or the whole branch."""

    key: str  # "group:<id>" / "branch:<id>"
    label: str
    branch: Branch
    group: PartyGroup | None
    action_url: str
    confirm_url: str
    back_url: str
    template_base: str
    extra: dict = field(default_factory=dict)

    def run(self, *, data: bytes, filename: str, month: dt.date, by, dry_run: bool) -> DuesImportReport:
        if self.group is not None:
            return services.dues_import_for_group(
                group=self.group, month=month, path_or_file=data, by=by, dry_run=dry_run, filename=filename
            )
        return import_dues_file(
            path_or_file=data, branch=self.branch, by=by, dry_run=dry_run, month=month, filename=filename
        )

    def done_url(self, month: dt.date) -> str:
        if self.group is not None:
            return _month_url("ledger:dues_month", month, group_id=self.group.pk)
        return reverse("ledger:branch", kwargs={"branch_id": self.branch.pk})


def _group_scope(group: PartyGroup) -> ImportScope:
    return ImportScope(
        key=f"group:{group.pk}",
        label=str(_("党小组“%(name)s”") % {"name": group.name}),
        branch=group.branch,
        group=group,
        action_url=reverse("ledger:group_import", kwargs={"group_id": group.pk}),
        confirm_url=reverse("ledger:group_import_confirm", kwargs={"group_id": group.pk}),
        back_url=reverse("ledger:dues_month", kwargs={"group_id": group.pk}),
        template_base=reverse("ledger:group_template", kwargs={"group_id": group.pk}),
    )


def _branch_scope(branch: Branch) -> ImportScope:
    return ImportScope(
        key=f"branch:{branch.pk}",
        label=str(_("党支部“%(name)s”") % {"name": branch.name}),
        branch=branch,
        group=None,
        action_url=reverse("ledger:branch_import", kwargs={"branch_id": branch.pk}),
        confirm_url=reverse("ledger:branch_import_confirm", kwargs={"branch_id": branch.pk}),
        back_url=reverse("ledger:branch", kwargs={"branch_id": branch.pk}),
        template_base=reverse("ledger:branch_template", kwargs={"branch_id": branch.pk}),
    )


def _import_page(request, scope: ImportScope, *, form, report=None, confirm_form=None, month=None):
    month = month or month_start(timezone.localdate())
    errors = report.errors if report is not None else []
    return render(
        request,
        "ledger/dues_import.html",
        {
            "scope": scope,
            "form": form,
            "report": report,
            "shown_errors": errors[:PREVIEW_ERRORS],
            "hidden_errors": max(len(errors) - PREVIEW_ERRORS, 0),
            "shown_rows": report.rows[:PREVIEW_ROWS] if report is not None and report.ok else [],
            "hidden_rows": max(len(report.rows) - PREVIEW_ROWS, 0) if report is not None and report.ok else 0,
            "confirm_form": confirm_form,
            "month": month,
            "template_url": f"{scope.template_base}?{urlencode({'month': f'{month:%Y-%m}'})}",
        },
    )


def _import_preview(request: HttpRequest, scope: ImportScope) -> HttpResponse:
    """GET: the upload form. POST: the DRY RUN — every bad cell listed, nothing written; a good file
    waits for the confirmation."""
    if request.method == "GET":
        month = _month_from_query(request, timezone.localdate())
        form = DuesImportForm(initial={"month": month})
        return _import_page(request, scope, form=form, month=month)
    form = DuesImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, scope, form=form)
    month = form.cleaned_data["month"]
    upload = form.cleaned_data["upload"]
    data = upload.read()
    try:
        report = scope.run(data=data, filename=upload.name, month=month, by=request.user, dry_run=True)
    except ImportFileError as exc:
        form.add_error("upload", exc.message)
        return _import_page(request, scope, form=form, month=month)
    confirm_form = None
    if report.ok:
        token = stash_upload(
            data, suffix=Path(upload.name).suffix.lower(), user=request.user, scope=scope.key, month=month
        )
        confirm_form = ImportConfirmForm(initial={"token": token})
    return _import_page(request, scope, form=form, report=report, confirm_form=confirm_form, month=month)


def _import_confirm(request: HttpRequest, scope: ImportScope) -> HttpResponse:
    """The confirmation: the previewed file is checked again and written in one transaction — all or
    nothing (someone may have recorded a payment since the preview)."""
    confirm = ImportConfirmForm(request.POST)
    form = DuesImportForm()
    if not confirm.is_valid():
        messages.error(request, _("预检结果已过期或无效，请重新上传文件并预检。"))
        return _import_page(request, scope, form=form)
    try:
        data, name, month = _unstash_upload(confirm.cleaned_data["token"], user=request.user, scope=scope.key)
    except ImportFileError as exc:
        messages.error(request, exc.message)
        return _import_page(request, scope, form=form)
    form = DuesImportForm(initial={"month": month})
    try:
        report = scope.run(data=data, filename=name, month=month, by=request.user, dry_run=False)
    except ImportFileError as exc:
        _discard(name)
        messages.error(request, exc.message)
        return _import_page(request, scope, form=form, month=month)
    _discard(name)
    if not report.written:
        messages.error(request, _("确认导入时发现问题，未登记任何党费："))
        return _import_page(request, scope, form=form, report=report, month=month)
    messages.success(request, report.summary())
    return redirect(scope.done_url(month))


@login_required
@require_http_methods(["GET", "POST"])
def group_import(request: HttpRequest, group_id: int) -> HttpResponse:
    return _import_preview(request, _group_scope(group_for(request, group_id, COLLECT_DUES)))


@login_required
@require_POST
def group_import_confirm(request: HttpRequest, group_id: int) -> HttpResponse:
    return _import_confirm(request, _group_scope(group_for(request, group_id, COLLECT_DUES)))


@login_required
@require_http_methods(["GET", "POST"])
def branch_import(request: HttpRequest, branch_id: int) -> HttpResponse:
    return _import_preview(request, _branch_scope(branch_for(request, branch_id, MANAGE_BRANCH)))


@login_required
@require_POST
def branch_import_confirm(request: HttpRequest, branch_id: int) -> HttpResponse:
    return _import_confirm(request, _branch_scope(branch_for(request, branch_id, MANAGE_BRANCH)))


@login_required
@require_GET
def branch_template(request: HttpRequest, branch_id: int) -> HttpResponse:
    """The month's collection sheet of the whole branch: every member in the branch that month."""
    branch = branch_for(request, branch_id, MANAGE_BRANCH)
    month = _month_from_query(request, timezone.localdate())
    after = add_months(month, 1)
    members = list(
        Member.objects.filter(branch=branch)
        .filter(Q(joined_on__isnull=True) | Q(joined_on__lt=after))
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=month))
        .order_by("name", "pk")
    )
    return _xlsx_response(dues_template_xlsx(members, month), f"党费收缴表-{branch.name}-{month:%Y-%m}.xlsx")


# --- thought reports -----------------------------------------------------------------------


@dataclass
class ReportRow:
    member: Member
    status: object  # members.rules.ThoughtReportStatus
    written_label: str = ""


@login_required
@require_GET
def group_reports(request: HttpRequest, group_id: int) -> HttpResponse:
    """R-30: each current member's last report, the day the next one is due, overdue flags (monthly,
    at most quarterly; probationary members a written report every quarter), and recent reports."""
    group = group_for(request, group_id, VIEW_GROUP_LEDGER)
    today = timezone.localdate()
    members = list(current_members(group, today))
    statuses = thought_report_statuses([m.pk for m in members], on=today) if members else {}
    rows = []
    for member in members:
        status = statuses[member.pk]
        label = block_label(*status.written_block) if status.written_block else ""
        rows.append(ReportRow(member=member, status=status, written_label=label))
    recent = list(
        ThoughtReport.objects.filter(member_id__in=[m.pk for m in members])
        .select_related("member", "received_by")
        .order_by("-received_on", "-id")[:RECENT_REPORTS]
    )
    return render(
        request,
        "ledger/group_reports.html",
        {
            "group": group,
            "rows": rows,
            "overdue": sum(1 for r in rows if r.status.overdue),
            "written_overdue": sum(1 for r in rows if r.status.written_overdue),
            "recent": recent,
            "can_record": request.user.has_perm(COLLECT_DUES, group),
            "untracked": _tracking_note(group.branch),
            "today": today,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_record(request: HttpRequest, group_id: int) -> HttpResponse:
    """R-30: the leader records a report received from a current member of the group."""
    group = group_for(request, group_id, COLLECT_DUES)
    today = timezone.localdate()
    members = current_members(group, today).select_related("unit")
    if request.method == "POST":
        form = ThoughtReportForm(request.POST, members=members)
        if form.is_valid():
            data = form.cleaned_data
            with errors_on(form):
                report = thought_report_record(
                    member=data["member"],
                    received_on=data["received_on"],
                    kind=data["kind"],
                    summary=data["summary"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    by=request.user,
                )
                messages.success(
                    request,
                    _("已登记“%(name)s”%(date)s的%(kind)s（R-30）。")
                    % {
                        "name": report.member.name,
                        "date": f"{report.received_on:%Y-%m-%d}",
                        "kind": report.get_kind_display(),
                    },
                )
                return redirect("ledger:group_reports", group_id=group.pk)
    else:
        initial = {"received_on": today, "kind": "written"}
        wanted = request.GET.get("member")
        if wanted and wanted.isdigit():
            initial["member"] = int(wanted)
        form = ThoughtReportForm(initial=initial, members=members)
    return render(request, "ledger/report_form.html", {"group": group, "form": form})


# --- The branch committee's overview ---------------------------------------------------------------


@dataclass
class GroupLedgerRow:
    group: PartyGroup | None  # None: the members in no group
    members: int = 0
    paid_this_month: int = 0
    members_in_arrears: int = 0
    months_in_arrears: int = 0
    shortfall: Decimal = Decimal("0.00")
    reports_overdue: int = 0
    written_overdue: int = 0

    def add(self, member_id: int, *, paid: set[int], arrears, status) -> None:
        self.members += 1
        if member_id in paid:
            self.paid_this_month += 1
        if arrears is not None and arrears.count:
            self.members_in_arrears += 1
            self.months_in_arrears += arrears.count
            self.shortfall += arrears.shortfall
        if status is not None:
            self.reports_overdue += int(status.overdue)
            self.written_overdue += int(status.written_overdue)


@login_required
@require_GET
def branch_overview(request: HttpRequest, branch_id: int) -> HttpResponse:
    """R-30/R-31 for the whole branch: per group this month's payments, arrears and overdue reports
    (a fixed number of queries whatever the number of groups and members)."""
    branch = branch_for(request, branch_id, VIEW_BRANCH)
    today = timezone.localdate()
    month = month_start(today)
    groups = branch_groups_with_roster(branch, today)
    active = list(
        Member.objects.filter(branch=branch, state=MemberState.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    arrears = dues_arrears_for(active, on=today) if active else {}
    statuses = thought_report_statuses(active, on=today) if active else {}
    paid = set(
        DuesPayment.objects.filter(member_id__in=active, month=month).values_list("member_id", flat=True)
    )
    rows = []
    placed: set[int] = set()
    total = GroupLedgerRow(group=None)
    for group in groups:
        row = GroupLedgerRow(group=group)
        for membership in group.roster:
            member_id = membership.member_id
            placed.add(member_id)
            row.add(member_id, paid=paid, arrears=arrears.get(member_id), status=statuses.get(member_id))
        rows.append(row)
    unplaced = GroupLedgerRow(group=None)
    for member_id in active:
        if member_id not in placed:
            unplaced.add(member_id, paid=paid, arrears=arrears.get(member_id), status=statuses.get(member_id))
        total.add(member_id, paid=paid, arrears=arrears.get(member_id), status=statuses.get(member_id))
    return render(
        request,
        "ledger/branch_overview.html",
        {
            "branch": branch,
            "rows": rows,
            "unplaced": unplaced if unplaced.members else None,
            "total": total,
            "month_label": month_label(month),
            "can_import": request.user.has_perm(MANAGE_BRANCH, branch),
            "untracked": _tracking_note(branch),
            "today": today,
        },
    )


# --- One member: their dues and reports ------------------------------------------------------------


@login_required
@require_GET
def member_ledger(request: HttpRequest, member_id: int) -> HttpResponse:
    """One member's dues (payments, months in arrears) and thought reports (status, received)."""
    member = get_visible_or_404(members_visible_to(request.user), pk=member_id)
    require_perm(request.user, VIEW_MEMBER, member)
    today = timezone.localdate()
    payments = list(
        DuesPayment.objects.filter(member=member)
        .select_related("collected_by")
        .order_by("-month")[:MEMBER_PAYMENTS]
    )
    reports = list(
        ThoughtReport.objects.filter(member=member)
        .select_related("received_by")
        .order_by("-received_on", "-id")[:MEMBER_REPORTS]
    )
    status = thought_report_statuses([member.pk], on=today)[member.pk]
    return render(
        request,
        "ledger/member.html",
        {
            "member": member,
            "is_self": roles_of(request.user).member_id == member.pk,
            "payments": payments,
            "arrears": member_dues_arrears(member, on=today),
            "status": status,
            "written_label": block_label(*status.written_block) if status.written_block else "",
            "reports": reports,
            "is_probationary": member.status == MemberStatus.PROBATIONARY,
            "untracked": _tracking_note(member.branch),
            "today": today,
        },
    )

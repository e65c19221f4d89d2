"""Writes of the members app. Keyword-only, one transaction each, audited (``by``).

The bulk writes serve the member import (``members.importing``), which validates every instance
with ``Member.full_clean()`` before it calls them; they record simple-history rows in bulk
(``bulk_create_with_history`` / ``bulk_update_with_history``: a plain ``bulk_create`` would leave
no history, FACTS.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from members import rules
from members.enums import PersonalField
from members.models import (
    DuesPayment,
    Member,
    MemberPost,
    PersonalDataReveal,
    PointsRating,
    ThoughtReport,
    Unit,
)
from members.selectors import can_reveal_personal_data
from partygroup.audit import audited_save
from partygroup.findings import refuse_on_violations
from partygroup.months import month_label, month_start

BULK_BATCH_SIZE = 1000


def member_save(*, member: Member, by, reason: str = "") -> Member:
    """Create or change one member (full_clean, history with ``by`` and ``reason``)."""
    with transaction.atomic():
        return audited_save(member, by=by, reason=reason)


def units_bulk_create(*, units: Sequence[Unit], by, reason: str) -> list[Unit]:
    """Create validated units in bulk with their history; the instances get their ids."""
    if not units:
        return []
    with transaction.atomic():
        return bulk_create_with_history(
            list(units),
            Unit,
            batch_size=BULK_BATCH_SIZE,
            default_user=by,
            default_change_reason=reason[:100],
        )


def members_bulk_write(
    *,
    creates: Sequence[Member],
    updates: Sequence[Member],
    update_fields: Sequence[str],
    by,
    reason: str,
) -> None:
    """Insert ``creates`` and update ``update_fields`` of ``updates``, in batches, with history.

    The caller has validated every instance (``full_clean``). ``updated_at`` is set here because
    ``bulk_update`` does not run ``auto_now``.
    """
    with transaction.atomic():
        if creates:
            bulk_create_with_history(
                list(creates),
                Member,
                batch_size=BULK_BATCH_SIZE,
                default_user=by,
                default_change_reason=reason[:100],
            )
        if updates:
            now = timezone.now()
            for member in updates:
                member.updated_at = now
            fields = [*update_fields, "updated_at"]
            bulk_update_with_history(
                list(updates),
                Member,
                fields,
                batch_size=BULK_BATCH_SIZE,
                default_user=by,
                default_change_reason=reason[:100],
            )


def personal_data_reveal_log(
    *,
    user,
    members: Iterable[Member],
    context: str,
    fields: Sequence[str] = (PersonalField.ID_NUMBER, PersonalField.PHONE),
    ip_address: str | None = None,
) -> list[PersonalDataReveal]:
    """Record that ``user`` saw the full value of ``fields`` of ``members`` (one row per value shown)."""
    now = timezone.now()
    rows = [
        PersonalDataReveal(
            user=user, member=member, field=f, revealed_at=now, context=context[:60], ip_address=ip_address
        )
        for member in members
        for f in fields
        if getattr(member, f)
    ]
    if not rows:
        return []
    with transaction.atomic():
        return PersonalDataReveal.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)


def member_reveal(*, member: Member, field: str, by, context: str, ip: str | None = None) -> str:
    """The full value of ``field`` (ID number or phone) of ``member`` for ``by``, logged once.

    Refused (``PermissionDenied``, nothing logged) unless ``can_reveal_personal_data``. The log row
    is written by :func:`personal_data_reveal_log`, the same path as the export's; an empty value
    reveals nothing and logs nothing.
    """
    if field not in PersonalField.values:
        raise ValueError(f"不能显示的字段：{field}")
    if not can_reveal_personal_data(by, member):
        raise PermissionDenied("您无权查看该党员的完整个人信息。")
    personal_data_reveal_log(user=by, members=[member], context=context, fields=(field,), ip_address=ip)
    return getattr(member, field) or ""


# --- Members' ongoing duties (R-30 … R-33) ---------------------------------------------------------
# Each service validates through the model (``full_clean``: the checks of ``members.rules``) and
# refuses with Chinese messages naming the field; on any refusal nothing is saved. Who may record is
# the caller's question (views/admin ask the permission predicates); the services record ``by``.


def _locked_member(member: Member) -> Member:
    """Serialise writes for one member (PostgreSQL row lock; SQLite serialises writes anyway)."""
    return Member.objects.select_for_update().select_related("branch__organisation").get(pk=member.pk)


def money(value, *, field: str, label: str, places: int = 2) -> Decimal:
    """``value`` (Decimal, int, str, or a float read from a spreadsheet) as a Decimal.

    Refused with ``ValidationError({field: …})`` when it is not a number or has more than ``places``
    decimal places (for yuan: 分 is the smallest unit).
    """
    invalid = ValidationError({field: f"{label}“{value}”不是有效的数字。"})
    if isinstance(value, bool) or value is None:
        raise invalid
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise invalid from None
    if not amount.is_finite():
        raise invalid
    step = Decimal(1).scaleb(-places)
    if amount != amount.quantize(step):
        raise ValidationError({field: f"{label}最多保留{places}位小数。"})
    return amount.quantize(step)


def _paid_twice_message(member: Member, existing: DuesPayment) -> str:
    return (
        f"“{member.name}”{month_label(existing.month)}的党费已于{existing.paid_on:%Y-%m-%d}交纳"
        f"（实交{rules.yuan(existing.amount_paid)}），不能重复交纳（R-31）。"
    )


def dues_record(
    *,
    member: Member,
    month: dt.date,
    amount_due,
    amount_paid,
    paid_on: dt.date,
    by,
    is_lump_sum: bool = False,
    note: str = "",
    collected_by=None,
) -> DuesPayment:
    """R-31: record ``member``'s dues for ``month`` (any day of it; stored as the first day).

    Refused, nothing saved: a second payment for the same month, a negative amount, more than
    ``members.rules.DUES_MONTHLY_MAX`` for one month unless ``is_lump_sum`` (一次性交纳大额党费),
    a month before the member joined or from the month after they left, a payment date in the
    future, a prepayment more than a year ahead. ``collected_by`` defaults to ``by``.
    """
    amount_due = money(amount_due, field="amount_due", label="应交金额")
    amount_paid = money(amount_paid, field="amount_paid", label="实交金额")
    with transaction.atomic():
        member = _locked_member(member)
        month = month_start(month)
        existing = DuesPayment.objects.filter(member=member, month=month).first()
        if existing is not None:
            raise ValidationError({"month": _paid_twice_message(member, existing)})
        payment = DuesPayment(
            member=member,
            month=month,
            amount_due=amount_due,
            amount_paid=amount_paid,
            paid_on=paid_on,
            is_lump_sum=is_lump_sum,
            note=note.strip(),
            collected_by=collected_by or by,
        )
        return audited_save(payment, by=by, reason=f"登记党费（{month_label(month)}）")


@dataclass(frozen=True)
class DuesEntry:
    """One member's line of a month's collection (``dues_record_many``)."""

    member: Member
    amount_due: Decimal | int | str
    amount_paid: Decimal | int | str
    paid_on: dt.date
    is_lump_sum: bool = False
    note: str = ""


def dues_record_many(
    *, month: dt.date, entries: Sequence[DuesEntry], by, reason: str = "", collected_by=None
) -> list[DuesPayment]:
    """R-31: one month's payments of many members, ALL OR NOTHING, in a fixed number of queries.

    Every entry is checked as ``dues_record`` would check it; the refusal lists every bad entry by
    member name (``ValidationError`` with one message per problem) and nothing is saved. The rows
    are written with their history in bulk (``bulk_create_with_history``).
    """
    if not entries:
        raise ValidationError("没有需要登记的党费。")
    month = month_start(month)
    errors: list[str] = []
    payments: list[DuesPayment] = []
    parsed: list[tuple[DuesEntry, Decimal, Decimal]] = []
    for entry in entries:
        try:
            due = money(entry.amount_due, field="amount_due", label="应交金额")
            paid = money(entry.amount_paid, field="amount_paid", label="实交金额")
        except ValidationError as exc:
            errors += [f"“{entry.member.name}”：{m}" for m in exc.messages]
            continue
        parsed.append((entry, due, paid))
    seen: set[int] = set()
    for entry in entries:
        if entry.member.pk in seen:
            errors.append(f"“{entry.member.name}”在本次登记中出现了两次。")
        seen.add(entry.member.pk)
    with transaction.atomic():
        members = {
            m.pk: m for m in Member.objects.select_for_update().filter(pk__in=sorted(seen)).order_by("pk")
        }
        existing = {
            p.member_id: p for p in DuesPayment.objects.filter(member_id__in=sorted(seen), month=month)
        }
        for entry, due, paid in parsed:
            member = members[entry.member.pk]
            if member.pk in existing:
                errors.append(_paid_twice_message(member, existing[member.pk]))
                continue
            payment = DuesPayment(
                member=member,
                month=month,
                amount_due=due,
                amount_paid=paid,
                paid_on=entry.paid_on,
                is_lump_sum=entry.is_lump_sum,
                note=entry.note.strip(),
                collected_by=collected_by or by,
            )
            try:
                payment.full_clean(
                    exclude=["member", "collected_by"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                errors += [f"“{member.name}”：{m}" for m in exc.messages]
                continue
            payments.append(payment)
        if errors:
            raise ValidationError(list(dict.fromkeys(errors)))
        try:
            with transaction.atomic():
                return bulk_create_with_history(
                    payments,
                    DuesPayment,
                    batch_size=BULK_BATCH_SIZE,
                    default_user=by,
                    default_change_reason=(reason or f"登记党费（{month_label(month)}）")[:100],
                )
        except IntegrityError as exc:
            raise ValidationError(
                "登记时有党费记录被同时写入（同一党员同一月份），未登记任何党费，请重试。"
            ) from exc


def thought_report_record(
    *,
    member: Member,
    received_on: dt.date,
    kind: str,
    summary: str,
    by,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    received_by=None,
) -> ThoughtReport:
    """R-30: a member's oral or written report, for the months ``period_start`` … ``period_end``
    (default: the month it was received). Refused for a day in the future, before joining or after
    leaving, or a period after the month received."""
    if not summary.strip():
        raise ValidationError({"summary": "请填写汇报的主要内容。"})
    with transaction.atomic():
        member = _locked_member(member)
        report = ThoughtReport(
            member=member,
            received_on=received_on,
            kind=kind,
            period_start=month_start(period_start or received_on),
            period_end=month_start(period_end or period_start or received_on),
            summary=summary.strip(),
            received_by=received_by or by,
        )
        return audited_save(report, by=by, reason="登记思想汇报")


def member_post_record(
    *,
    member: Member,
    year: int,
    title: str,
    commitment: str,
    by,
    publicised_on: dt.date | None = None,
) -> MemberPost:
    """R-32: a post and public commitment (设岗定责、公开承诺) of ``member`` for ``year`` (one a year)."""
    errors = {}
    if not title.strip():
        errors["title"] = ["请填写岗位。"]
    if not commitment.strip():
        errors["commitment"] = ["请填写承诺内容。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        member = _locked_member(member)
        post = MemberPost(
            member=member,
            year=year,
            title=title.strip(),
            commitment=commitment.strip(),
            publicised_on=publicised_on,
            created_by=by,
        )
        return audited_save(post, by=by, reason="设岗定责、公开承诺")


def points_rating_record(
    *, member: Member, year: int, points, grade: str, by, note: str = ""
) -> PointsRating:
    """R-33: ``member``'s points rating (党员积分定等) for ``year``; refused unless the rule set of the
    member's organisation has ``points_rating_enabled`` (an optional module)."""
    points = money(points, field="points", label="积分", places=1)
    with transaction.atomic():
        member = _locked_member(member)
        rule_set = member.branch.organisation.effective_rule_set()
        refuse_on_violations(
            rules.points_rating_refusal(
                rule_set=rule_set, member_id=member.pk, member_name=member.name, branch_id=member.branch_id
            )
        )
        rating = PointsRating(
            member=member, year=year, points=points, grade=grade, note=note.strip(), rated_by=by
        )
        return audited_save(rating, by=by, reason="党员积分定等")

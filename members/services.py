"""Writes of the members app. Keyword-only, one transaction each, audited (``by``).

The bulk writes serve the member import (``members.importing``), which validates every instance
with ``Member.full_clean()`` before it calls them; they record simple-history rows in bulk
(``bulk_create_with_history`` / ``bulk_update_with_history``: a plain ``bulk_create`` would leave
no history, FACTS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from members.enums import PersonalField
from members.models import Member, PersonalDataReveal, Unit
from partygroup.audit import audited_save

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

"""Saving with an audit trail: who, when, what (django-simple-history), after full validation."""

from __future__ import annotations

from django.db import models


def audited_save(
    obj: models.Model, *, by, reason: str = "", validate: bool = True, **save_kwargs
) -> models.Model:
    """``full_clean()`` then ``save()``, recording ``by`` and ``reason`` in the object's history."""
    if validate:
        obj.full_clean()
    obj._history_user = by
    if reason:
        obj._change_reason = reason[:100]
    obj.save(**save_kwargs)
    return obj

"""Permission predicates of the year-end export (django-rules), declared once and used by name.

Starting an export is for organisation staff and superusers (``is_org_staff_or_superuser``); a job
itself is found only through ``selectors.export_jobs_visible_to`` (404 for everyone else), and
whoever may see a job may also continue it after an interruption.
"""

from __future__ import annotations

import rules

from partygroup.dashboard.permissions import is_org_staff_or_superuser

START_EXPORT = "yearend.start_export"
RESUME_EXPORT = "yearend.resume_export"

rules.add_perm(START_EXPORT, is_org_staff_or_superuser)
rules.add_perm(RESUME_EXPORT, is_org_staff_or_superuser)

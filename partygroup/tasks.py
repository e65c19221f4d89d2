"""Background tasks of the project app (django-tasks; backend per ``TASKS_BACKEND``, see settings).

The year-end export's tasks live in ``partygroup.yearend.tasks``.
"""

from __future__ import annotations

from django_tasks import task

from partygroup import summaries


@task()
def refresh_finding_summaries(branch_ids: list[int]) -> int:
    """Check the given branches again and store their counts per rule (``partygroup.summaries``)."""
    return summaries.refresh_summaries(branch_ids)

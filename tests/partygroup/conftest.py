"""Fixtures shared by the tests of the project app."""

from __future__ import annotations

import pytest

from partygroup import tasks as summary_tasks


@pytest.fixture
def queued(settings):
    """The findings checks queued (their branch ids, in order), with django-tasks' dummy backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    default_task_backend.clear()
    return lambda: [
        result.args[0]
        for result in default_task_backend.results
        if result.task.func is summary_tasks.refresh_finding_summaries.func
    ]

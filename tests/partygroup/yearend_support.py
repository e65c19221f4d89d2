"""Fixtures and helpers shared by the year-end export tests (tests/partygroup/test_yearend_*.py).

- ``export_root``: ``settings.EXPORT_ROOT`` in a temporary directory.
- ``fake_reports``: replaces the annual report PDF (``partygroup.yearend.sources.annual_report_pdf``)
  with a tiny fake naming the group, and records every render: most tests are about the job's
  bookkeeping, not WeasyPrint (the real PDF is rendered in test_yearend_bundle.py and the bench).
- ``tree``: the organisation tree of tests/org_tree.py (a user of every role).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone

from partygroup.yearend import sources
from tests.org_tree import OrgTree, build_tree

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def last_year() -> int:
    return timezone.localdate().year - 1


@pytest.fixture
def export_root(settings, tmp_path) -> Path:
    root = tmp_path / "exports"
    settings.EXPORT_ROOT = root
    return root


class FakeReports:
    """Records the groups whose report was rendered, in order."""

    def __init__(self) -> None:
        self.rendered: list[int] = []
        self.fail_after: int | None = None
        self.fail_with: type[BaseException] = RuntimeError

    def __call__(self, group, year, *, data=None) -> bytes:
        if self.fail_after is not None and len(self.rendered) >= self.fail_after:
            self.fail_after = None
            raise self.fail_with("模拟：渲染进程中断")
        assert data is not None and data.group_id == group.pk, "the export passes each group's own figures"
        self.rendered.append(group.pk)
        return f"%PDF-1.4 fake report of group {group.pk} {group.name} {year}\n%%EOF\n".encode()


@pytest.fixture
def fake_reports(monkeypatch) -> FakeReports:
    fake = FakeReports()
    monkeypatch.setattr(sources, "annual_report_pdf", fake)
    return fake


@pytest.fixture
def tree(db) -> OrgTree:
    return build_tree()


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def zip_texts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def age_heartbeats(job, *, seconds: float = 3600) -> None:
    """Make every part of ``job`` look silent for ``seconds`` (a worker that died that long ago)."""
    from partygroup.models import ExportPart

    past = timezone.now() - dt.timedelta(seconds=seconds)
    ExportPart.objects.filter(job=job).update(heartbeat_at=past, queued_at=past)

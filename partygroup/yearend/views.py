"""The export pages: the form and the list of exports, a job's page with its live progress (htmx polls
a small status fragment every second), continuing an interrupted job, and the downloads.

Fetch and authorise first (``partygroup.http``): the form is for organisation staff and superusers
(everyone else **403**); a job is found only through ``export_jobs_visible_to`` (**404** for anyone
whose subtree does not hold all of its branches). Writes go through ``services``; their
``ValidationError`` is shown on the page and nothing is saved. Files are served with
``FileResponse`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partygroup.http import get_visible_or_404, require_perm
from partygroup.yearend import permissions, services
from partygroup.yearend.forms import ExportForm
from partygroup.yearend.selectors import (
    BUNDLE_FILE,
    WORKBOOK_FILE,
    export_jobs_visible_to,
    export_progress,
    job_directory,
)

JOBS_SHOWN = 20
DOWNLOADS = {
    "xlsx": (WORKBOOK_FILE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 0),
    "zip": (BUNDLE_FILE, "application/zip", 1),
}


@login_required
@require_http_methods(["GET", "POST"])
def export_index(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, permissions.START_EXPORT)
    today = timezone.localdate()
    if request.method == "POST":
        form = ExportForm(request.POST, user=request.user, today=today)
        if form.is_valid():
            try:
                job = services.export_start(
                    by=request.user,
                    organisation=form.cleaned_data["organisation"],
                    year=form.cleaned_data["year"],
                    branches=form.cleaned_data["branches"],
                    today=today,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已开始导出，可在本页查看进度。"))
                return redirect("yearend:detail", pk=job.pk)
    else:
        form = ExportForm(user=request.user, today=today)
    jobs = list(export_jobs_visible_to(request.user)[:JOBS_SHOWN])
    return render(request, "yearend/index.html", {"form": form, "jobs": jobs})


def _job(request: HttpRequest, pk: int):
    return get_visible_or_404(export_jobs_visible_to(request.user), pk=pk)


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "yearend/detail.html", {"job": job, "progress": export_progress(job)})


@login_required
@require_GET
def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status fragment the job page polls (htmx ``every 1s`` while the job is unfinished)."""
    job = _job(request, pk)
    response = render(request, "yearend/_status.html", {"job": job, "progress": export_progress(job)})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def export_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    require_perm(request.user, permissions.RESUME_EXPORT, job)
    try:
        services.export_resume(by=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已重新提交未完成的部分，导出将从中断处继续。"))
    return redirect("yearend:detail", pk=job.pk)


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    job = _job(request, pk)
    if kind not in DOWNLOADS or not job.is_done:
        raise Http404(_("文件尚未生成。"))
    file_name, content_type, name_index = DOWNLOADS[kind]
    path = job_directory(job) / file_name
    if not path.is_file():
        raise Http404(_("文件不存在，可能已被清理。"))
    download_name = services.export_file_names(job.organisation, job.year, job.as_of)[name_index]
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=download_name,
        content_type=content_type,
    )
    response["Cache-Control"] = "no-store"
    return response

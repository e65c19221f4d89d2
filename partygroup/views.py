"""Project-level views: the landing page and a health probe."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from groups.selectors import roles_of


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    roles = roles_of(request.user)
    return render(request, "home.html", {"roles": roles})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

"""URLs of the annual work report pages (namespace ``annual``, R-34)."""

from django.urls import path

from meetings import annual_views as views

app_name = "annual"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("groups/<int:group_id>/", views.group_current, name="group"),
    path("groups/<int:group_id>/<int:year>/", views.report_detail, name="detail"),
    path("groups/<int:group_id>/<int:year>/edit/", views.report_edit, name="edit"),
    path("groups/<int:group_id>/<int:year>/report.pdf", views.report_pdf, name="pdf"),
    path("reports/<int:pk>/<slug:action>/", views.report_action, name="action"),
]

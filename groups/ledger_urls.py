"""URLs of the ledger pages (namespace "ledger"): dues (R-31) and thought reports (R-30)."""

from django.urls import path

from groups import ledger_views as views

app_name = "ledger"

urlpatterns = [
    path("", views.home, name="home"),
    path("groups/<int:group_id>/dues/", views.dues_month, name="dues_month"),
    path("groups/<int:group_id>/dues/arrears/", views.group_arrears, name="group_arrears"),
    path("groups/<int:group_id>/dues/template.xlsx", views.group_template, name="group_template"),
    path("groups/<int:group_id>/dues/import/", views.group_import, name="group_import"),
    path(
        "groups/<int:group_id>/dues/import/confirm/", views.group_import_confirm, name="group_import_confirm"
    ),
    path("groups/<int:group_id>/reports/", views.group_reports, name="group_reports"),
    path("groups/<int:group_id>/reports/new/", views.report_record, name="report_record"),
    path("branches/<int:branch_id>/", views.branch_overview, name="branch"),
    path("branches/<int:branch_id>/dues/template.xlsx", views.branch_template, name="branch_template"),
    path("branches/<int:branch_id>/dues/import/", views.branch_import, name="branch_import"),
    path(
        "branches/<int:branch_id>/dues/import/confirm/",
        views.branch_import_confirm,
        name="branch_import_confirm",
    ),
    path("members/<int:member_id>/", views.member_ledger, name="member"),
]

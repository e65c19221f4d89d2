"""URLs of the dashboard pages (namespace "dashboard")."""

from django.urls import path

from partygroup.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("branch/<int:branch_id>/", views.branch_dashboard, name="branch"),
    path(
        "branch/<int:branch_id>/meetings/<int:pk>/<slug:action>/",
        views.meeting_step,
        name="meeting_step",
    ),
    path("branch/<int:branch_id>/changes/<int:pk>/file/", views.change_file, name="change_file"),
    path("overview/", views.overview, name="overview"),
    path("overview/refresh/", views.overview_refresh, name="overview_refresh"),
    path("overview/changes/<int:pk>/acknowledge/", views.change_acknowledge, name="change_acknowledge"),
    path("me/", views.me, name="me"),
]

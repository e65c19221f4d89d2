"""URLs of the workspace pages (namespace "workspace"): the group leader's workspace."""

from django.urls import path

from meetings import workspace

app_name = "workspace"

urlpatterns = [
    path("", workspace.home, name="home"),
    path("groups/<int:group_id>/", workspace.group_home, name="group"),
    path("groups/<int:group_id>/new/", workspace.meeting_create, name="create"),
    path("meetings/<int:pk>/minutes/", workspace.meeting_minutes, name="minutes"),
    path("meetings/<int:pk>/<slug:action>/", workspace.meeting_action, name="action"),
]

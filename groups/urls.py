"""URLs of the groups pages (namespace "groups")."""

from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/", views.group_create, name="create"),
    path("<int:pk>/", views.group_detail, name="detail"),
    path("<int:pk>/place/", views.membership_place, name="place"),
    path("<int:pk>/move/", views.membership_move, name="move"),
    path("<int:pk>/memberships/<int:membership_id>/end/", views.membership_end, name="membership_end"),
    path("<int:pk>/leaders/new/", views.leader_appoint, name="appoint"),
    path("<int:pk>/leaders/<int:appointment_id>/end/", views.leader_end, name="leader_end"),
    path("<int:pk>/dissolve/", views.group_dissolve, name="dissolve"),
    path("changes/", views.change_list, name="changes"),
    path("changes/<int:pk>/file/", views.change_file, name="change_file"),
    path("changes/<int:pk>/acknowledge/", views.change_acknowledge, name="change_acknowledge"),
    path("changes/<int:pk>/return/", views.change_return, name="change_return"),
    path("branches/<int:branch_id>/place/", views.place_member, name="place_member"),
    path("branches/<int:branch_id>/split/", views.split, name="split"),
]

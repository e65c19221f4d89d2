"""URLs of the registry pages (namespace "registry"): the member registry of a branch (党员名册)."""

from django.urls import path

from groups import member_views as views

app_name = "registry"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("export/", views.member_export, name="export"),
    path("new/", views.member_add, name="add"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/leave/", views.member_leave, name="leave"),
    path("<int:pk>/reveal/<slug:field>/", views.member_reveal, name="reveal"),
]

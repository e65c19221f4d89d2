"""URLs of the year-end export (namespace "yearend", mounted at /exports/)."""

from django.urls import path

from partygroup.yearend import views

app_name = "yearend"

urlpatterns = [
    path("", views.export_index, name="index"),
    path("<int:pk>/", views.export_detail, name="detail"),
    path("<int:pk>/status/", views.export_status, name="status"),
    path("<int:pk>/resume/", views.export_resume, name="resume"),
    path("<int:pk>/download/<str:kind>/", views.export_download, name="download"),
]

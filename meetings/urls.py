"""URLs of the meeting pages (namespace ``meetings``)."""

from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create_choose, name="create_choose"),
    path("groups/<int:group_id>/new/", views.meeting_create, name="create"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/minutes/", views.meeting_minutes, name="minutes"),
    path("<int:pk>/actions/<slug:action>/", views.meeting_action, name="action"),
    path("<int:pk>/addenda/new/", views.addendum_create, name="addendum"),
    path("<int:pk>/opinions/new/", views.opinion_record, name="opinion_record"),
    path("<int:pk>/minutes.pdf", views.minutes_pdf, name="pdf"),
    path("talks/", views.talk_list, name="talks"),
    path("groups/<int:group_id>/talks/new/", views.talk_create, name="talk_create"),
    path("groups/<int:group_id>/plan/", views.plan_current, name="plan_current"),
    path("groups/<int:group_id>/plan/<int:year>/", views.plan_detail, name="plan"),
    path("groups/<int:group_id>/plan/<int:year>/edit/", views.plan_edit, name="plan_edit"),
]

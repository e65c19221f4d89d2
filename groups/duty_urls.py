"""URLs of the duty pages (namespace "duties"): leader reviews, interviews and training (R-28, R-35),
cultivation (R-22), posts and commitments (R-32) and points (R-33)."""

from django.urls import path

from groups import duty_views as views

app_name = "duties"

urlpatterns = [
    path("branch/<int:branch_id>/reviews/", views.reviews, name="reviews"),
    path("branch/<int:branch_id>/interviews/", views.interviews, name="interviews"),
    path("branch/<int:branch_id>/training/", views.training, name="training"),
    path("branch/<int:branch_id>/cultivation/", views.cultivation, name="cultivation"),
    path("branch/<int:branch_id>/cultivation/new/", views.candidate_create, name="candidate_create"),
    path("branch/<int:branch_id>/posts/", views.posts, name="posts"),
    path("branch/<int:branch_id>/points/", views.points_record, name="points_record"),
    path("candidates/", views.led_candidates, name="led_candidates"),
    path("candidates/<int:pk>/", views.candidate_detail, name="candidate"),
    path("candidates/<int:pk>/advance/", views.candidate_advance, name="candidate_advance"),
    path("candidates/<int:pk>/contacts/", views.candidate_contacts, name="candidate_contacts"),
    path("candidates/<int:pk>/link/", views.candidate_link, name="candidate_link"),
    path("groups/<int:group_id>/candidates/", views.group_candidates, name="group_candidates"),
    path("me/posts/", views.my_posts, name="my_posts"),
]

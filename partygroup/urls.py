"""Root URLs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from partygroup import views

admin.site.site_header = _("党小组工作管理系统 · 管理后台")
admin.site.site_title = _("党小组工作管理系统")
admin.site.index_title = _("系统管理")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", include("partygroup.dashboard.urls")),
    path("groups/", include("groups.urls")),
    path("members/", include("groups.member_urls")),
    path("workspace/", include("meetings.workspace_urls")),
    path("meetings/", include("meetings.urls")),
    path("annual/", include("meetings.annual_urls")),
    path("duties/", include("groups.duty_urls")),
    path("ledger/", include("groups.ledger_urls")),
    path("exports/", include("partygroup.yearend.urls")),
    path("admin/", admin.site.urls),
]

"""URLs of the dashboard pages (namespace "dashboard")."""

app_name = "dashboard"

urlpatterns: list = []

"""URLs of the groups pages (namespace "groups")."""

app_name = "groups"

urlpatterns: list = []

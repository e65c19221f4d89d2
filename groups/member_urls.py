"""URLs of the registry pages (namespace "registry")."""

app_name = "registry"

urlpatterns: list = []

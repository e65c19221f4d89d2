from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("组织与党员")

    def ready(self) -> None:
        from members import permissions  # noqa: F401  (registers the rules predicates)

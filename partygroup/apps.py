from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartygroupConfig(AppConfig):
    name = "partygroup"
    verbose_name = _("系统")

    def ready(self) -> None:
        from partygroup import checks  # noqa: F401  (registers the system checks)
        from partygroup.dashboard import permissions  # noqa: F401  (registers the rules predicates)
        from partygroup.yearend import permissions as yearend_permissions  # noqa: F401  (the same)

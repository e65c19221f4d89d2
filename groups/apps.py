from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("党小组")

    def ready(self) -> None:
        from groups import permissions  # noqa: F401  (registers the rules predicates)
        from groups.findings import collect_group_findings
        from partygroup.findings import register_collector

        register_collector(collect_group_findings)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("党小组")

    def ready(self) -> None:
        from groups import permissions  # noqa: F401  (registers the rules predicates)
        from groups.findings import collect_group_findings, collect_leader_findings
        from groups.importing import group_column
        from members.importing import register_column_extension
        from partygroup.findings import register_collector

        register_collector(collect_group_findings)
        register_collector(collect_leader_findings)  # R-28 replacement due, R-35 leader training
        register_column_extension(group_column)  # the 所在党小组 column of the member import/export

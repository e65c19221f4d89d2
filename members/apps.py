from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("组织与党员")

    def ready(self) -> None:
        from members import permissions  # noqa: F401  (registers the rules predicates)
        from members.findings import collect_member_findings
        from partygroup.findings import register_collector

        register_collector(collect_member_findings)  # R-30 thought reports, R-31 dues

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("组织生活")

    def ready(self) -> None:
        # Registers the rules predicates (meetings; R-34 annual report).
        from meetings import annual_permissions, permissions  # noqa: F401
        from meetings.findings import collect_meeting_findings
        from partygroup.findings import register_collector

        register_collector(collect_meeting_findings)

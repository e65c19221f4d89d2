from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("组织生活")

    def ready(self) -> None:
        from meetings import permissions  # noqa: F401  (registers the rules predicates)
        from meetings.findings import collect_meeting_findings
        from partygroup.findings import register_collector

        register_collector(collect_meeting_findings)

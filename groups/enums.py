"""Choices of the groups app (Chinese labels; code names from GLOSSARY.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class GroupChangeKind(models.TextChoices):
    CREATE = "create", _("建立")
    ADJUST = "adjust", _("调整")
    DISSOLVE = "dissolve", _("撤销")


class FilingStatus(models.TextChoices):
    """R-05: a group change decided by the branch is filed with the higher organisation."""

    PENDING = "pending", _("待报备")
    FILED = "filed", _("已报上级备案")
    ACKNOWLEDGED = "acknowledged", _("上级已备案")
    RETURNED = "returned", _("上级退回")


class LeaderRole(models.TextChoices):
    LEADER = "leader", _("组长")
    DEPUTY = "deputy", _("副组长")


class AppointmentMode(models.TextChoices):
    """R-26: designated by the branch, or recommended/elected by the group's members."""

    DESIGNATED = "designated", _("党支部指定")
    RECOMMENDED = "recommended", _("党小组党员推荐产生")

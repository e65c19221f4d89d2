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


class LeaderGrade(models.TextChoices):
    """R-28 (seed 004 §四): the branch's yearly assessment of a group leader."""

    EXCELLENT = "excellent", _("优秀")
    COMPETENT = "competent", _("称职")
    INCOMPETENT = "incompetent", _("不称职")


class CultivationStageKind(models.TextChoices):
    """R-22: the stages of a person the group cultivates, in the only order they may be passed."""

    APPLICANT = "applicant", _("入党申请人")
    ACTIVIST = "activist", _("入党积极分子")
    DEVELOPMENT = "development", _("发展对象")
    PROBATIONARY = "probationary", _("预备党员")


# applicant → activist → development candidate → probationary; no skipping, no going back.
CULTIVATION_ORDER: tuple[str, ...] = (
    CultivationStageKind.APPLICANT,
    CultivationStageKind.ACTIVIST,
    CultivationStageKind.DEVELOPMENT,
    CultivationStageKind.PROBATIONARY,
)
# From this stage on the candidate has 1–2 contact members (培养联系人).
CONTACTS_REQUIRED_FROM = CultivationStageKind.ACTIVIST

"""Choices of the members app (Chinese labels; code names from GLOSSARY.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class MemberStatus(models.TextChoices):
    FULL = "full", _("正式党员")
    PROBATIONARY = "probationary", _("预备党员")


class MemberState(models.TextChoices):
    ACTIVE = "active", _("在册")
    LEFT = "left", _("已转出/离册")


class CommitteePost(models.TextChoices):
    SECRETARY = "secretary", _("支部书记")
    DEPUTY_SECRETARY = "deputy_secretary", _("支部副书记")
    ORGANISATION = "organisation", _("组织委员")
    DISCIPLINE = "discipline", _("纪检委员")
    PROPAGANDA = "propaganda", _("宣传委员")


# the leader asks "the secretary or the organisation or discipline committee member".
APPROVING_POSTS = frozenset(
    {
        CommitteePost.SECRETARY,
        CommitteePost.DEPUTY_SECRETARY,
        CommitteePost.ORGANISATION,
        CommitteePost.DISCIPLINE,
    }
)


class OrganisationKind(models.TextChoices):
    WORK_COMMITTEE = "work_committee", _("工委")
    PARTY_COMMITTEE = "party_committee", _("党委")
    ORGAN_COMMITTEE = "organ_committee", _("机关党委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    OTHER = "other", _("其他")


class PersonalField(models.TextChoices):
    ID_NUMBER = "id_number", _("身份证号")
    PHONE = "phone", _("手机号码")


class ThoughtReportKind(models.TextChoices):
    """R-30: members report monthly (at most quarterly); probationary members hand in WRITTEN reports."""

    ORAL = "oral", _("口头汇报")
    WRITTEN = "written", _("书面汇报")


class PointsGrade(models.TextChoices):
    """R-33: the grade of a member's yearly points rating (党员积分定等)."""

    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASICALLY_QUALIFIED = "basic", _("基本合格")
    UNQUALIFIED = "unqualified", _("不合格")

"""factory_boy factories for the whole suite (STYLE.md: one place, realistic Chinese data)."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from groups.enums import AppointmentMode, LeaderRole
from groups.models import GroupMembership, LeaderAppointment, PartyGroup
from members.enums import CommitteePost, Gender, MemberStatus
from members.models import Branch, CommitteeMembership, Member, Organisation, OrganisationStaff, RuleSet, Unit
from members.validators import id_check_digit

_id_serial = itertools.count(1)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "喆",
    "琰",
    "堃",
    "鑫",
    "晓东",
    "志强",
    "建华",
    "海燕",
    "文博",
]


def make_id_number(birth: dt.date, gender: str, region: str = "110101") -> str:
    """A valid 18-digit resident ID number (GB 11643) for the given birth date and gender."""
    serial = next(_id_serial) % 499
    seq = serial * 2 + (1 if gender == Gender.MALE else 0)  # 17th digit odd for men
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def chinese_name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = ""
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "pass-1234")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def rule_set(code: str = "central-2019") -> RuleSet:
    return RuleSet.objects.get(code=code)


class OrganisationFactory(factory.django.DjangoModelFactory):
    """Creates a root node, or a child when ``parent`` is given (treebeard API)."""

    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"第{n + 1}机关党委")
    kind = "organ_committee"

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        if parent is not None:
            return model_class.objects.add_child(parent, create_kwargs=kwargs)
        return model_class.objects.add_root(create_kwargs=kwargs)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}党支部")
    established_on = dt.date(2015, 3, 1)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}处")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(chinese_name)
    gender = factory.Sequence(lambda n: Gender.MALE if n % 2 else Gender.FEMALE)
    birth_date = factory.Sequence(lambda n: dt.date(1970 + n % 30, 1 + n % 12, 1 + n % 28))
    id_number = factory.LazyAttribute(lambda o: make_id_number(o.birth_date, o.gender))
    phone = factory.Sequence(lambda n: f"139{n % 100000000:08d}")
    status = MemberStatus.FULL
    joined_on = factory.LazyAttribute(lambda o: dt.date(o.birth_date.year + 22, 7, 1))
    full_member_on = factory.LazyAttribute(
        lambda o: (
            dt.date(o.joined_on.year + 1, 7, 1) if o.status == MemberStatus.FULL and o.joined_on else None
        )
    )

    class Params:
        probationary = factory.Trait(
            status=MemberStatus.PROBATIONARY,
            joined_on=factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=120)),
            full_member_on=None,
        )


class CommitteeMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitteeMembership

    member = factory.SubFactory(MemberFactory)
    branch = factory.LazyAttribute(lambda o: o.member.branch)
    post = CommitteePost.SECRETARY
    started_on = dt.date(2022, 1, 1)


class OrganisationStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationStaff

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)


class PartyGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyGroup

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}党小组")
    established_on = dt.date(2020, 1, 1)


class GroupMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(PartyGroupFactory)
    member = factory.SubFactory(MemberFactory, branch=factory.SelfAttribute("..group.branch"))
    started_on = dt.date(2020, 1, 1)


class LeaderAppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeaderAppointment

    group = factory.SubFactory(PartyGroupFactory)
    member = factory.SubFactory(MemberFactory, branch=factory.SelfAttribute("..group.branch"))
    role = LeaderRole.LEADER
    mode = AppointmentMode.DESIGNATED
    started_on = dt.date(2022, 1, 1)
    attests_political_quality = True
    attests_dedication = True
    attests_organising_ability = True


def user_for(member: Member, username: str | None = None):
    """Give ``member`` a login account and return it."""
    user = UserFactory(username=username or f"m{member.pk}")
    member.user = user
    member.save(update_fields=["user"])
    return user


# --- Members' duties, leader reviews, cultivation (R-22, R-28, R-30 … R-35) ------------------------
# Rows written directly (as the collectors read them); services are tested on their own.
class DuesPaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.DuesPayment"

    member = factory.SubFactory(MemberFactory)
    month = dt.date(2025, 1, 1)
    amount_due = "50.00"
    amount_paid = factory.SelfAttribute("amount_due")
    paid_on = factory.LazyAttribute(lambda o: o.month + dt.timedelta(days=9))
    collected_by = factory.SubFactory(UserFactory, username="collector")


class ThoughtReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.ThoughtReport"

    member = factory.SubFactory(MemberFactory)
    received_on = dt.date(2025, 1, 15)
    kind = "written"
    period_start = factory.LazyAttribute(lambda o: o.received_on.replace(day=1))
    period_end = factory.SelfAttribute("period_start")
    summary = "近期学习和工作情况"
    received_by = factory.SubFactory(UserFactory, username="receiver")


class LeaderReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "groups.LeaderReview"

    appointment = factory.SubFactory(LeaderAppointmentFactory)
    year = 2024
    grade = "competent"
    reviewed_on = factory.LazyAttribute(lambda o: dt.date(o.year, 12, 20))
    reviewed_by = factory.SubFactory(UserFactory, username="reviewer")


class LeaderTrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "groups.LeaderTraining"

    member = factory.SubFactory(MemberFactory)
    trained_on = dt.date(2025, 5, 20)
    title = "党小组组长培训班"
    hours = "8.0"
    organiser = "市直机关工委"
    recorded_by = factory.SubFactory(UserFactory, username="trainer")

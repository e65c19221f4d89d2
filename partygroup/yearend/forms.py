"""The export form: organisation, year, optionally branches (of the user's subtree only)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from partygroup.yearend import services
from partygroup.yearend.selectors import export_branches_for, export_organisations_for

YEARS_OFFERED = 10


class _PathSelect(forms.Select):
    """Options carry ``data-path`` (the organisation's tree path) for static/js/yearend.js."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-path"] = instance.path
        return option


class _BranchSelect(forms.SelectMultiple):
    """Options carry ``data-path`` (the branch's organisation path) for static/js/yearend.js."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-path"] = instance.organisation.path
        return option


class OrganisationField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return "　" * max(0, obj.depth - 1) + obj.name


class BranchesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name}（{obj.organisation.name}）"


class ExportForm(forms.Form):
    organisation = OrganisationField(
        label=_("上级党组织"),
        queryset=None,
        empty_label=None,
        widget=_PathSelect(attrs={"data-yearend-org": ""}),
    )
    year = forms.IntegerField(label=_("年度"))
    branches = BranchesField(
        label=_("党支部"),
        queryset=None,
        required=False,
        help_text=_("不选择则导出所选组织下的全部党支部；可按住 Ctrl（⌘）多选。"),
        widget=_BranchSelect(attrs={"size": 8, "data-yearend-branches": ""}),
    )

    def __init__(self, *args, user, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["organisation"].queryset = export_organisations_for(user)
        self.fields["branches"].queryset = export_branches_for(user)
        choices = []
        for year in range(today.year, today.year - YEARS_OFFERED, -1):
            label = _("%(year)s年（截至今日，草稿）") if year == today.year else _("%(year)s年")
            choices.append((year, label % {"year": year}))
        self.fields["year"].widget = forms.Select(choices=choices)
        self.fields["year"].initial = today.year - 1

    def clean_year(self) -> int:
        year = self.cleaned_data["year"]
        try:
            services.export_as_of(year, today=self.today)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["year"]) from None
        return year

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        branches = cleaned.get("branches")
        if organisation is not None and branches:
            outside = [b.name for b in branches if not b.organisation.path.startswith(organisation.path)]
            if outside:
                self.add_error(
                    "branches",
                    _("以下党支部不属于“%(org)s”：%(names)s。")
                    % {"org": organisation.name, "names": "、".join(outside)},
                )
        return cleaned

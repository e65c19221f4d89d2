"""Small forms of the dashboards: the overview's filters and the in-place actions' inputs."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Branch
from partygroup.widgets import QuickSelectMultiple

MIN_YEAR = 2000


class OverviewFilterForm(forms.Form):
    """Filter the organisation overview by branch (one or several) and year (GET parameters)."""

    branch = forms.ModelMultipleChoiceField(
        label=_("党支部"),
        queryset=Branch.objects.none(),
        required=False,
        help_text=_("不选则显示全部党支部；可多选"),
        widget=QuickSelectMultiple(attrs={"size": 4}),  # 600 branches in the city: no template per option
    )
    year = forms.IntegerField(label=_("年度"), required=False)

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is not None:
            self.fields["branch"].queryset = branches
        this_year = timezone.localdate().year
        self.fields["year"].widget.attrs.update({"min": MIN_YEAR, "max": this_year + 1})
        self.fields["year"].validators.append(_year_range(this_year + 1))

    def selected(self) -> tuple[list[Branch], int]:
        """(chosen branches — empty for all, year — this year by default); invalid input is ignored."""
        this_year = timezone.localdate().year
        if not self.is_bound or not self.is_valid():
            return [], this_year
        return list(self.cleaned_data["branch"]), self.cleaned_data["year"] or this_year


def _year_range(maximum: int):
    def validate(value):
        if value is not None and not MIN_YEAR <= value <= maximum:
            raise forms.ValidationError(
                _("年度应在%(min)s至%(max)s之间。"), params={"min": MIN_YEAR, "max": maximum}
            )

    return validate


class FilingForm(forms.Form):
    """R-05: the date the branch files its decision with the higher organisation (default today)."""

    filed_on = forms.DateField(label=_("报备日期"), required=False)

    def filed_on_or_today(self):
        return self.cleaned_data.get("filed_on") or timezone.localdate()


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(label=_("备案意见"), required=False, max_length=2000)

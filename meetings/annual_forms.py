"""Forms of the annual report pages (R-34): they read and type the input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.annual_enums import NARRATIVE_SECTIONS, AnnualReportState

MAX_SECTION_LENGTH = 20000


class AnnualReportForm(forms.Form):
    """The four narrative sections the leader writes (一、基本情况 … 四、下一年打算)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, heading in NARRATIVE_SECTIONS:
            self.fields[name] = forms.CharField(
                label=heading,
                required=False,
                max_length=MAX_SECTION_LENGTH,
                widget=forms.Textarea(attrs={"rows": 6 if name == "main_work" else 4}),
            )


class ReportFilterForm(forms.Form):
    """The list page's filters: the year, a branch, a state."""

    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)
    branch = forms.ModelChoiceField(label=_("党支部"), queryset=None, required=False, empty_label=_("全部"))
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("none", _("尚未起草")), *AnnualReportState.choices],
    )

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches

"""Tests of partygroup/widgets.py: QuickSelect and QuickSelectMultiple render exactly Django's markup."""

from __future__ import annotations

import pytest
from django import forms

from members.models import Branch
from partygroup.widgets import QuickSelect, QuickSelectMultiple
from tests import factories as f

CHOICES = [
    ("a<", "A&b"),
    ("组", [(1, "第一"), (2, '第"二')]),
    ("", "---"),
    (None, "无"),
    ("a<", "重复的值"),
]
ATTRS = {"size": 4, "class": "form-select", "disabled": False, "required": True}


@pytest.mark.parametrize(
    ("django_widget", "quick_widget"),
    [(forms.Select, QuickSelect), (forms.SelectMultiple, QuickSelectMultiple)],
)
@pytest.mark.parametrize("value", ["a<", None, "", 2, ["1", "a<"], []])
def test_quick_select_renders_the_same_html_as_django(django_widget, quick_widget, value):
    expected = django_widget(choices=CHOICES, attrs=ATTRS).render("f", value, attrs={"id": "id_f"})
    rendered = quick_widget(choices=CHOICES, attrs=ATTRS).render("f", value, attrs={"id": "id_f"})
    assert rendered == expected


def test_quick_select_escapes_names_values_and_labels():
    html = QuickSelect(choices=[('"><script>', "<b>x</b>")]).render('n"', None)
    assert "<script>" not in html and "<b>" not in html
    assert 'value="&quot;&gt;&lt;script&gt;"' in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert html.startswith('<select name="n&quot;">')


def test_quick_select_multiple_in_a_model_form_field_matches_django(db):
    branches = [f.BranchFactory(name=f"第{i}党支部") for i in range(3)]

    class DjangoForm(forms.Form):
        branch = forms.ModelMultipleChoiceField(queryset=Branch.objects.order_by("pk"), required=False)

    class QuickForm(forms.Form):
        branch = forms.ModelMultipleChoiceField(
            queryset=Branch.objects.order_by("pk"), required=False, widget=QuickSelectMultiple
        )

    data = {"branch": [str(branches[0].pk), str(branches[2].pk)]}
    assert str(QuickForm(data)["branch"]) == str(DjangoForm(data)["branch"])
    assert str(QuickForm()["branch"]) == str(DjangoForm()["branch"])
    assert QuickForm(data).is_valid()

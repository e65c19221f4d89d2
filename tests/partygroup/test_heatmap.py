"""Tests of partygroup/templatetags/heatmap.py: ``{% heat_cells %}`` renders the overview's month
cells (R-10) exactly as the template markup it replaced, for every state."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template

from partygroup.dashboard.selectors import CellState, MonthCell, month_cells

# The markup of templates/dashboard/_overview_main.html before the tag (one row of cells).
TEMPLATE_MARKUP = (
    '{% for cell in cells %}<td class="dash-heat dash-heat-{{ cell.state }}" title="{{ cell.label }}" '
    'data-month="{{ cell.month }}" data-count="{{ cell.count }}"><span class="visually-hidden">'
    '{{ cell.label }}</span>{% if cell.state == "held" or cell.state == "missing" %}<span aria-hidden="true">'
    "{{ cell.count }}</span>{% endif %}</td>{% endfor %}"
)


def render_both(cells):
    context = Context({"cells": cells})
    return (
        Template("{% load heatmap %}{% heat_cells cells %}").render(context),
        Template(TEMPLATE_MARKUP).render(context),
    )


def test_heat_cells_match_the_template_markup_for_every_state():
    cells = [
        MonthCell(month=1, count=2, state=CellState.HELD),
        MonthCell(month=2, count=0, state=CellState.MISSING),
        MonthCell(month=3, count=0, state=CellState.PENDING),
        MonthCell(month=4, count=0, state=CellState.FUTURE),
        MonthCell(month=5, count=0, state=CellState.NONE),
        MonthCell(month=6, count=1, state=CellState.HELD),
    ]
    tag, template = render_both(cells)
    assert tag == template
    assert tag.count("<td ") == 6
    assert 'title="1月：召开党小组会2次"' in tag and 'title="2月：未召开党小组会（R-10）"' in tag


def test_heat_cells_match_the_template_for_a_year_of_a_group():
    cells = month_cells(
        year=2026,
        established_on=dt.date(2026, 3, 15),
        dissolved_on=None,
        counts={4: 1, 6: 3},
        today=dt.date(2026, 9, 10),
    )
    tag, template = render_both(cells)
    assert tag == template
    assert [c.state for c in cells].count(CellState.MISSING) == 3  # May, July, August

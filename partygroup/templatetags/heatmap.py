"""``{% heat_cells row.cells %}``: the twelve month cells of one row of the organisation overview's
heatmap (R-10), rendered in Python.

A page of the overview has 20 branches × their groups × 12 months — 1,200 cells on the city data set;
as template markup they were half the page's time (each cell's Chinese label built twice, a dozen
variable lookups). The markup is the same: the state as a class, the label as the tooltip and as
visually hidden text, the count shown for held and missing months. A cell depends only on its
state, month and count (and the language of the label), so each distinct cell is built once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from partygroup.dashboard.selectors import CellState, MonthCell

register = template.Library()

CELL = (
    '<td class="dash-heat dash-heat-{}" title="{}" data-month="{}" data-count="{}">'
    '<span class="visually-hidden">{}</span>{}</td>'
)
SHOWN = frozenset({CellState.HELD, CellState.MISSING})


def _count(cell: MonthCell) -> str:
    return format_html('<span aria-hidden="true">{}</span>', cell.count) if cell.state in SHOWN else ""


@lru_cache(maxsize=4096)
def _cell(language: str | None, state: str, month: int, count: int) -> str:
    """One cell's markup: it depends on these four only (a few dozen distinct cells on a page)."""
    cell = MonthCell(month=month, count=count, state=state)
    label = cell.label
    return format_html(CELL, state, label, month, count, label, _count(cell))


@register.simple_tag
def heat_cells(cells: Iterable[MonthCell]) -> str:
    language = get_language()
    # Each piece comes from format_html (escaped); joining safe strings keeps them safe.
    return mark_safe("".join(_cell(language, c.state, c.month, c.count) for c in cells))  # noqa: S308

"""The month-by-month chart as inline SVG (meetings/charts.py): one string for the page and the PDF."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from meetings.charts import FONT_FAMILY, monthly_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
LABELS = [f"{m}月" for m in range(1, 13)]


def _chart(**overrides) -> str:
    kwargs = {
        "labels": LABELS,
        "counts": [1, 0, 2, 0, 0, 1, 1, 0, 1, 0, 1, 0],
        "rates": [1.0, None, 0.75, None, None, 1.0, 1.0, None, 0.5, None, 1.0, None],
        "title": "2025年各月会议召开和出勤情况",
        "count_label": "召开会议次数",
        "rate_label": "党小组会出勤率",
    }
    kwargs.update(overrides)
    return monthly_chart_svg(**kwargs)


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [node.text or "" for node in root.iter(f"{SVG}text")]


def test_chart_is_one_svg_element_with_title_legend_and_every_month():
    svg = _chart()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("role"), root.get("viewBox")) == ("img", "0 0 640 300")
    assert root.find(f"{SVG}title").text == "2025年各月会议召开和出勤情况"
    texts = _texts(svg)
    assert [t for t in texts if t.endswith("月") and t[:-1].isdigit()] == LABELS
    assert {"2025年各月会议召开和出勤情况", "召开会议次数", "党小组会出勤率"} <= set(texts)


def test_chart_shows_each_month_count_and_rate_with_a_dash_for_no_rate():
    texts = _texts(_chart())
    rate_texts = [t for t in texts if t.endswith("%") or t == "—"]
    # The right axis (0%, 50%, 100%) then one value per month.
    assert rate_texts[:3] == ["0%", "50%", "100%"]
    assert rate_texts[3:] == ["100%", "—", "75%", "—", "—", "100%", "100%", "—", "50%", "—", "100%", "—"]
    assert sum(1 for t in texts if t == "2") == 2  # the March bar's value and the axis step


def test_chart_bars_follow_the_counts():
    root = ET.fromstring(_chart())
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("fill-opacity") and float(r.get("height")) > 9]
    heights = [float(r.get("height")) for r in bars]
    # Five months with one meeting, March with two: its bar is twice as tall; no bar for empty months.
    assert len(heights) == 6
    assert max(heights) == pytest.approx(2 * min(heights))


def test_chart_line_breaks_where_a_month_has_no_rate():
    root = ET.fromstring(_chart())
    lines = [p.get("points").split() for p in root.iter(f"{SVG}polyline")]
    # June–July is the only run of consecutive months with a rate (single points are dots only).
    assert [len(points) for points in lines] == [2]
    assert len(list(root.iter(f"{SVG}circle"))) == 6


def test_chart_text_uses_the_cjk_font_family_and_no_style_or_external_resource():
    svg = _chart()
    root = ET.fromstring(svg)
    assert {node.get("font-family") for node in root.iter(f"{SVG}text")} == {FONT_FAMILY}
    assert "Noto Serif CJK SC" in FONT_FAMILY
    assert "style=" not in svg
    body = svg.replace('xmlns="http://www.w3.org/2000/svg"', "", 1)
    assert not re.search(r"href|url\(|<image|<script|<style|https?:|file:", body)


def test_chart_escapes_every_text():
    svg = _chart(
        title='<script>alert("x")</script>&',
        count_label="<b>次数</b>",
        labels=["<i>1月</i>", *LABELS[1:]],
    )
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    texts = _texts(svg)
    assert '<script>alert("x")</script>&' in texts and "<b>次数</b>" in texts and "<i>1月</i>" in texts


def test_chart_without_any_meeting_still_draws_an_axis():
    texts = _texts(_chart(counts=[0] * 12, rates=[None] * 12))
    assert "0" in texts and "1" in texts


@pytest.mark.parametrize(
    "overrides",
    [{"counts": [1, 2]}, {"rates": []}, {"labels": [], "counts": [], "rates": []}],
)
def test_chart_refuses_mismatched_series(overrides):
    with pytest.raises(ValueError, match="数量必须一致"):
        _chart(**overrides)

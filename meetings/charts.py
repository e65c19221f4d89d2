"""Month-by-month charts as inline SVG strings: the SAME string is embedded in the web page and in the
PDF (WeasyPrint draws inline SVG itself), so the chart looks the same in both.

Rules of the house: no external resource (no <image>, no href, no font file, no CSS), no ``style``
attributes (CSP) — presentation attributes only; text in the CJK font family of the PDFs
(static/pdf/house.css); every text node escaped here, so the caller may mark the result safe.
Pure functions: no database, no request.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape

FONT_FAMILY = "'Noto Serif CJK SC', 'Noto Sans CJK SC', 'Noto Serif CJK', serif"
BAR_COLOUR = "#b22222"
LINE_COLOUR = "#1f4e79"
GRID_COLOUR = "#d0d0d0"
TEXT_COLOUR = "#222222"

WIDTH = 640
HEIGHT = 300
LEFT = 48
RIGHT = 48
TOP = 40
BOTTOM = 56


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(
    x: float, y: float, content: str, *, size: int = 11, anchor: str = "middle", fill: str = TEXT_COLOUR
) -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family="{escape(FONT_FAMILY)}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{fill}">{escape(content)}</text>'
    )


def monthly_chart_svg(
    *,
    labels: Sequence[str],
    counts: Sequence[int],
    rates: Sequence[float | None],
    title: str,
    count_label: str,
    rate_label: str,
    description: str = "",
) -> str:
    """Bars of ``counts`` (left axis, whole numbers) and a line of ``rates`` (0…1, right axis, %) for
    each of ``labels`` (e.g. 1月 … 12月). A month without a rate (``None``) breaks the line; its value
    label reads "—". Returns an ``<svg>`` element with ``role="img"``, a <title> and a <desc>."""
    n = len(labels)
    if not (n == len(counts) == len(rates)) or n == 0:
        raise ValueError("图表的月份、次数和比率数量必须一致且不为空。")
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    slot = plot_w / n
    top_count = max(max(counts), 1)
    # A whole-number left axis with at most 5 steps.
    step = max(1, -(-top_count // 4))
    axis_max = step * (-(-top_count // step))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="annual-chart" role="img" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(description or title)}</desc>",
        _text(WIDTH / 2, 18, title, size=14),
    ]
    # Grid and left axis (counts).
    for value in range(0, axis_max + 1, step):
        y = base - plot_h * value / axis_max
        parts.append(
            f'<line x1="{LEFT}" y1="{_num(y)}" x2="{WIDTH - RIGHT}" y2="{_num(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="0.6"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, str(value), size=10, anchor="end"))
    # Right axis (rates, %).
    for percent in (0, 50, 100):
        y = base - plot_h * percent / 100
        parts.append(
            _text(WIDTH - RIGHT + 6, y + 4, f"{percent}%", size=10, anchor="start", fill=LINE_COLOUR)
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="0.8"/>'
    )
    # Bars with their values, and the month labels.
    bar_w = slot * 0.5
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        centre = LEFT + slot * (i + 0.5)
        height = plot_h * count / axis_max
        if count:
            parts.append(
                f'<rect x="{_num(centre - bar_w / 2)}" y="{_num(base - height)}" width="{_num(bar_w)}" '
                f'height="{_num(height)}" fill="{BAR_COLOUR}" fill-opacity="0.8"/>'
            )
        parts.append(_text(centre, base - height - 4, str(count), size=9, fill=BAR_COLOUR))
        parts.append(_text(centre, base + 16, label, size=10))
    # The rate line, broken where a month has no rate.
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, rate in enumerate(rates):
        if rate is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x = LEFT + slot * (i + 0.5)
        y = base - plot_h * max(0.0, min(1.0, rate))
        segment.append(f"{_num(x)},{_num(y)}")
        parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{LINE_COLOUR}"/>')
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" '
                f'stroke="{LINE_COLOUR}" stroke-width="1.6"/>'
            )
    # Rate values under the month labels (the line's exact figures, readable in the PDF's text).
    for i, rate in enumerate(rates):
        centre = LEFT + slot * (i + 0.5)
        parts.append(
            _text(
                centre, base + 30, "—" if rate is None else f"{round(rate * 100)}%", size=9, fill=LINE_COLOUR
            )
        )
    # Legend.
    legend_y = HEIGHT - 8
    parts.append(
        f'<rect x="{LEFT}" y="{legend_y - 9}" width="12" height="9" fill="{BAR_COLOUR}" fill-opacity="0.8"/>'
    )
    parts.append(_text(LEFT + 16, legend_y, count_label, size=10, anchor="start"))
    legend_x = LEFT + 200
    parts.append(
        f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 16}" y2="{legend_y - 4}" '
        f'stroke="{LINE_COLOUR}" stroke-width="1.6"/>'
    )
    parts.append(_text(legend_x + 20, legend_y, rate_label, size=10, anchor="start"))
    parts.append("</svg>")
    return "".join(parts)

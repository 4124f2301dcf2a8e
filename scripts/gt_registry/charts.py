"""The report's charts, drawn as small inline SVG: horizontal bars, stacked or side by side.

Drawn by hand on purpose (see the README, "Dependencies"): the report needs one kind of chart,
labelled bars, and a plotting library would bring tens of megabytes (matplotlib: numpy, Pillow,
fonttools…) or JavaScript (pygal's tooltips), plus output to clean up (a DOCTYPE, metadata and
namespace URLs) before the page is self-contained. Here every chart is plain SVG text, with its
`<title>` for screen readers, text kept as text (searchable, selectable, printed sharp), and no
reference to anything outside the page.

Colours: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies),
each group keeping its colour *and* a pattern in every chart (`group_fills`), so that a black
and white print still tells the groups apart; the other series are greys of clearly different
lightness. Every bar carries its figure as text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

# Okabe & Ito (2008), "Color Universal Design": distinguishable by colour-blind readers.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
PATTERNS = ("solid", "hatch", "dots", "cross", "lines", "solid", "hatch")
INK, GREY, LIGHT, PAPER = "#1a1a1a", "#8c8c8c", "#d9d9d9", "#ffffff"

FONT = 11.0  # SVG units; the page shows 1 unit ≈ 0.28 mm
ROW = 18.0
BAR = 13.0
GAP = 7.0
CHAR = 0.64  # average glyph width, in font sizes (DejaVu Sans, generous: labels must fit)
MM = 0.28  # millimetres per SVG unit on the page: every chart at the same scale
_ids = itertools.count(1)


@dataclass(frozen=True)
class Fill:
    """How a bar segment is painted: a colour and a pattern (`solid`, `hatch`, `dots`, `cross`,
    `lines`, or `outline`: white with a border)."""

    colour: str
    pattern: str = "solid"
    label: str = ""  # for the legend


@dataclass(frozen=True)
class Segment:
    value: float
    fill: Fill


@dataclass(frozen=True)
class Bar:
    segments: tuple[Segment, ...]
    text: str  # the figure written after the bar
    sub_label: str = ""  # a second-level label, for bars side by side within one category


@dataclass(frozen=True)
class Category:
    label: str
    bars: tuple[Bar, ...]


@dataclass
class _Canvas:
    width: float
    prefix: str
    defs: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)

    def paint(self, fill: Fill) -> str:
        """The `fill` and `stroke` attributes of a shape painted with `fill`."""
        if fill.pattern == "solid":
            return f'fill="{fill.colour}" stroke="{INK}" stroke-width="0.6"'
        if fill.pattern == "outline":
            return f'fill="{PAPER}" stroke="{fill.colour}" stroke-width="1.2"'
        key = f"{fill.pattern}-{fill.colour.lstrip('#')}"
        pid = f"{self.prefix}-{key}"
        if key not in self.defs:
            self.defs[key] = _pattern(pid, fill)
        return f'fill="url(#{pid})" stroke="{fill.colour}" stroke-width="1"'


def _pattern(pid: str, fill: Fill) -> str:
    c = fill.colour
    shapes = {
        "hatch": f'<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="{c}" stroke-width="1.6"/>',
        "dots": f'<circle cx="3" cy="3" r="1.5" fill="{c}"/>',
        "cross": f'<path d="M0,3 h6 M3,0 v6" stroke="{c}" stroke-width="1.4"/>',
        "lines": f'<path d="M0,1.5 h6 M0,4.5 h6" stroke="{c}" stroke-width="1.2"/>',
    }[fill.pattern]
    return (
        f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{PAPER}"/>{shapes}</pattern>'
    )


def group_fills(codes: Iterable[str]) -> dict[str, Fill]:
    """Each group's fill, in the registry's order of groups: the same in every chart."""
    return {
        code: Fill(PALETTE[i % len(PALETTE)], PATTERNS[i % len(PATTERNS)], code)
        for i, code in enumerate(codes)
    }


def text_width(text: str, size: float = FONT, bold: bool = False) -> float:
    capitals = sum(c.isupper() for c in text)
    return (len(text) + 0.25 * capitals) * size * CHAR * (1.1 if bold else 1.0)


def shorten(text: str, room: float, size: float = FONT) -> str:
    """`text`, cut with `…` to fit `room` units."""
    most = max(4, int(room / (size * CHAR)))
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def bar_chart(
    title: str,
    categories: Sequence[Category],
    *,
    width: float = 720,
    legend: Sequence[Fill] = (),
    label_room: float | None = None,
    scale: float | None = None,
) -> str:
    """Horizontal bars, one row per bar, grouped by category; segments stacked left to right.

    The category label sits on the left (on the first row of its bars), the bar's figure at
    its end. `scale` is the value the full width stands for (default: the largest total)."""
    canvas = _Canvas(width, f"c{next(_ids)}")
    subs = any(b.sub_label for c in categories for b in c.bars)
    labels = [c.label for c in categories]
    room = label_room or min(width * 0.42, max(text_width(t, bold=subs) for t in labels) + 10)
    sub_room = max(
        (text_width(b.sub_label, FONT - 1) for c in categories for b in c.bars), default=0
    )
    sub_room = sub_room + 8 if subs else 0
    figures_room = max(text_width(b.text) for c in categories for b in c.bars) + 8
    left = room + sub_room
    span = max(40.0, width - left - figures_room - 4)
    largest = scale or max(
        (sum(s.value for s in b.segments) for c in categories for b in c.bars), default=0
    )
    unit = span / largest if largest else 0.0
    y = 4.0
    if legend:
        y = _legend(canvas, legend, y) + 6
    start = y - 2
    for category in categories:
        top = y
        for bar in category.bars:
            if bar.sub_label:
                canvas.body.append(
                    _text(room + sub_room - 6, y + BAR - 3, bar.sub_label, "end", FONT - 1, GREY)
                )
            x = left
            for segment in bar.segments:
                if segment.value <= 0:
                    continue
                w = segment.value * unit
                canvas.body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BAR}" {canvas.paint(segment.fill)}/>'
                )
                x += w
            canvas.body.append(_text(x + 4, y + BAR - 3, bar.text, "start"))
            y += ROW if subs else BAR + 4
        canvas.body.append(
            _text(
                room - 6,
                top + BAR - 3,
                shorten(category.label, room - 10),
                "end",
                weight="bold" if subs else "",
            )
        )
        y += GAP if subs else 1
    canvas.body.insert(
        0,
        f'<line x1="{left:.1f}" y1="{start:.1f}" x2="{left:.1f}" y2="{y:.1f}" stroke="{INK}" stroke-width="0.8"/>',
    )
    return _svg(canvas, title, y + 4)


def _legend(canvas: _Canvas, legend: Sequence[Fill], y: float) -> float:
    x = 0.0
    for fill in legend:
        need = 18 + text_width(fill.label) + 14
        if x + need > canvas.width and x > 0:
            x, y = 0.0, y + ROW
        canvas.body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" {canvas.paint(fill)}/>'
        )
        canvas.body.append(_text(x + 17, y + 10, fill.label, "start"))
        x += need
    return y + ROW


def column_chart(
    title: str,
    columns: Sequence[tuple[str, float, Fill]],
    *,
    width: float = 420,
    height: float = 170,
    caption: str = "",
    legend: Sequence[Fill] = (),
    figure: Callable[[float], str] = lambda v: f"{v:g}",
) -> str:
    """Vertical columns (a histogram): label below, figure above each column."""
    canvas = _Canvas(width, f"c{next(_ids)}")
    top = 4.0
    if legend:
        top = _legend(canvas, legend, top) + 2
    base = top + height - 2 * ROW
    largest = max((v for _l, v, _f in columns), default=0) or 1
    slot = width / max(1, len(columns))
    bar = min(46.0, slot * 0.7)
    for i, (label, value, fill) in enumerate(columns):
        h = (base - top - ROW) * value / largest
        x = i * slot + (slot - bar) / 2
        if value > 0:
            canvas.body.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" {canvas.paint(fill)}/>'
            )
        canvas.body.append(_text(x + bar / 2, base - h - 4, figure(value), "middle"))
        canvas.body.append(_text(x + bar / 2, base + 13, label, "middle"))
    canvas.body.append(
        f'<line x1="0" y1="{base:.1f}" x2="{width:.1f}" y2="{base:.1f}" stroke="{INK}" stroke-width="0.8"/>'
    )
    if caption:
        canvas.body.append(_text(width / 2, base + 13 + ROW, caption, "middle", FONT - 1, GREY))
    return _svg(canvas, title, base + 2 * ROW + 2)


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str,
    size: float = FONT,
    colour: str = INK,
    weight: str = "",
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}" '
        f'fill="{colour}"{bold}>{escape(text)}</text>'
    )


def _svg(canvas: _Canvas, title: str, height: float) -> str:
    tid = f"{canvas.prefix}-title"
    defs = f"<defs>{''.join(canvas.defs.values())}</defs>" if canvas.defs else ""
    return (
        f'<svg class="chart" viewBox="0 0 {canvas.width:g} {height:.0f}" width="{canvas.width * MM:g}mm" role="img" '
        f'aria-labelledby="{tid}" font-family="inherit">'
        f'<title id="{tid}">{escape(title)}</title>{defs}{"".join(canvas.body)}</svg>'
    )

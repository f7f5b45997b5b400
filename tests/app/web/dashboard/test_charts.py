"""Server-side SVG charts: well-formed, proportional, accessible, deterministic; hostile labels stay text."""

import xml.etree.ElementTree as ET

import pytest

from app.web.dashboard.charts import PLOT, Caption, bar_chart, fit, histogram, stacked_weeks, svg

NS = {"svg": "http://www.w3.org/2000/svg"}
HOSTILE = '</text><script>alert("x")</script>&amp; <b>'


def _parse(document: str) -> ET.Element:
    return ET.fromstring(document)  # raises on anything that is not well-formed XML


def _caption(title: str = "On time") -> Caption:
    return Caption("chart-x", title, "The table below lists the same numbers.", "Nothing in this period.")


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_bars_are_proportional_to_their_values_and_labelled_with_them() -> None:
    chart = bar_chart(_caption(), [("A", 0.25, "25.0%"), ("B", 1.0, "100.0%"), ("C", 0.5, "50.0%")])
    root = _parse(svg(chart))
    widths = [float(r.get("width", "")) for r in root.findall(".//svg:g[@class='bar']/svg:rect", NS)]
    assert widths == [PLOT * 0.25, PLOT, PLOT * 0.5]
    assert [t for t in _texts(root) if t.endswith("%")] == ["25.0%", "100.0%", "50.0%"]


def test_bars_of_counts_scale_to_the_largest_and_unknown_values_draw_nothing() -> None:
    chart = bar_chart(_caption(), [("A", 3, "3"), ("B", 12, "12"), ("C", None, "—")], maximum=12)
    widths = [bar.width for bar in chart.bars]
    assert widths == [PLOT / 4, PLOT, 0.0]
    assert "—" in _texts(_parse(svg(chart)))


def test_a_histogram_has_heights_proportional_to_counts_on_one_baseline() -> None:
    chart = histogram(_caption(), [("< 30 min", 8), ("30 min–1 h", 2), ("≥ 1 h", 0)])
    root = _parse(svg(chart))
    rects = root.findall(".//svg:g[@class='column']/svg:rect", NS)
    heights = [float(r.get("height", "")) for r in rects]
    assert heights[0] == 4 * heights[1]
    assert heights[2] == 0
    bottoms = {round(float(r.get("y", "")) + float(r.get("height", "")), 2) for r in rects}
    assert bottoms == {chart.base}
    assert {"8", "2", "0", "< 30 min", "30 min–1 h", "≥ 1 h"} <= set(_texts(root))


def test_stacked_weeks_stack_each_series_and_name_it_in_the_legend() -> None:
    chart = stacked_weeks(_caption(), ["3/30", "4/6"], [("外来", [1, 4]), ("介護事業部", [0, 2])])
    root = _parse(svg(chart))
    weeks = root.findall(".//svg:g[@class='week']", NS)
    first = [float(r.get("height", "")) for r in weeks[0].findall("svg:rect", NS)]
    second = [float(r.get("height", "")) for r in weeks[1].findall("svg:rect", NS)]
    assert len(first) == 1  # a zero is not drawn
    assert sum(second) == pytest.approx(6 * first[0], abs=0.05)  # heights are rounded to 0.01 px
    assert [s.color for s in chart.stacks[1].segments] == [item.color for item in chart.legend]
    assert [item.label for item in chart.legend] == ["外来", "介護事業部"]
    assert {"1", "6", "3/30", "4/6"} <= set(_texts(root))


@pytest.mark.parametrize(
    "chart",
    [
        bar_chart(_caption(HOSTILE), [(HOSTILE, 0.5, "50.0%")]),
        histogram(_caption(HOSTILE), [(HOSTILE, 3)]),
        stacked_weeks(_caption(HOSTILE), [HOSTILE], [(HOSTILE, [2])]),
    ],
    ids=["bars", "histogram", "stacked"],
)
def test_hostile_labels_are_escaped_text(chart: object) -> None:
    document = svg(chart)  # type: ignore[arg-type]
    assert "<script>" not in document
    assert "<b>" not in document
    root = _parse(document)
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert root.get("aria-label") == HOSTILE
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert titles[0] == HOSTILE
    assert any(HOSTILE in (title or "") for title in titles[1:])  # the full label, also when shortened


def test_every_chart_is_an_image_with_a_name_and_a_description() -> None:
    for chart in (
        bar_chart(_caption(), [("A", 0.5, "50.0%")]),
        histogram(_caption(), [("a", 1)]),
        stacked_weeks(_caption(), ["3/30"], [("A", [1])]),
    ):
        root = _parse(svg(chart))
        assert root.get("role") == "img"
        assert root.get("aria-label") == "On time"
        title, desc = root[0], root[1]
        assert (title.tag.split("}")[1], title.text) == ("title", "On time")
        assert desc.get("id") == root.get("aria-describedby") == "chart-x-desc"


def test_empty_charts_say_so_instead_of_drawing() -> None:
    for chart in (
        bar_chart(_caption(), []),
        histogram(_caption(), [("a", 0)]),
        stacked_weeks(_caption(), ["3/30"], []),
    ):
        root = _parse(svg(chart))
        assert "Nothing in this period." in _texts(root)
        assert not root.findall(".//svg:rect", NS)


def test_the_same_numbers_draw_the_same_picture() -> None:
    def draw() -> str:
        return svg(bar_chart(_caption(), [("巡回健診部", 2 / 3, "66.7%"), ("外来", 1 / 7, "14.3%")]))

    assert draw() == draw()


def test_long_labels_are_shortened_to_fit_with_full_width_characters_counted_double() -> None:
    assert fit("Ward", 100) == "Ward"
    shortened = fit("お詫びの電話と事実確認(初期対応)のための長い名前", 120)
    assert shortened.endswith("…")
    assert len(shortened) < len("お詫びの電話と事実確認(初期対応)のための長い名前")
    assert len(fit("a" * 40, 120)) > len(fit("あ" * 40, 120))

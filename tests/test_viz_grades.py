"""The "Circle grade" map layer paints each home cell in its community's grade, cell by cell.

The painted map is read back pixel by pixel (each cell's most common colour, so a block label
or the ring of a neighbouring policy site does not count) and decoded through the grade
colours; it must equal ``CommerceModel.grade_grid()`` at every cell. The neighbourhood centre
on a small city (seed 3) lifts two communities from below basic to basic and upgraded on its
first day, so the layer is seen to follow a policy that changes grades.
"""

from __future__ import annotations

import io

import numpy as np
import PIL.Image
import pytest

from model import CommerceModel
from model.grades import GRADES
from viz.legend import colourbar_html, legend_html
from viz.mapview import LAYER_BY_KEY, LAYERS, MapPainter, layer_values, storefront_cells
from viz.palette import CATEGORY_COLOURS, GRADE_COLOURS, rgb8
from viz.story import grade_rule

from .conftest import SMALL

GRADE_LAYER = LAYER_BY_KEY["Circle grade"]


def painted(painter: MapPainter, png: bytes) -> np.ndarray:
    """(width, height) grade codes read back from the picture (NaN: no grade colour)."""
    img = np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"))
    colour_code = {rgb8(GRADE_COLOURS[g]): code for code, g in enumerate(GRADES)}
    out = np.full((painter.w, painter.h), np.nan)
    for x in range(painter.w):
        for y in range(painter.h):
            x0, y0 = painter.corner((x, y))
            block = img[y0:y0 + painter.px, x0:x0 + painter.px].reshape(-1, 3)
            colours, counts = np.unique(block, axis=0, return_counts=True)
            out[x, y] = colour_code.get(tuple(colours[np.argmax(counts)].tolist()), np.nan)
    return out


def grade_png(model: CommerceModel, painter: MapPainter) -> bytes:
    return painter.png(layer_values(model, GRADE_LAYER, "fresh_food"), graded=True)


def expected(model: CommerceModel) -> np.ndarray:
    """The model's grade grid where the map paints it (home cells, not storefronts)."""
    return np.where(storefront_cells(model), np.nan, model.grade_grid())


@pytest.fixture(scope="module")
def centre() -> CommerceModel:
    """The neighbourhood centre's small city after its first day (grades none, basic, upgraded)."""
    model = CommerceModel(scenario="neighborhood_center", rng=3, **SMALL)
    model.step()
    return model


def test_the_grade_layer_is_a_layer_of_the_page():
    assert GRADE_LAYER in LAYERS and GRADE_LAYER.graded
    assert [layer.key for layer in LAYERS if layer.graded] == ["Circle grade"]


def test_the_painted_layer_equals_the_grade_grid_and_follows_a_policy():
    model = CommerceModel(scenario="neighborhood_center", rng=3, **SMALL)
    painter = MapPainter(model)
    before = painted(painter, grade_png(model, painter))
    np.testing.assert_array_equal(before, expected(model))
    assert np.isfinite(before).sum() > 100 and set(np.unique(before[np.isfinite(before)])) == {0}
    model.step()  # the centre opens: some communities reach basic and upgraded
    after = painted(painter, grade_png(model, painter))
    np.testing.assert_array_equal(after, expected(model))
    assert {1, 2} <= set(np.unique(after[np.isfinite(after)]).tolist())
    assert not np.array_equal(after, before, equal_nan=True)
    twin = CommerceModel(scenario="baseline", rng=3, **SMALL)  # same city, no policy
    twin.step()
    assert set(np.unique(twin.grade_grid()[np.isfinite(twin.grade_grid())])) == {0}
    assert painter.png() != grade_png(model, painter)  # the plain map is not the layer


def test_the_painted_layer_matches_through_a_month_of_every_policy():
    model = CommerceModel(scenario="combined", rng=1, **SMALL)  # a quality circle among others
    painter = MapPainter(model)
    for _ in range(3):
        model.run_for(10)
        grades = painted(painter, grade_png(model, painter))
        np.testing.assert_array_equal(grades, expected(model))
        assert {0, 3} <= set(np.unique(grades[np.isfinite(grades)]).tolist())


def test_the_grade_map_lists_only_the_grades_drawn_and_hides_the_formats(centre):
    painter = MapPainter(centre)
    png = grade_png(centre, painter)
    drawn_codes = np.unique(centre.grade_grid()[~storefront_cells(centre)
                                                & np.isfinite(centre.grade_grid())])
    assert {f"grade:{GRADES[int(c)]}" for c in drawn_codes} == {
        key for key in painter.drawn if key.startswith("grade:")}
    legend = legend_html(painter.drawn, centre.categories)
    texts = {"none": "circle below the basic grade", "basic": "basic circle",
             "upgraded": "upgraded circle", "quality": "quality circle"}
    for code, name in enumerate(GRADES):
        assert (texts[name] in legend) == (code in drawn_codes), name
    assert "formats hidden on the grade map" in legend and "(basic)</span>" not in legend
    img = np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    cats = {rgb8(c) for c in CATEGORY_COLOURS.values()}
    assert not {tuple(p) for p in np.unique(img, axis=0).tolist()} & cats  # no format colour
    coverage = painter.png(layer_values(centre, LAYER_BY_KEY["All basic formats"], "fresh_food"))
    shown = np.asarray(PIL.Image.open(io.BytesIO(coverage)).convert("RGB")).reshape(-1, 3)
    assert {tuple(p) for p in np.unique(shown, axis=0).tolist()} & cats  # shops in colour there
    assert not any(key.startswith("grade:") for key in painter.drawn)
    assert "basic circle" not in legend_html(painter.drawn, centre.categories)


def test_the_grade_layers_caption_states_the_rule_and_a_difference_has_a_bar(centre):
    rule = grade_rule(centre)
    html = colourbar_html(GRADE_LAYER, "fresh_food", False, 10.0, rule)
    assert "lc-cbar-bar" not in html  # its grades are legend entries, not a ramp
    assert "at least 4 of the 5 quality formats" in html and "80%" in html
    diff = colourbar_html(GRADE_LAYER, "fresh_food", True, 10.0, rule)
    assert "lc-cbar-bar" in diff and "minus the baseline" in diff and "one grade or more" in diff
    painter = MapPainter(centre)
    twin = CommerceModel(scenario="baseline", rng=3, **SMALL)
    twin.run_for(centre.day)
    values = layer_values(centre, GRADE_LAYER, "") - layer_values(twin, GRADE_LAYER, "")
    painter.png(values, diverging=True, graded=True)
    assert "layer" in painter.drawn and "shop-hollow" in painter.drawn
    assert not any(key.startswith("grade:") for key in painter.drawn)

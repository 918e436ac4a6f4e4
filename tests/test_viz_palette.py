"""The map's colours can be told apart with any colour vision, and never collide.

Colour-vision deficiencies are simulated with the matrices of Machado, Oliveira & Fernandes
(2009, severity 1.0) on linear sRGB; differences are CIELAB distances (D65). Two colours
"collide" when some viewer sees them less than ``MIN_DELTA_E`` apart.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from model.grades import GRADES
from model.scenario import category_names
from viz.palette import (
    BLACK,
    CATEGORY_COLOURS,
    DIVERGING,
    GRADE_COLOURS,
    PLAIN,
    RAMP_ENDS,
    UNDER_LAYER,
    WHITE,
    diverging_rgb,
    grade_rgb,
    ramp_rgb,
    rgb8,
)

MIN_DELTA_E = 20.0
VISION = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def lab(colour, vision: str) -> np.ndarray:
    """CIELAB of an sRGB colour (hex or 0..255 triple) as a viewer with ``vision`` sees it."""
    rgb = np.array(rgb8(colour) if isinstance(colour, str) else colour, dtype=float) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(VISION[vision] @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def worst(a, b) -> float:
    """The smallest distance between two colours over every kind of vision."""
    return min(float(np.linalg.norm(lab(a, v) - lab(b, v))) for v in VISION)


def test_every_category_has_a_colour():
    assert set(CATEGORY_COLOURS) == set(category_names())


def test_category_colours_are_apart_for_every_viewer():
    pairs = list(itertools.combinations(CATEGORY_COLOURS.items(), 2))
    close = [(a, b, round(worst(ca, cb), 1)) for (a, ca), (b, cb) in pairs
             if worst(ca, cb) < MIN_DELTA_E]
    assert not close


def test_no_category_colour_collides_with_the_map_or_a_layer():
    ramp = [tuple(c) for c in ramp_rgb(np.linspace(0, 1, 21))]
    others = [*PLAIN.values(), *UNDER_LAYER.values(), BLACK, WHITE, *RAMP_ENDS, *ramp]
    close = [(name, other, round(worst(colour, other), 1))
             for name, colour in CATEGORY_COLOURS.items() for other in others
             if worst(colour, other) < MIN_DELTA_E]
    assert not close


def test_layer_ramp_reads_by_lightness_alone():
    lightness = {v: [lab(tuple(c), v)[0] for c in ramp_rgb(np.linspace(0, 1, 11))]
                 for v in VISION}
    for v, ls in lightness.items():
        assert all(b < a - 3 for a, b in itertools.pairwise(ls)), v  # darker = more


def test_difference_ramp_keeps_its_sides_apart():
    neg, mid, pos = (tuple(c) for c in diverging_rgb(np.array([-1.0, 0.0, 1.0])))
    assert (rgb8(DIVERGING[0]), rgb8(DIVERGING[1]), rgb8(DIVERGING[2])) == (neg, mid, pos)
    assert worst(neg, pos) >= 2 * MIN_DELTA_E
    assert worst(neg, mid) >= MIN_DELTA_E and worst(pos, mid) >= MIN_DELTA_E
    assert np.isnan(ramp_rgb(np.array([np.nan])).astype(float)).sum() == 0


def test_every_grade_has_a_colour_in_the_grades_order():
    assert tuple(GRADE_COLOURS) == GRADES
    codes = np.array([np.nan, *range(len(GRADES))])
    assert [tuple(c) for c in grade_rgb(codes)] == [rgb8(WHITE), *map(rgb8, GRADE_COLOURS.values())]


def test_grade_colours_are_apart_for_every_viewer():
    pairs = list(itertools.combinations(GRADE_COLOURS.items(), 2))
    close = [(a, b, round(worst(ca, cb), 1)) for (a, ca), (b, cb) in pairs
             if worst(ca, cb) < MIN_DELTA_E]
    assert not close


def test_grade_colours_do_not_collide_with_the_map_under_a_layer_or_the_other_layers():
    ramp = [tuple(c) for c in ramp_rgb(np.linspace(0, 1, 21))]
    difference = [tuple(c) for c in diverging_rgb(np.linspace(-1, 1, 21))]
    vacant_outline = (128, 128, 128)
    others = [*UNDER_LAYER.values(), BLACK, WHITE, vacant_outline, *ramp, *difference]
    close = [(name, other, round(worst(colour, other), 1))
             for name, colour in GRADE_COLOURS.items() for other in others
             if worst(colour, other) < MIN_DELTA_E]
    assert not close


def lab_grid(rgb: np.ndarray, vision: str) -> np.ndarray:
    """:func:`lab` of many 0..255 colours at once ((n, 3) -> (n, 3))."""
    c = rgb.astype(float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    linear = np.clip(linear @ VISION[vision].T, 0, 1)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                             [0.0193, 0.1192, 0.9505]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                     200 * (f[:, 1] - f[:, 2])], axis=1)


def test_four_grade_colours_could_not_also_keep_apart_from_every_category():
    # why the grade map draws shops as outlines only (tests/test_viz_grades.py): of all sRGB
    # colours in steps of 15, those MIN_DELTA_E from every category colour and every colour
    # of the map under a layer, for every viewer, are never MIN_DELTA_E from each other
    steps = np.arange(0, 256, 15)
    grid = np.array(list(itertools.product(steps, steps, steps)))
    others = np.array([rgb8(c) for c in [*CATEGORY_COLOURS.values(), *UNDER_LAYER.values(),
                                         BLACK, WHITE]]
                      + [tuple(c) for c in ramp_rgb(np.linspace(0, 1, 21))])
    assert np.allclose(lab_grid(np.array([rgb8("#5500ff")]), "protanopia"),
                       lab("#5500ff", "protanopia"))
    far = np.ones(len(grid), dtype=bool)
    for v in VISION:
        g, o = lab_grid(grid, v), lab_grid(others, v)
        far &= np.linalg.norm(g[:, None] - o[None], axis=-1).min(axis=1) >= MIN_DELTA_E
    apart = [(tuple(a), tuple(b)) for a, b in itertools.combinations(grid[far], 2)
             if worst(tuple(a), tuple(b)) >= MIN_DELTA_E]
    assert not apart


def test_grade_colours_read_in_order_by_lightness_alone():
    for v in VISION:
        lightness = [lab(GRADE_COLOURS[g], v)[0] for g in GRADES]
        assert all(b > a + 5 for a, b in itertools.pairwise(lightness)), v  # lighter = better


@pytest.mark.parametrize("vision", list(VISION))
def test_the_simulation_is_sane(vision):
    assert np.allclose(lab(WHITE, vision), [100, 0, 0], atol=1.0)
    assert np.allclose(lab(BLACK, vision), [0, 0, 0], atol=1e-6)

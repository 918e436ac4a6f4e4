"""Draws split into chunks on several threads equal one serial draw, and leave the stream where it
would: the values, the stream's state afterwards and what it draws next, in either precision.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import model.needs as needs_module
from model.draws import generator_at, streams_at
from model.needs import draw_needs
from model.threads import chunk_bounds, run_tasks


def _stream(seed: int, buffered: bool) -> np.random.Generator:
    g = np.random.default_rng(seed)
    if buffered:  # one float32 drawn: the high half of a 64-bit output waits in the buffer
        g.random(dtype=np.float32)
        assert g.bit_generator.state["has_uint32"] == 1
    return g


def _split_draw(g: np.random.Generator, shape: tuple[int, ...], dtype, n_chunks: int,
                threads: int) -> np.ndarray:
    """Draw ``shape`` in ``n_chunks`` chunks of rows from ``streams_at`` copies, on threads."""
    out = np.empty(shape, dtype=dtype)
    per_row = out.size // shape[0]
    bounds = chunk_bounds(shape[0], n_chunks)
    starts = streams_at(g, [b * per_row for b in bounds[:-1]], dtype)
    run_tasks(len(bounds) - 1,
              lambda c: starts[c].random(dtype=dtype, out=out[bounds[c]:bounds[c + 1]]), threads)
    g.bit_generator.state = starts[-1].bit_generator.state
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("buffered", [False, True])
@pytest.mark.parametrize("shape", [(1,), (7, 3), (1001, 13), (40_001, 13), (250_001, 2)])
@pytest.mark.parametrize(("n_chunks", "threads"), [(1, 1), (2, 2), (3, 2), (8, 3)])
def test_chunks_drawn_from_copies_equal_one_serial_draw(dtype, buffered, shape, n_chunks,
                                                         threads):
    serial = _stream(3, buffered)
    expected = serial.random(shape, dtype=dtype)
    split = _stream(3, buffered)
    got = _split_draw(split, shape, dtype, n_chunks, threads)
    assert np.array_equal(got, expected)
    assert split.bit_generator.state == serial.bit_generator.state
    # and the stream goes on as the serial one does, in either precision
    assert np.array_equal(split.random(5, dtype=np.float32), serial.random(5, dtype=np.float32))
    assert np.array_equal(split.random(5), serial.random(5))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("buffered", [False, True])
def test_a_copy_at_an_offset_draws_what_the_stream_draws_after_that_offset(dtype, buffered):
    for offset in (0, 1, 2, 3, 5, 10, 1001):
        g = _stream(9, buffered)
        before = g.bit_generator.state
        ahead = generator_at(g, offset, dtype)
        assert g.bit_generator.state == before  # the original is not touched
        later = g.random(offset + 4, dtype=dtype)[offset:]
        assert np.array_equal(ahead.random(4, dtype=dtype), later), offset


def test_the_first_chunk_must_start_at_the_stream():
    with pytest.raises(ValueError, match="offset 0"):
        streams_at(np.random.default_rng(1), [5, 10], np.float64)


def _serial_needs(needs_seed: int, choices_seed: int, freq, group, idx):
    """The rule drawn in one go: needs where u < freq, then two uniforms per need."""
    needs_stream, choices_stream = _stream(needs_seed, True), _stream(choices_seed, False)
    u = needs_stream.random((len(idx), freq.shape[1]), dtype=np.float32)
    rows, cats = np.nonzero(u < freq[group[idx]].astype(np.float32))
    uniforms = choices_stream.random((len(rows), 2))
    return (idx[rows], cats, uniforms, needs_stream.bit_generator.state,
            choices_stream.bit_generator.state)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n_present", [0, 1, 3_001, 40_001])
@pytest.mark.parametrize("k", [13, needs_module.MASK_BITS + 6])
def test_needs_and_their_uniforms_drawn_in_chunks_are_the_serial_rule(threads, n_present, k,
                                                                     monkeypatch):
    """A resident of group g needs category k when its float32 uniform is below freq[g, k];
    each need then takes two uniforms. Drawn in chunks on threads, needs, uniforms and both
    streams' states are those of one serial draw (also with more categories than a row's
    bit mask holds)."""
    monkeypatch.setattr(needs_module, "PARALLEL_MIN_DRAWS", 0)  # split even the small ones
    rng = np.random.default_rng(2)
    n_res = 60_000
    group = rng.integers(0, 4, n_res).astype(np.int8)
    freq = rng.random((4, k)) * 0.4
    idx = np.sort(rng.choice(n_res, n_present, replace=False)).astype(np.int64)
    res, cats, uniforms, needs_state, choices_state = _serial_needs(5, 6, freq, group, idx)
    saved = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        needs_stream, choices_stream = _stream(5, True), _stream(6, False)
        need_res, need_cat, got_uniforms = draw_needs(needs_stream, choices_stream, freq, group,
                                                      idx)
    finally:
        numba.set_num_threads(saved)
    assert np.array_equal(need_res, res) and np.array_equal(need_cat, cats)
    assert np.array_equal(got_uniforms, uniforms) and got_uniforms.shape == (len(res), 2)
    assert need_res.dtype == np.int64 and need_cat.dtype == np.int16
    assert needs_stream.bit_generator.state == needs_state
    assert choices_stream.bit_generator.state == choices_state
    if n_present > 1_000:
        assert 0 < len(need_res) < n_present * k
        assert set(np.unique(need_cat)) == set(range(k))  # every category, high bits too


def test_a_model_day_is_the_same_on_one_thread_and_on_two(monkeypatch):
    """The whole model on two threads (needs drawn in chunks, choices, satisfaction and metrics
    in parallel) and on one (everything serial): identical metrics every day and identical
    streams afterwards."""
    from model import CommerceModel
    from model.threads import PARALLEL_MIN_ITEMS

    def run(threads: int) -> tuple[list[dict[str, float]], dict]:
        saved = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            m = CommerceModel(rng=4, communities_x=5, communities_y=5)
            days = []
            for _ in range(35):  # through a month's market entry
                m.step()
                days.append(m.metrics())
            # big enough for every parallel path (so that this compares them with serial)
            assert len(m.present_idx) >= PARALLEL_MIN_ITEMS
            assert len(m.today.need_res) >= PARALLEL_MIN_ITEMS
            assert len(m.present_idx) * m.categories.k >= needs_module.PARALLEL_MIN_DRAWS
        finally:
            numba.set_num_threads(saved)
        return days, {name: g.bit_generator.state for name, g in m.streams.items()}

    two_days, two_streams = run(2)
    one_days, one_streams = run(1)
    assert two_streams == one_streams
    for a, b in zip(two_days, one_days, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            assert a[name] == b[name] or (np.isnan(a[name]) and np.isnan(b[name])), name

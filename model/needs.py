"""The day's needs: which residents need which category today, and each need's two uniforms.

A resident of group g needs category k today when its uniform ``u[k]`` is below the
group's daily frequency ``freq[g, k]`` (``categories.toml``; ODD 7.3). The ``u`` are float32
draws from the ``needs`` stream, one row per present resident, in resident order. Each need
then takes two float64 uniforms from the ``choices`` stream, in need order: its choice draw
and its place in today's queue (``model.choice``).

Both are drawn on several threads in chunks of residents (``model.draws``): every chunk draws
its rows (with up to ``MASK_BITS`` categories block by block, so that the uniforms are read
while in cache), counts its needs and keeps each row's needs as a bit mask; once the counts give each
chunk its first need, every chunk writes its needs (one write per need, from the masks) and
draws their uniforms. Needs, uniforms and the two streams' states are
those of the serial draws, bit for bit (``tests/test_draws.py``).
"""

from __future__ import annotations

import itertools

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from .draws import PARALLEL_MIN_DRAWS, can_split, streams_at
from .threads import chunk_bounds, run_tasks, thread_count

MASK_BITS = 64  # categories a row's bit mask of needs holds (more: rows are scanned again)
BLOCK_DRAWS = 65_536  # float32 uniforms drawn at a time (256 kB, which stay in cache)


@numba.njit(cache=True, nogil=True)
def _count_needs(u, freq, group, idx, masks):  # pragma: no cover - compiled
    """Needs among the rows ``u`` of residents ``idx``; each row's needs as a bit mask.

    The comparisons are branch-free; ``masks[i]`` has bit k set where row i needs category k
    (left unset with more than ``MASK_BITS`` categories).
    """
    K = u.shape[1]
    count = 0
    for i in range(u.shape[0]):
        g = group[idx[i]]
        mask = np.uint64(0)
        for k in range(K):
            is_need = u[i, k] < freq[g, k]
            count += is_need
            if K <= MASK_BITS:
                mask |= np.uint64(is_need) << np.uint64(k)
        masks[i] = mask
    return count


@numba.njit(cache=True, nogil=True)
def _write_needs(u, freq, group, idx, masks, K, need_res, need_cat,
                 first):  # pragma: no cover - compiled
    """Write the needs of the rows of ``masks`` in order, from place ``first`` on.

    One write per need, from the masks; the uniforms ``u`` are read only with more than
    ``MASK_BITS`` categories.
    """
    c = first
    for i in range(masks.shape[0]):
        r = idx[i]
        if K <= MASK_BITS:
            mask = masks[i]
            while mask:
                need_res[c] = r
                need_cat[c] = trailing_zeros(mask)
                c += 1
                mask &= mask - np.uint64(1)
        else:
            g = group[r]
            for k in range(K):
                if u[i, k] < freq[g, k]:
                    need_res[c] = r
                    need_cat[c] = k
                    c += 1


def draw_needs(needs_stream: np.random.Generator, choices_stream: np.random.Generator,
               freq: np.ndarray, group: np.ndarray,
               idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw today's needs of the present residents ``idx`` and their choice uniforms.

    Args:
        needs_stream: the ``needs`` stream; it draws ``(len(idx), categories)`` float32.
        choices_stream: the ``choices`` stream; it draws ``(needs, 2)`` float64.
        freq: (groups, categories) daily frequencies.
        group: group of every resident.
        idx: present residents, in order.

    Returns:
        ``(need_res, need_cat, uniforms)``: resident and category of each need (residents in
        the order of ``idx``, categories in order within a resident) and its two uniforms.
    """
    freq32 = np.ascontiguousarray(freq, dtype=np.float32)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    n, k = len(idx), freq32.shape[1]
    # with up to MASK_BITS categories the uniforms are drawn block by block into a buffer that
    # stays in cache (the masks keep what writing the needs takes); otherwise all are kept
    keep_all = k > MASK_BITS
    u = np.empty((n if keep_all else 0, k), dtype=np.float32)
    masks = np.empty(n, dtype=np.uint64)
    parallel = (thread_count() > 1 and n * k >= PARALLEL_MIN_DRAWS
                and can_split(needs_stream, np.float32) and can_split(choices_stream, np.float64))
    bounds = chunk_bounds(n, thread_count() if parallel else 1)
    chunks = list(itertools.pairwise(bounds))
    rows = streams_at(needs_stream, [lo * k for lo, _ in chunks], np.float32)
    counts = [0] * len(chunks)

    def draw_and_count(c: int) -> None:
        lo, hi = chunks[c]
        if keep_all:
            rows[c].random(dtype=np.float32, out=u[lo:hi])
            counts[c] = _count_needs(u[lo:hi], freq32, group, idx[lo:hi], masks[lo:hi])
            return
        step = max(1, BLOCK_DRAWS // max(k, 1))
        block = np.empty((min(step, hi - lo), k), dtype=np.float32)
        for a in range(lo, hi, step):  # consecutive draws from one stream: as one draw
            b = min(a + step, hi)
            rows[c].random(dtype=np.float32, out=block[:b - a])
            counts[c] += _count_needs(block[:b - a], freq32, group, idx[a:b], masks[a:b])

    run_tasks(len(chunks), draw_and_count, None if parallel else 1)
    needs_stream.bit_generator.state = rows[-1].bit_generator.state
    first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64).tolist()
    total = first[-1]
    need_res = np.empty(total, dtype=np.int64)
    need_cat = np.empty(total, dtype=np.int16)
    uniforms = np.empty((total, 2))
    queue = streams_at(choices_stream, [2 * f for f in first[:-1]], np.float64)

    def write_and_draw(c: int) -> None:
        lo, hi = chunks[c]
        _write_needs(u[lo:hi], freq32, group, idx[lo:hi], masks[lo:hi], k, need_res, need_cat,
                     first[c])
        queue[c].random(out=uniforms[first[c]:first[c + 1]])

    run_tasks(len(chunks), write_and_draw, None if parallel else 1)
    choices_stream.bit_generator.state = queue[-1].bit_generator.state
    return need_res, need_cat, uniforms

"""Uniform draws from a random stream in chunks on several threads, identical to one draw.

The model's streams are numpy Generators on PCG64 bit generators (``CommerceModel.streams``).
PCG64 can jump ahead (``advance``): a copy of the stream moved on by the number of 64-bit
outputs the draws before a chunk consume produces exactly that chunk's draws. So each chunk
of a large array of uniforms is drawn from its own copy (``streams_at``), in parallel (numpy
releases the GIL while it fills an array), and the stream is then set to the state one serial
draw would have left. Values and the stream's state afterwards are bit-for-bit those of
``generator.random(shape, dtype)``, whatever the chunks (``tests/test_draws.py``); the day's
needs and their uniforms are drawn so (``model.needs``).

How many outputs a draw consumes: a float64 takes one 64-bit output; a float32 takes 32 bits,
and PCG64 hands out the two halves of one 64-bit output in turn (low half first), keeping the
unused high half buffered (``has_uint32``). Other bit generators are drawn serially.
"""

from __future__ import annotations

import numpy as np

PARALLEL_MIN_DRAWS = 200_000  # below this, one serial draw (copies and threads cost more)
_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def can_split(generator: np.random.Generator, dtype: np.dtype) -> bool:
    """Whether ``generator``'s draws of ``dtype`` can be split by jumping ahead (PCG64)."""
    return isinstance(generator.bit_generator, np.random.PCG64) and np.dtype(dtype) in _DTYPES


def generator_at(generator: np.random.Generator, offset: int,
                 dtype: np.dtype = np.float64) -> np.random.Generator:
    """A copy of a PCG64 ``generator`` moved on by ``offset`` draws of ``dtype``.

    Its next draws of ``dtype`` are the ones the original would make after ``offset`` draws
    of ``dtype``; the original is not touched.

    Args:
        generator: a Generator on a PCG64 bit generator (``can_split``).
        offset: draws of ``dtype`` to skip (>= 0).
        dtype: float64 or float32.
    """
    state = generator.bit_generator.state
    bit_gen = np.random.PCG64()
    bit_gen.state = state
    if np.dtype(dtype) == np.float64:
        if offset:
            bit_gen.advance(offset)  # resets the buffered half, which float64 draws never use
            kept = bit_gen.state
            kept["has_uint32"], kept["uinteger"] = state["has_uint32"], state["uinteger"]
            bit_gen.state = kept
        return np.random.Generator(bit_gen)
    if offset == 0:
        return np.random.Generator(bit_gen)
    # a buffered high half is the next float32: the rest start at the next 64-bit output
    halves = offset - int(state["has_uint32"])  # 32-bit halves to skip from that output on
    fresh = bit_gen.state
    fresh["has_uint32"] = 0  # the buffer is used up (its stale value stays, as in a serial draw)
    bit_gen.state = fresh
    moved = np.random.Generator(bit_gen)
    if halves:
        # jump whole outputs, then draw the last one or two halves so that the buffer fields
        # end exactly as a serial draw leaves them
        if (halves - 1) // 2:
            bit_gen.advance((halves - 1) // 2)
        moved.random(halves - 2 * ((halves - 1) // 2), dtype=np.float32)
    return moved


def streams_at(generator: np.random.Generator, offsets: list[int],
               dtype: np.dtype) -> list[np.random.Generator]:
    """One generator per chunk of draws, each at its chunk's first draw (``offsets``, ascending).

    The first is the stream itself (its first offset must be 0), the others copies moved on
    (``generator_at``), all made before any is drawn from. Once every chunk is drawn, the
    last one stands where one serial draw would have left the stream: set the stream to it
    (``generator.bit_generator.state = last.bit_generator.state``).
    """
    if offsets and offsets[0] != 0:
        raise ValueError("the first chunk must start at offset 0")
    return [generator] + [generator_at(generator, off, dtype) for off in offsets[1:]]

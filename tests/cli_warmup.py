"""Imported once by the forkserver of ``tests.cli_child``: one day of a tiny city, so that every
child forked from it starts with the model's compiled kernels loaded."""

from model import CommerceModel

CommerceModel(rng=0, communities_x=2, communities_y=2).step()

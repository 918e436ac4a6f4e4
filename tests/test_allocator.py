"""Freed memory stays for the next day: a model day does not fault its arrays back in.

Each check runs in a fresh interpreter, since the allocator is set once per process and its
behaviour depends on the process's history.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

FAULTS_PER_DAY = """
import resource
from model import CommerceModel
m = CommerceModel(rng=1, communities_x=20, communities_y=20)  # ~510,000 residents
for _ in range(5):
    m.step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    m.step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _python(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=600, check=True)
    return out.stdout.strip()


@glibc_only
def test_the_allocator_is_set_once_and_can_be_left_alone():
    code = ("from model.allocator import keep_freed_memory as k\n"
            "print(k(), k())")
    assert _python(code) == "True True"
    assert _python(code, LIFECIRCLE_SYSTEM_MALLOC="1") == "False False"


@glibc_only
def test_a_day_at_half_a_million_residents_does_not_fault_its_memory_back_in():
    """Left to glibc's defaults (``LIFECIRCLE_SYSTEM_MALLOC=1``), days at this size took
    ~3,800 minor page faults each (~15 MB handed back to the system and faulted in again
    every day); with the allocator set, ~25."""
    assert float(_python(FAULTS_PER_DAY)) < 500

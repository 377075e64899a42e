"""Loaded state leaves the garbage collector's full passes, and a model swap lets the
replaced state's reference cycles go (``service/heap_freeze.py``). Each case runs in a
fresh interpreter: freezing the test process's own heap would keep its garbage alive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import gc, weakref
from service.heap_freeze import freeze_loaded_state

class Model:
    def __init__(self):
        self.me = self  # a reference cycle, as loaded models have

freeze_loaded_state(refreeze=True)  # nothing frozen yet: a swap in a test process
assert gc.get_freeze_count() == 0, gc.get_freeze_count()

old = Model()
gone = weakref.ref(old)
freeze_loaded_state()  # the serving process, once loaded
assert gc.get_freeze_count() > 0

del old  # swapped out: only its cycle keeps it
gc.collect()
assert gone() is not None, "frozen objects are not collected"
freeze_loaded_state(refreeze=True)  # what a model swap does
assert gone() is None, "the swap's collection should free the replaced model"
assert gc.get_freeze_count() > 0
print("ok")
"""


def test_freeze_skips_loaded_objects_and_a_swap_frees_the_replaced_ones() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

"""Keep the loaded models out of Python's cyclic garbage collector.

A full (oldest-generation) collection walks every tracked object, and a loaded service
holds about 230,000 of them (models, lexicons, the knowledge base, the app): one such
collection took 120 ms here, with the GIL held, so every request in flight stalled behind
it. Under load the collector ran one every few seconds, and those stalls were the p99 of
``/v1/triage`` at 32 connections (README "Performance"). ``gc.freeze`` moves what exists
now into a permanent generation the collector skips; what requests allocate later is
collected as before.

Only a process that loaded its own resources freezes (``triage serve``; not a test that
hands the app resources it shares). Frozen objects are never collected as cycles, so a
model swap freezes again (``refreeze=True``: only where a freeze was done): unfreeze,
collect once, freeze what is alive. Models still in use by requests at that moment stay
frozen until the next swap, so at most one replaced set of models outlives its swap; the
pause is one per swap, not one every few seconds of traffic. A rebuilt knowledge base is
not refrozen: its old arrays and chunks hold no reference cycles and go by reference count.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

logger = logging.getLogger(__name__)

_lock = threading.Lock()


def freeze_loaded_state(*, refreeze: bool = False) -> None:
    """Collect once, then exempt every object alive now from later collections
    (``refreeze``: only if an earlier call froze anything)."""
    with _lock:
        if refreeze and not gc.get_freeze_count():
            return
        start = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        logger.info(
            "froze %s loaded objects out of the garbage collector (%.0f ms)",
            gc.get_freeze_count(),
            1000 * (time.perf_counter() - start),
        )

"""Random ids in the format of ``uuid.uuid4().hex``, without a system call per id.

``uuid4()`` reads its 16 bytes with ``os.urandom``, and CPython releases the GIL around that
system call. On the event loop, while the pipeline threads compute, taking the GIL back
cost about a millisecond per request id (README "Performance"), during which the loop
served nobody. Here the bytes come from ``os.urandom`` for 256 ids at once: the same kernel
source, so the ids are as unique and unpredictable as ``uuid4``'s.
"""

from __future__ import annotations

import os

#: Ids made per ``os.urandom`` call.
BATCH = 256

# uuid4's fixed bits (RFC 4122 version 4, variant 10), as ``uuid.UUID(version=4)`` sets them.
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)

_ready: list[str] = []
# A child process must not hand out its parent's ids.
os.register_at_fork(after_in_child=_ready.clear)


def _fresh_ids() -> list[str]:
    random = os.urandom(16 * BATCH)
    return [
        f"{int.from_bytes(random[i : i + 16], 'big') & _CLEAR | _SET:032x}"
        for i in range(0, len(random), 16)
    ]


def new_hex_id() -> str:
    """A new random id: 32 lowercase hex digits, a version-4 UUID's ``.hex``. Thread-safe
    (``list.pop`` is atomic; two threads refilling at once only make spare ids)."""
    while True:
        try:
            return _ready.pop()
        except IndexError:
            _ready.extend(_fresh_ids())

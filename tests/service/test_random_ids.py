"""Request ids from batched random bytes: the format of ``uuid4().hex``, unique, and never
shared with a forked child."""

from __future__ import annotations

import os
import uuid

from service.random_ids import BATCH, new_hex_id


def test_ids_are_version_4_uuids_in_hex() -> None:
    for _ in range(3 * BATCH):
        made = new_hex_id()
        parsed = uuid.UUID(made)
        assert parsed.hex == made and len(made) == 32
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_ids_do_not_repeat_across_batches() -> None:
    made = [new_hex_id() for _ in range(20 * BATCH)]
    assert len(set(made)) == len(made)


def test_a_forked_child_makes_ids_of_its_own() -> None:
    new_hex_id()  # the parent holds unused ids now
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, "".join(new_hex_id() for _ in range(BATCH)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        text = pipe.read().decode()
    os.waitpid(child, 0)
    childs = {text[i : i + 32] for i in range(0, len(text), 32)}
    parents = {new_hex_id() for _ in range(BATCH)}
    assert len(childs) == BATCH and not childs & parents

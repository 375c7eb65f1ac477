"""``db.uuid_positions``: the index of each loaded uuid among the run's ids, whether the ids
tell apart by their first 8 bytes (searched as integers) or only by all 16."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from daemon.db import uuid_positions


@pytest.mark.parametrize(
    "ids",
    [
        [str(uuid.UUID(int=i * 2**64 + 7)) for i in range(1, 300)],  # differ in the first 8 bytes
        [str(uuid.UUID(int=2**64 * 5 + i)) for i in range(300)],  # the same first 8 bytes
        [str(uuid.UUID(int=2**64 * (i % 3) + i)) for i in range(300)],  # some shared
        [],
    ],
    ids=["distinct_heads", "equal_heads", "some_shared_heads", "none"],
)
def test_each_value_gets_its_index(ids: list[str]) -> None:
    rng = np.random.default_rng(1)
    want = rng.integers(0, len(ids), 5000) if ids else np.zeros(0, dtype=np.int64)
    values = np.array([uuid.UUID(ids[i]).bytes for i in want.tolist()], dtype="S16")
    got = uuid_positions(values, ids)
    assert got.dtype == np.int32
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("slot_bits", [0, 2])
def test_keys_sharing_hash_slots_are_told_apart(monkeypatch: pytest.MonkeyPatch, slot_bits: int) -> None:
    """With a table barely larger than the keys, many keys share a slot: those values are
    found by the sorted search, the rest by the table, all at their own index."""
    import daemon.db

    monkeypatch.setattr(daemon.db, "_SLOTS_PER_KEY_BITS", slot_bits)
    rng = np.random.default_rng(2)
    ids = [str(uuid.UUID(bytes=rng.bytes(16))) for _ in range(1000)]
    want = rng.integers(0, len(ids), 20000)
    values = np.array([uuid.UUID(ids[i]).bytes for i in want.tolist()], dtype="S16")
    got = uuid_positions(values, ids)
    assert got.dtype == np.int32
    assert got.tolist() == want.tolist()

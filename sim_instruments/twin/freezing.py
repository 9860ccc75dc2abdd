"""A twin's arrays are read-only between the steps that write them (decision 0084).

A snapshot of a twin (`snapshot.Snapshots`) freezes each array it took, with the array whose
memory it is: an array that is still the same one, its memory still read-only, has the bytes it
had then, so the next snapshot keeps its part without comparing them. A step that writes an
array of a twin in place thaws it first (`thaw`), which tells the next snapshot to compare its
bytes. A write to a frozen array raises (ValueError: assignment destination is read-only), so a
forgotten thaw is an error, never a change the snapshot misses, but for one case: a view of a
twin's array made before a snapshot stays writable, so a write through it without a thaw (of it
or of the array) is not seen; no tool keeps a view of a twin's array from one step to the next.

Whether an array is frozen is its memory's flag, but which arrays a snapshot froze is known to
the one `Snapshots` that took it, for the one workpiece: an array frozen again by another
taker after a thawed write (a second `Snapshots` of the same workpiece, or one array held by
two workpieces) looks untouched to the first, which then keeps its part from before the write.
So a workpiece has one `Snapshots` taking it (the run's recorder's), and no two workpieces
hold the same array or views of the same memory (each part is made, copied or received whole
for its own workpiece).
"""

from __future__ import annotations

import numpy as np


def memory_owner(array: np.ndarray) -> np.ndarray | None:
    """The array whose memory `array` is: itself, or the array it is a view of; None when it is
    a view of memory no array holds (a buffer's)."""
    owner = array
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    return owner if owner.base is None else None


def freeze(array: np.ndarray) -> np.ndarray | None:
    """Make `array` and the array whose memory it is read-only; that array (None, and nothing
    frozen, when it is a view of memory no array holds)."""
    owner = memory_owner(array)
    if owner is not None:
        owner.flags.writeable = False
        array.flags.writeable = False
    return owner


def thaw(*arrays: np.ndarray) -> None:
    """Let a step write `arrays` (a twin's) in place: each one is made writable, with the array
    whose memory it is (also for a view that was writable still), so the next snapshot compares
    its bytes."""
    for array in arrays:
        owner = memory_owner(array)
        if owner is not None:
            owner.flags.writeable = True
        array.flags.writeable = True

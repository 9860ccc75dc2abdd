"""Test helpers: scripted byte-level peers on the wire, and simulated tools with their drivers."""

from .expected_protocol import ScriptedPeer, expected_protocol
from .rig import (
    Rig,
    connect_driver,
    count_looks,
    counting_loop_passes,
    force_limits,
    open_rig,
    run_until,
)

__all__ = [
    "Rig",
    "ScriptedPeer",
    "connect_driver",
    "count_looks",
    "counting_loop_passes",
    "expected_protocol",
    "force_limits",
    "open_rig",
    "run_until",
]

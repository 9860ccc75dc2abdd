"""Test helpers for drivers and links: scripted byte-level peers on the wire."""

from .expected_protocol import ScriptedPeer, expected_protocol

__all__ = ["ScriptedPeer", "expected_protocol"]

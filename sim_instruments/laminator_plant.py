"""The simulated laminator's plant: its platen's temperature and its chamber's pressure.

Each is a closed-form curve from the moment of its last change under one drive, so the tool
(`sim_instruments/laminator.py`) can both read it at any time and compute when it reaches a
level: the event that ends the present phase. The constants are `LaminatorPhysics`
(`sim_instruments/physics/laminator.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from packline.drivers.roles.clean_room import AMBIENT_C

from .physics.laminator import LaminatorPhysics

ATMOSPHERE_PA = 101_325.0

#: How the platen is driven: left to cool, cooled by forced air, heated to its setpoint, or
#: heating without control (the over-temperature fault).
Drive = Literal["off", "forced", "heat", "runaway"]
ChamberDrive = Literal["vented", "pumping", "held", "venting"]


@dataclass(frozen=True)
class Platen:
    """The platen temperature from `since_s` on, under one drive."""

    start_c: float
    since_s: float
    drive: Drive
    setpoint_c: float
    physics: LaminatorPhysics

    def _time_constant_s(self) -> float:
        if self.drive == "forced":
            return self.physics.forced_cooling_time_constant_s
        return self.physics.natural_cooling_time_constant_s

    def at(self, time_s: float) -> float:
        elapsed = max(time_s - self.since_s, 0.0)
        rate = self.physics.heat_rate_c_per_s
        if self.drive == "runaway":
            return self.start_c + rate * elapsed
        if self.drive == "heat":
            if self.start_c > self.setpoint_c:  # the controller holds the heater off
                return max(self._cooled_c(elapsed), self.setpoint_c)
            return min(self.start_c + rate * elapsed, self.setpoint_c)
        return self._cooled_c(elapsed)

    def _cooled_c(self, elapsed_s: float) -> float:
        """The platen left to cool (or cooled by forced air) for `elapsed_s` from its start."""
        return AMBIENT_C + (self.start_c - AMBIENT_C) * math.exp(
            -elapsed_s / self._time_constant_s()
        )

    def rises_to_s(self, level_c: float) -> float:
        """When a heating platen reaches `level_c` (inf if it never does)."""
        if self.start_c >= level_c:
            return self.since_s
        if self.drive == "runaway" or (self.drive == "heat" and level_c <= self.setpoint_c):
            return self.since_s + (level_c - self.start_c) / self.physics.heat_rate_c_per_s
        return math.inf

    def falls_to_s(self, level_c: float) -> float:
        """When a cooling platen reaches `level_c` (inf if it never does)."""
        if self.start_c <= level_c:
            return self.since_s
        if level_c <= AMBIENT_C:
            return math.inf
        ratio = (self.start_c - AMBIENT_C) / (level_c - AMBIENT_C)
        return self.since_s + self._time_constant_s() * math.log(ratio)


@dataclass(frozen=True)
class Chamber:
    """The chamber pressure from `since_s` on: vented, pumping to a floor, held, or venting."""

    start_pa: float
    since_s: float
    drive: ChamberDrive
    target_pa: float  # the floor when pumping, the held value when held
    physics: LaminatorPhysics

    def at(self, time_s: float) -> float:
        elapsed = max(time_s - self.since_s, 0.0)
        if self.drive == "pumping":
            decay = math.exp(-elapsed / self.physics.pump_time_constant_s)
            return self.target_pa + (self.start_pa - self.target_pa) * decay
        if self.drive == "held":
            return self.target_pa
        if self.drive == "venting":
            fraction = min(elapsed / self.physics.vent_time_s, 1.0)
            return self.start_pa + (ATMOSPHERE_PA - self.start_pa) * fraction
        return ATMOSPHERE_PA

    def pumped_to_s(self, level_pa: float) -> float:
        """When pumping reaches `level_pa` (inf if the floor is above it)."""
        if self.start_pa <= level_pa:
            return self.since_s
        if self.target_pa >= level_pa:
            return math.inf
        ratio = (self.start_pa - self.target_pa) / (level_pa - self.target_pa)
        return self.since_s + self.physics.pump_time_constant_s * math.log(ratio)

    @property
    def vented_at_s(self) -> float:
        return self.since_s + self.physics.vent_time_s

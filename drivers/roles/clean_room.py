"""The line's clean room: the one air every tool of the line stands in.

A tool's heated part (an oven's zones and load, a bonder's stage, a hotplate, a platen, a
bath) starts from the room and, with its heater off, cools towards it and never below (no tool
of the line has a chiller). So the room is the floor of every temperature a recipe can ask a
tool to reach by cooling, and the start of every heating ramp a driver allows time for.
"""

#: The line's room, degC: 22 degC, the set point a semiconductor clean room holds (air at
#: 22 +- 1 degC and 40-50 % relative humidity; the litho cell's exposure and its resists'
#: sensitivities are qualified at it, and a plating bath's heater starts from it). The line's
#: process data: the simulated tools start and cool to it, the drivers' ramp allowances start
#: from it, and validate refuses an oven segment below it (a 20 degC segment had been taken,
#: and the run waited on a load at the room until it timed out).
AMBIENT_C = 22.0


def reachable_c(set_c: float) -> float:
    """Where a part with a heater and no chiller settles when set to `set_c`, degC: its set
    point, or the room where the set point is below it (the heater off, the part at the
    room). A tool's range may reach below the room (a bath or a stage set to 20 degC is
    taken); what it then holds is the room."""
    return max(set_c, AMBIENT_C)

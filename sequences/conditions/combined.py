"""Conditions made of other conditions: all of several, every device whole, and every mounted
device whole."""

from __future__ import annotations

import numpy as np

from packline.sequences.engine import Condition
from packline.sequences.engine.claim_check import judged_at
from packline.sim_instruments.twin import Workpiece


def all_of(claim: str, text: str, first: Condition, *rest: Condition) -> Condition:
    """One condition that holds where every one of its parts holds (a product claim made of
    the method's steps, such as 002:9): each site is checked where any part checks it and
    passes where every part that checks it passes. The parts must check the same entries
    (sites, or the wafer as one)."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        checked, passing = (np.asarray(a, bool) for a in first.evaluate(w))
        passing = ~checked | passing
        for part in rest:
            part_checked, part_passing = (np.asarray(a, bool) for a in part.evaluate(w))
            checked = checked | part_checked
            passing = passing & (~part_checked | part_passing)
        return checked, passing

    return Condition(claim, text, evaluate, at=judged_at(claim, text, (first, *rest)))


def _failing_sites_by_unit(w: Workpiece, parts: tuple[Condition, ...]) -> tuple[bool, np.ndarray]:
    """Whether any of `parts` (site conditions) judges a site of `w`, and per die (unit) how
    many of its sites fail one."""
    bad = np.zeros(w.geometry.site_count, bool)
    judged = False
    for part in parts:
        checked, passing = (np.asarray(a, bool) for a in part.evaluate(w))
        bad |= checked & ~passing
        judged |= bool(checked.any())
    return judged, np.bincount(w.geometry.site_unit[bad], minlength=w.geometry.unit_count)


def every_device_whole(claim: str, *parts: Condition) -> Condition:
    """Per die (unit): every site of it passes every one of `parts` (site conditions), so the
    die is a device as the claim makes it (002:6); checked per unit, none where no part
    checks a site."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        judged, failing = _failing_sites_by_unit(w, parts)
        # no part judging a site leaves no die judged, not every die whole
        return np.full(failing.size, judged), failing == 0

    text = "every die a whole device (all its sites sound)"
    return Condition(claim, text, evaluate, at=judged_at(claim, text, parts))


def mounted_devices_whole(claim: str, device_claim: str, *parts: Condition) -> Condition:
    """Per die a die bonder picked off the wafer (mounted on its board, 002:7): a whole
    device as `device_claim` makes it (`every_device_whole` of `parts`), so the board carries
    the claim's devices, not merely joints. Checked on the picked dies only: a wafer none of
    whose dies was picked holds nothing to check."""

    def evaluate(w: Workpiece) -> tuple[np.ndarray, np.ndarray]:
        judged, failing = _failing_sites_by_unit(w, parts)
        picked = np.zeros(failing.size, bool)
        picked[w.singulation.picked] = judged
        return picked, failing == 0

    text = f"every device mounted on the board a whole device of {device_claim}"
    return Condition(
        claim,
        text,
        evaluate,
        at=judged_at(claim, text, parts),
        judges="die mounted on a board",
    )

"""How a figure is shown to people: to a few significant digits, and beside the limits it is
judged against to as many more as tell it from each (`figure_text`), and beside the margin
it stands from them to its decimals (`decimals_of`). Every reader of a value beside its limit
prints it so: `show` and `wafer`, the report, the claim check's margins, and a driver's refused
setpoint. It imports nothing heavy: `packline runs` and `methods` load it."""

from __future__ import annotations

from decimal import Decimal

#: The significant digits a measured figure is shown to (the records keep every digit): a
#: plating's 4.99998 um by charge reads 5 um, a reflow's 244.8 degC stays.
SHOWN_DIGITS = 4


#: The most significant digits a figure is given to tell it from a limit (a double's all).
MOST_DIGITS = 17


def figure_text(
    value: float, *limits: float | None, digits: int = SHOWN_DIGITS, decimals: int = 0
) -> str:
    """A measured `value` for people to read, to `digits` significant digits: "5", "244.8",
    "0.0524"; a whole number too long for them in full ("8352", "12346"), not as an
    exponent; a zero never signed ("-0"). Beside the `limits` it is judged against (None:
    no limit), to as many more as tell it from each it is not: a layer of 7.9996 um against
    its least 8 um reads "7.9996", never "8" (the one rule by which every reader prints a
    value, a margin's worst site, or a refused setpoint beside its limit). Beside a margin
    shown to `decimals` (`decimals_of`), to at least as many, so that the figures read
    together add up: 443.1185 nm, at least 450 nm, 6.88 nm short reads "443.12", where
    "443" had left the reader 7 nm."""
    value += 0.0
    bounds = [limit for limit in limits if limit is not None and limit != value]
    least = min(max(digits, _digits_to(value, decimals)), MOST_DIGITS)
    for shown in range(least, MOST_DIGITS + 1):
        text = _to_digits(value, shown)
        if all(_to_digits(limit, shown) != text for limit in bounds):
            return text
    return repr(value)


def limits_text(low: float | None, high: float | None, low_exclusive: object = None) -> str:
    """A measurement's limits as an interval, each to its shown digits: '[10, 15]', '[8, -]'
    for a least alone, '(220, -]' for a low limit the value had to pass, not reach (its
    records' `low_exclusive`, decision 0129; a record without it, as one to reach)."""
    bounds = ", ".join("-" if limit is None else figure_text(limit) for limit in (low, high))
    return f"{'(' if low_exclusive else '['}{bounds}]"


def steps_text(unit: str, *resolutions: float) -> str:
    """What a measurement's instrument could resolve, as its readers show it beside the value
    (its records' `resolution`, in `unit`): 'read in 0.5 um steps' of a grinder's gauge,
    which reads the package rounded down to its step, so that the reading's limit (the
    target plus the tolerance less that step, tape-substrate's grind) can be told; of values
    read to several, each ('read in 0.1 um and 0.5 um steps'); '' of none."""
    if not resolutions:
        return ""
    sizes = [f"{figure_text(step)} {unit}" for step in resolutions]
    listed = sizes[0] if len(sizes) == 1 else f"{', '.join(sizes[:-1])} and {sizes[-1]}"
    return f"read in {listed} steps"


def decimals_of(text: str) -> int:
    """How many decimals a figure's `text` (`figure_text`'s) is shown to: "6.88" 2, "443" 0,
    "1.2e-05" 6."""
    exponent = Decimal(text).as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def _digits_to(value: float, decimals: int) -> int:
    """The significant digits that show `value` to `decimals` (at least one)."""
    if value == 0 or decimals <= 0:
        return 1
    return int(f"{value:e}".split("e")[1]) + 1 + decimals


def _to_digits(value: float, digits: int) -> str:
    """`value` to `digits` significant digits, a whole number in full (`figure_text`)."""
    text = f"{value:.{digits}g}"
    return f"{value:.0f}" if "e+" in text else text

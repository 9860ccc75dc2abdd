"""What a refused name may have meant: the choices spelt closest to it.

Every refusal of a name the user typed (a recipe's key, a `--fault` tool, fault or step, a
served line's tool or fault, a station file's key, driver, link option or setpoint, a run's
tool to clear, a method or its reference recipe) ends with the same `(did you mean ...?)`,
stated here once. It offers only what the word is close to: a slip of the keys away from it,
else the start of it or of one of its words (`saw`: `dicing_saw`), else spelt much like it; a
choice that merely shares some of its letters (`plasma_claner`'s l, a, s, e, r spell `laser`)
is none.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: The most choices a refusal offers.
OFFERED = 3
#: How close a choice must be spelt to a word (difflib's ratio) to be offered for it when no
#: slip of the keys and no start of it makes the word (`peel_temperature_c` ->
#: `temperature_c`, `peel_below_c`).
SPELT_ALIKE = 0.5
#: A slip of the keys (a key left out, one too many, one wrong, two swapped) in every this many
#: characters of a word, and one in a shorter word, is a misspelling of a choice.
CHARACTERS_PER_SLIP = 4
#: What separates the words of a choice (`dicing_saw`, `plasma clean`, `forming-gas`, `CF4/O2`).
WORD_BREAK = re.compile(r"[_\-/ ]")


def spelt_closest(word: str, choices: Iterable[str], *, short_slips: bool = True) -> list[str]:
    """The (at most three) `choices` closest to `word`, closest first, whatever their case: a
    slip of the case alone gives that one (`RF_MISMATCH` -> `rf_mismatch`); else those the
    fewest slips of the keys away from it, if a slip every `CHARACTERS_PER_SLIP` characters
    makes it (`plasma_claner` -> `plasma_cleaner`, not also `laser`); else, for a word too
    short to be a slip of anything, the choices it begins (`n2` -> `n2_supply`), else those
    one of whose words it begins (`saw` -> `dicing_saw`: the words between `_`, `-`, `/` or a
    space); else those spelt most like it (`SPELT_ALIKE`). Without `short_slips` (a choice of
    symbols: gases, metals), a word shorter than `CHARACTERS_PER_SLIP` is offered only the
    choice it is in another case: `N2` is one key from `O2`, but another gas."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    folded = word.casefold()
    if not folded:
        return []
    if folded in by_folded:  # a slip of case alone: that one
        return [by_folded[folded]]
    if not short_slips and len(folded) < CHARACTERS_PER_SLIP:
        return []
    slips = {choice: _slips(folded, choice) for choice in by_folded}
    fewest = min(slips.values(), default=0)
    if fewest <= max(1, len(folded) // CHARACTERS_PER_SLIP):
        closest = [choice for choice, count in slips.items() if count == fewest][:OFFERED]
    else:
        closest = [choice for choice in by_folded if choice.startswith(folded)][:OFFERED]
        if not closest:
            closest = [
                choice
                for choice in by_folded
                if any(each.startswith(folded) for each in WORD_BREAK.split(choice))
            ][:OFFERED]
    if not closest:
        closest = difflib.get_close_matches(folded, list(by_folded), OFFERED, SPELT_ALIKE)
    return [by_folded[choice] for choice in closest]


def _slips(word: str, choice: str) -> int:
    """How many slips of the keys make `word` of `choice`: keys left out, added or mistyped,
    and two neighbours swapped (the optimal string alignment distance)."""
    before: list[int] = []
    previous = list(range(len(choice) + 1))
    for i, typed in enumerate(word, 1):
        row = [i]
        for j, meant in enumerate(choice, 1):
            count = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (typed != meant))
            if i > 1 and j > 1 and typed == choice[j - 2] and word[i - 2] == meant:
                count = min(count, before[j - 2] + 1)  # two neighbours swapped
            row.append(count)
        before, previous = previous, row
    return previous[-1]


def did_you_mean(word: str, choices: Iterable[str], *, short_slips: bool = True) -> str:
    """What a refusal of `word` ends with: ` (did you mean 'a' or 'b'?)`, naming the `choices`
    closest to it (`spelt_closest`, `short_slips` as there); nothing when none is close."""
    closest = spelt_closest(word, choices, short_slips=short_slips)
    return f" (did you mean {' or '.join(map(repr, closest))}?)" if closest else ""


def not_a_field(key: str, whose: str, fields: Iterable[str]) -> str:
    """Why a file's `key` is refused where `whose` (a station, a lot file) has no field of that
    name: the fields it may mean (`did_you_mean`) and every field there is, so a slip is
    corrected without opening the documentation."""
    fields = list(fields)
    return f"not a field of {whose}{did_you_mean(key, fields)}; its fields: {', '.join(fields)}"

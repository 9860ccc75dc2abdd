"""What a refused name may have meant: the choices spelt closest to it.

Every refusal of a name the user typed (a recipe's key, a `--fault` tool, fault or step, a
served line's tool or fault) ends with the same `(did you mean ...?)`, stated here once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def spelt_closest(word: str, choices: Iterable[str]) -> list[str]:
    """The (at most three) `choices` spelt closest to `word`, closest first, whatever their
    case: what a slip of the keys may have meant (`plasma clen` -> `plasma clean`,
    `RF_MISMATCH` -> `rf_mismatch`), or else, for a word too short to be spelt close to
    anything, the choices it begins (`n2` -> `n2_supply`)."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    folded = word.casefold()
    if folded in by_folded:  # a slip of case alone: that one
        return [by_folded[folded]]
    closest = difflib.get_close_matches(folded, list(by_folded), 3, 0.5)
    if not closest and folded:
        closest = [choice for choice in by_folded if choice.startswith(folded)][:3]
    return [by_folded[choice] for choice in closest]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """What a refusal of `word` ends with: ` (did you mean 'a' or 'b'?)`, naming the `choices`
    spelt closest to it; nothing when none is close."""
    closest = spelt_closest(word, choices)
    return f" (did you mean {' or '.join(map(repr, closest))}?)" if closest else ""

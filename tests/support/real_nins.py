"""Find 11-digit numbers that could be a real person's nin (what test data must never hold).

A number looks real when both fødselsnummer check digits hold and it carries a real day
and month (a D-number's day + 40 allowed), without the Tenor synthetic month + 80. The
same rule as the project's `find-real-nins.py`, kept here so the tests need nothing
outside the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["looks_real", "real_looking_nins"]

_ELEVEN = re.compile(r"(?<!\d)\d{11}(?!\d)")
_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _check_digits_ok(number: str) -> bool:
    digits = [int(c) for c in number]
    k1 = (11 - sum(w * d for w, d in zip(_W1, digits, strict=False))) % 11
    k2 = (11 - sum(w * d for w, d in zip(_W2, digits, strict=False))) % 11
    return k1 != 10 and k2 != 10 and k1 == digits[9] and k2 == digits[10]


def looks_real(number: str) -> bool:
    """Whether the 11 digits pass both check digits with a real day and month."""
    day, month = int(number[0:2]), int(number[2:4])
    if day > 40:  # a D-number
        day -= 40
    return 1 <= day <= 31 and 1 <= month <= 12 and _check_digits_ok(number)


def real_looking_nins(paths: Iterable[Path]) -> list[str]:
    """`path:line: first six digits` of every real-looking number in the files."""
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="ignore")
        for match in _ELEVEN.finditer(text):
            if looks_real(match.group()):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path}:{line}: {match.group()[:6]}*****")
    return found

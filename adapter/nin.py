"""Norwegian national identity numbers (nin): validation, birth date, masking.

A nin is an 11-digit fødselsnummer or D-number (day + 40) with two mod-11 check digits
and a real birth date; real numbers are checked with `stdnum.no.fodselsnummer`. Tenor
synthetic test numbers have month + 80 and are valid only where the caller allows them.
No function here ever puts the number itself into an error message.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.no import fodselsnummer

__all__ = [
    "MASK",
    "NIN_PATTERN",
    "birth_date",
    "is_synthetic",
    "looks_like_nin",
    "mask_nins",
    "validate_nin",
]

NIN_PATTERN = re.compile(r"(?<!\d)\d{6}[\s._-]?\d{5}(?!\d)")
"""Anything shaped like a nin: 11 digits, optionally split 6 + 5 by one separator (any
whitespace, `.`, `_` or `-`). The project's only nin-shaped pattern: the log redactor, the
doors, the archive's title screen, the rendered summary and the tests' log guard use it."""

MASK = "*" * 11

_INVALID = "not a valid national identity number"
_SYNTHETIC_MONTH_OFFSET = 80
_D_NUMBER_DAY_OFFSET = 40
_H_NUMBER_MONTH_OFFSET = 40


def _is_eleven_digits(value: str) -> bool:
    return len(value) == 11 and value.isascii() and value.isdigit()


def is_synthetic(nin: str) -> bool:
    """True when `nin` is shaped like a Tenor synthetic number (11 digits, month + 80)."""
    if not _is_eleven_digits(nin):
        return False
    return 1 <= int(nin[2:4]) - _SYNTHETIC_MONTH_OFFSET <= 12


def birth_date(nin: str) -> date:
    """The birth date in `nin`, for fødselsnummer, D-number and synthetic numbers alike.

    The century follows the individual digits as `stdnum` does. ValueError (without the
    number) when the digits hold no real date.
    """
    if not _is_eleven_digits(nin):
        raise ValueError(f"{_INVALID}: must be 11 digits")
    day, month, year = int(nin[0:2]), int(nin[2:4]), int(nin[4:6])
    individual = int(nin[6:9])
    if day > _D_NUMBER_DAY_OFFSET:
        day -= _D_NUMBER_DAY_OFFSET
    if month > _SYNTHETIC_MONTH_OFFSET:
        month -= _SYNTHETIC_MONTH_OFFSET
    elif month > _H_NUMBER_MONTH_OFFSET:
        month -= _H_NUMBER_MONTH_OFFSET
    if individual < 500:
        year += 1900
    elif individual < 750 and year >= 54:
        year += 1800
    elif year < 40:
        year += 2000
    elif individual >= 900:
        year += 1900
    else:
        raise ValueError(f"{_INVALID}: the birth century cannot be determined")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{_INVALID}: does not contain a real birth date") from None


def _check_digits_match(nin: str) -> bool:
    return (
        fodselsnummer.calc_check_digit1(nin[:9]) == nin[9]
        and fodselsnummer.calc_check_digit2(nin[:10]) == nin[10]
    )


def _validate_synthetic(nin: str) -> str:
    if not _check_digits_match(nin):
        raise ValueError(f"{_INVALID}: check digits do not match")
    if int(nin[0:2]) >= 80:
        raise ValueError(f"{_INVALID}: FH-numbers are not accepted")
    born = birth_date(nin)
    if born > date.today():
        raise ValueError(f"{_INVALID}: the birth date lies in the future")
    return nin


def validate_nin(value: str, *, accept_synthetic: bool) -> str:
    """Return `value` when it is a valid nin; ValueError (never naming it) otherwise.

    Accepts a fødselsnummer or a D-number; a Tenor synthetic number only when
    `accept_synthetic`. H-numbers and FH-numbers are refused.
    """
    if not isinstance(value, str) or not _is_eleven_digits(value):
        raise ValueError(f"{_INVALID}: must be 11 digits")
    if is_synthetic(value):
        if not accept_synthetic:
            raise ValueError(f"{_INVALID}: synthetic test numbers are not accepted here")
        return _validate_synthetic(value)
    month = int(value[2:4])
    if _H_NUMBER_MONTH_OFFSET < month <= _H_NUMBER_MONTH_OFFSET + 12:
        raise ValueError(f"{_INVALID}: H-numbers are not accepted")
    try:
        fodselsnummer.validate(value)
    except InvalidChecksum:
        raise ValueError(f"{_INVALID}: check digits do not match") from None
    except ValidationError:
        raise ValueError(f"{_INVALID}: does not contain a valid past birth date") from None
    return value


def looks_like_nin(text: str) -> bool:
    """Whether `text` holds anything shaped like a nin (see `NIN_PATTERN`)."""
    return NIN_PATTERN.search(text) is not None


def mask_nins(text: str) -> str:
    """`text` with every nin-shaped run of digits replaced by `***********`."""
    return NIN_PATTERN.sub(MASK, text)

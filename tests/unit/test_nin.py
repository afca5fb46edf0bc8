"""adapter.nin: fødselsnummer / D-number validation, synthetic numbers, birth dates, masking."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from stdnum.no import fodselsnummer

from adapter.nin import MASK, NIN_PATTERN, birth_date, is_synthetic, mask_nins, validate_nin

SYNTHETIC_CHILD = "14831651238"  # Tenor: 14.03.2016
SYNTHETIC_ADULT = "02898411829"  # Tenor: 02.09.1984


def make_nin(day: int, month: int, year2: int, individual: int) -> str:
    """A number with valid check digits, built at run time (no real-looking literal in code)."""
    for ind in range(individual, individual // 100 * 100 + 100):
        base = f"{day:02d}{month:02d}{year2:02d}{ind:03d}"
        first = fodselsnummer.calc_check_digit1(base)
        if len(first) != 1:
            continue
        second = fodselsnummer.calc_check_digit2(base + first)
        if len(second) == 1:
            return base + first + second
    raise AssertionError("no valid check digits in range")


def with_bad_check_digit(nin: str) -> str:
    """`nin` with its last check digit changed."""
    return nin[:10] + str((int(nin[10]) + 1) % 10)


def test_real_fodselsnummer_passes_through_stdnum() -> None:
    """A real-shaped fødselsnummer with valid check digits and date is accepted unchanged."""
    nin = make_nin(15, 6, 85, 123)
    assert fodselsnummer.is_valid(nin)
    assert validate_nin(nin, accept_synthetic=False) == nin


def test_real_d_number_is_accepted_and_dated() -> None:
    """A D-number (day + 40) is valid and its birth date drops the 40."""
    nin = make_nin(15 + 40, 6, 85, 123)
    assert validate_nin(nin, accept_synthetic=False) == nin
    assert birth_date(nin) == date(1985, 6, 15)


def test_synthetic_accepted_only_when_allowed() -> None:
    """A Tenor synthetic number passes with accept_synthetic and is refused without it."""
    assert validate_nin(SYNTHETIC_CHILD, accept_synthetic=True) == SYNTHETIC_CHILD
    with pytest.raises(ValueError, match="synthetic") as info:
        validate_nin(SYNTHETIC_CHILD, accept_synthetic=False)
    assert SYNTHETIC_CHILD not in str(info.value)


def test_synthetic_d_number_is_accepted() -> None:
    """A synthetic D-number (day + 40, month + 80) is valid where synthetic numbers are."""
    nin = make_nin(3 + 40, 5 + 80, 12, 520)
    assert validate_nin(nin, accept_synthetic=True) == nin
    assert birth_date(nin) == date(2012, 5, 3)


@pytest.mark.parametrize("synthetic", [False, True])
def test_bad_check_digit_is_refused_without_echo(synthetic: bool) -> None:
    """A wrong check digit is refused, and the message never contains the number."""
    good = make_nin(9, 4 + (80 if synthetic else 0), 90, 250)
    bad = with_bad_check_digit(good)
    with pytest.raises(ValueError, match="check digits") as info:
        validate_nin(bad, accept_synthetic=True)
    assert bad not in str(info.value)


@pytest.mark.parametrize("synthetic", [False, True])
def test_impossible_date_is_refused(synthetic: bool) -> None:
    """31 February has valid check digits but no date, so it is refused."""
    nin = make_nin(31, 2 + (80 if synthetic else 0), 90, 250)
    with pytest.raises(ValueError, match="birth date") as info:
        validate_nin(nin, accept_synthetic=True)
    assert nin not in str(info.value)


def test_future_birth_date_is_refused() -> None:
    """A synthetic number whose birth date lies in the future is refused."""
    next_year = (date.today().year + 1) % 100
    nin = make_nin(1, 1 + 80, next_year, 500)
    with pytest.raises(ValueError, match="future"):
        validate_nin(nin, accept_synthetic=True)


@pytest.mark.parametrize("value", ["1483165123", "148316512380", "1483165123x", "148316 51238", ""])
def test_wrong_shape_is_refused(value: str) -> None:
    """Anything but exactly 11 ASCII digits is refused with a message that does not echo it."""
    with pytest.raises(ValueError, match="11 digits") as info:
        validate_nin(value, accept_synthetic=True)
    assert not value or value not in str(info.value)


def test_h_number_is_refused() -> None:
    """H-numbers (month + 40) are neither fødselsnummer nor D-number: refused."""
    nin = make_nin(15, 6 + 40, 85, 123)
    with pytest.raises(ValueError, match="H-number"):
        validate_nin(nin, accept_synthetic=True)


@pytest.mark.parametrize(
    ("individual", "year2", "year"),
    [(123, 85, 1985), (612, 60, 1860), (512, 16, 2016), (950, 45, 1945)],
)
def test_birth_date_century_follows_individual_digits(
    individual: int, year2: int, year: int
) -> None:
    """The century comes from the individual digits, as stdnum computes it."""
    nin = make_nin(1, 2, year2, individual)
    assert int(nin[6:9]) // 100 == individual // 100
    assert birth_date(nin).year == year
    if year <= date.today().year:
        assert birth_date(nin) == fodselsnummer.get_birth_date(nin)


def test_birth_date_of_synthetic_number() -> None:
    """A synthetic number's birth date subtracts 80 from the month."""
    assert birth_date(SYNTHETIC_CHILD) == date(2016, 3, 14)
    assert birth_date(SYNTHETIC_ADULT) == date(1984, 9, 2)


def test_birth_date_without_century_is_an_error() -> None:
    """Individual digits 500–749 with year 40–53 name no century: ValueError."""
    nin = make_nin(1, 2, 45, 600)
    assert 500 <= int(nin[6:9]) < 750
    with pytest.raises(ValueError, match="century"):
        birth_date(nin)


def test_is_synthetic() -> None:
    """Only 11-digit numbers with month 81–92 count as synthetic."""
    assert is_synthetic(SYNTHETIC_CHILD)
    assert not is_synthetic(make_nin(15, 6, 85, 123))
    assert not is_synthetic("1483165123")
    assert not is_synthetic(make_nin(15, 6 + 40, 85, 123))


@pytest.mark.parametrize(
    "text",
    [
        f"nin={SYNTHETIC_CHILD}",
        f"fnr {SYNTHETIC_CHILD[:6]} {SYNTHETIC_CHILD[6:]} end",
        f"{SYNTHETIC_CHILD}",
        f'{{"nin": "{SYNTHETIC_ADULT}"}}',
    ],
)
def test_mask_nins_hides_every_nin_shape(text: str) -> None:
    """11-digit runs, also with a space after six digits, become asterisks."""
    masked = mask_nins(text)
    assert MASK in masked
    assert NIN_PATTERN.search(masked) is None
    assert SYNTHETIC_CHILD[:6] not in masked and SYNTHETIC_ADULT[:6] not in masked


@pytest.mark.parametrize("text", ["case BTI-2026-0042 seq 7", "id 123456789012", "tlf 409 21 233"])
def test_mask_nins_leaves_other_numbers(text: str) -> None:
    """Numbers that are not 11 digits long stay readable."""
    assert mask_nins(text) == text


def test_the_nin_pattern_is_defined_once() -> None:
    """No module of adapter/ or tests/support defines a nin-shaped pattern of its own: they
    import `adapter.nin`, so the redactor, the doors and the screens catch the same forms."""
    root = Path(__file__).resolve().parents[2]
    shaped = re.compile(r"\\d\{6\}")  # the text `\d{6}` in a source file
    owners = [
        path.relative_to(root).as_posix()
        for folder in ("adapter", "tests/support")
        for path in sorted((root / folder).rglob("*.py"))
        if shaped.search(path.read_text(encoding="utf-8"))
    ]
    assert owners == ["adapter/nin.py"]

"""French number formatting: known answers computed by hand."""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from analysis.report import french as fmt
from analysis.report.french import MINUS, MISSING, NBSP, NNBSP


@pytest.fixture(autouse=True)
def _default_mode():
    fmt.set_ascii_safe(False)
    yield
    fmt.set_ascii_safe(False)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (47, 0, f"47{NNBSP}%"),
        (46.3, 0, f"46{NNBSP}%"),
        (12.5, 1, f"12,5{NNBSP}%"),
        (12.5, 0, f"12{NNBSP}%"),  # half to even: 12.5 → 12 (27/216 in the 2022 table)
        (13.5, 0, f"14{NNBSP}%"),
        (0.5, 0, f"0{NNBSP}%"),
        (1.5, 0, f"2{NNBSP}%"),
        (0.125, 2, f"0,12{NNBSP}%"),
        (0, 0, f"0{NNBSP}%"),
        (100, 0, f"100{NNBSP}%"),
        (-2, 0, f"{MINUS}2{NNBSP}%"),
        (-0.4, 0, f"0{NNBSP}%"),  # no "−0 %"
        (np.float64(69.4), 0, f"69{NNBSP}%"),
        (np.int64(7), 1, f"7,0{NNBSP}%"),
        (Decimal("2.25"), 1, f"2,2{NNBSP}%"),
        (1234.5, 0, f"1{NNBSP}234{NNBSP}%"),
    ],
)
def test_pct(value, decimals, expected):
    assert fmt.pct(value, decimals) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, np.float64("nan")])
def test_missing_values_print_as_en_dash(missing):
    assert MISSING == "\u2013"
    for f in (fmt.pct, fmt.num, fmt.dec, fmt.points, fmt.base):
        assert f(missing) == MISSING
    assert fmt.ci(missing, 40) == MISSING


def test_half_even_on_float_noise():
    # 11/40 and 23/40 are exact ties whose float value is off by one ulp.
    assert 11 / 40 * 100 == 27.500000000000004
    assert 23 / 40 * 100 == 57.49999999999999
    assert fmt.pct(11 / 40 * 100) == f"28{NNBSP}%"
    assert fmt.pct(23 / 40 * 100) == f"58{NNBSP}%"
    assert fmt.pct(100 * 27 / 216) == f"12{NNBSP}%"  # the README's 2022 example
    # clearly above a tie stays above
    assert fmt.pct(12.5001) == f"13{NNBSP}%"


def test_half_even_matches_exact_rational_rounding():
    # For every count/base of a survey of up to 300 respondents, the printed integer percentage
    # is the exact rational 100·k/n rounded half to even — as the published tables are.
    for n in range(1, 301):
        for k in range(0, n + 1):
            exact = Fraction(100 * k, n)
            expected = round(exact)  # Fraction.__round__ rounds half to even
            assert fmt.round_half_even(100 * k / n) == expected, (k, n)
            assert fmt.round_half_even(k / n * 100) == expected, (k, n)


def test_num_and_dec():
    assert fmt.num(3500) == f"3{NNBSP}500"
    assert fmt.num(36318) == f"36{NNBSP}318"
    assert fmt.num(191) == "191"
    assert fmt.num(0) == "0"
    assert fmt.num(-1234567) == f"{MINUS}1{NNBSP}234{NNBSP}567"
    assert fmt.num(1234.5) == f"1{NNBSP}234"  # half even
    assert fmt.num(1235.5) == f"1{NNBSP}236"
    assert fmt.dec(0.52) == "0,52"
    assert fmt.dec(0.525) == "0,52"  # decimal value 0.525 is a tie → even
    assert fmt.dec(0.535) == "0,54"
    assert fmt.dec(1.893, 3) == "1,893"
    assert fmt.dec(0.0061, 4) == "0,0061"
    assert fmt.dec(-0.004) == "0,00"
    assert fmt.dec(-0.5) == f"{MINUS}0,50"
    assert fmt.dec(12345.678, 1) == f"12{NNBSP}345,7"


def test_points():
    assert fmt.points(3) == f"+3{NBSP}pts"
    assert fmt.points(-2) == f"{MINUS}2{NBSP}pts"
    assert fmt.points(0) == f"0{NBSP}pt"
    assert fmt.points(-0.3) == f"0{NBSP}pt"
    assert fmt.points(1) == f"+1{NBSP}pt"
    assert fmt.points(-1.4) == f"{MINUS}1{NBSP}pt"
    assert fmt.points(-1.5) == f"{MINUS}2{NBSP}pts"  # half even
    assert fmt.points(2.5) == f"+2{NBSP}pts"
    assert fmt.points(1.5, 1) == f"+1,5{NBSP}pt"
    assert fmt.points(12.25, 1) == f"+12,2{NBSP}pts"


def test_base_ci_pct_base():
    assert fmt.base(191) == f"n{NBSP}={NBSP}191"
    assert fmt.base(1053) == f"n{NBSP}={NBSP}1{NNBSP}053"
    assert fmt.ci(41.2, 52.4) == f"[41{NNBSP}%{NNBSP};{NBSP}52{NNBSP}%]"
    assert fmt.ci(41.25, 52.35, 1) == f"[41,2{NNBSP}%{NNBSP};{NBSP}52,4{NNBSP}%]"
    assert fmt.ci(41, None) == MISSING
    assert fmt.pct_base(46.3, 191) == f"46{NNBSP}% (n{NBSP}={NBSP}191)"


def test_ascii_safe_uses_plain_no_break_space():
    assert fmt.pct(47, ascii_safe=True) == f"47{NBSP}%"
    assert fmt.num(3500, ascii_safe=True) == f"3{NBSP}500"
    fmt.set_ascii_safe(True)
    assert fmt.pct(47) == f"47{NBSP}%"
    assert fmt.ci(41, 52) == f"[41{NBSP}%{NBSP};{NBSP}52{NBSP}%]"
    assert NNBSP not in fmt.group_label("commune_3500_10000")
    assert fmt.pct(47, ascii_safe=False) == f"47{NNBSP}%"
    fmt.set_ascii_safe(False)
    assert fmt.pct(47) == f"47{NNBSP}%"


def test_plural_join_cap():
    assert fmt.plural(191, "répondant") == f"191{NBSP}répondants"
    assert fmt.plural(1, "répondant") == f"1{NBSP}répondant"
    assert fmt.plural(0, "réponse") == f"0{NBSP}réponse"
    assert fmt.plural(1.5, "point") == f"1,5{NBSP}point"
    assert fmt.plural(2, "région") == f"2{NBSP}régions"
    assert fmt.plural(3, "bureau", "bureaux") == f"3{NBSP}bureaux"
    assert fmt.plural(2, "pays") == f"2{NBSP}pays"
    assert fmt.plural(3500, "commune") == f"3{NNBSP}500{NBSP}communes"
    assert fmt.plural(5, "EPCI", "EPCI", number=False) == "EPCI"
    assert fmt.join_fr([]) == ""
    assert fmt.join_fr(["a"]) == "a"
    assert fmt.join_fr(["a", "b"]) == "a et b"
    assert fmt.join_fr(["a", "b", "c"]) == "a, b et c"
    assert fmt.join_fr(["a", "b", "c"], "ou") == "a, b ou c"
    assert fmt.cap("état des lieux") == "État des lieux"
    assert fmt.cap("EPCI") == "EPCI"
    assert fmt.cap("") == ""
    assert fmt.cap("données Ouvertes") == "Données Ouvertes"  # rest untouched


def test_typo_and_quote():
    assert fmt.typo("Source : x ; base: 3 ?") == f"Source{NBSP}: x{NNBSP}; base{NBSP}: 3{NNBSP}?"
    assert fmt.typo(fmt.typo("a ; b : c !")) == fmt.typo("a ; b : c !")
    assert fmt.typo("« Oui »") == f"«{NBSP}Oui{NBSP}»"
    assert fmt.typo("10:30 et http://x") == "10:30 et http://x"
    assert fmt.typo("à 95 % et 5% ; 100 %") == f"à 95{NNBSP}% et 5{NNBSP}%{NNBSP}; 100{NNBSP}%"
    assert fmt.typo("taux %") == "taux %"
    assert fmt.quote("Oui") == f"«{NBSP}Oui{NBSP}»"


def test_group_labels():
    assert fmt.group_label("ensemble") == "Ensemble"
    assert fmt.group_label("epci") == "EPCI"
    assert fmt.group_label("commune_ge_100000") == f"Communes ≥ 100{NNBSP}000 hab."
    assert fmt.group_label("commune_3500_10000", short=False) == (
        f"Communes de 3{NNBSP}500 à 10{NNBSP}000 hab."
    )
    assert fmt.group_label("epci_metropole", short=False) == "EPCI (y compris métropoles)"
    with pytest.raises(fmt.FormatError, match="unknown group 'communes'"):
        fmt.group_label("communes")


@pytest.mark.parametrize("bad", ["12", "12 %", [1, 2], True, np.array([1.0, 2.0]), object()])
def test_bad_input_raises_a_project_error_naming_the_value(bad):
    with pytest.raises(fmt.FormatError, match=r"pct: expected a number") as info:
        fmt.pct(bad)
    assert isinstance(info.value, fmt.ReportError)
    assert isinstance(info.value, ValueError)
    assert type(bad).__name__ in str(info.value)


def test_infinite_and_bad_decimals():
    with pytest.raises(fmt.FormatError, match="finite"):
        fmt.num(math.inf)
    with pytest.raises(fmt.FormatError, match="decimals"):
        fmt.pct(3, decimals=-1)
    with pytest.raises(fmt.FormatError, match="plural"):
        fmt.plural(None, "répondant")
    with pytest.raises(fmt.FormatError, match="cap"):
        fmt.cap(3)


def test_published_2022_percentages_reproduced(aggregates_2022):
    """Every `Pourcentage` of the published 2022 table is fmt.pct of 100·Occurrences/Effectifs."""
    with aggregates_2022.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2908
    for i, row in enumerate(rows, start=2):
        share = 100 * int(row["Occurrences"]) / int(row["Effectifs par structure"])
        assert fmt.pct(share) == f"{int(row['Pourcentage'])}{NNBSP}%", (i, row)

"""French wording of proportions, rankings, differences and evolutions (analysis.report.wording)."""

from __future__ import annotations

import pytest

from analysis.report import wording as w
from analysis.report.french import NNBSP

EPCI = w.Noun("EPCI", "EPCI", feminine=False)


@pytest.mark.parametrize(
    ("pct", "text"),
    [
        (0, "aucune structure"),
        (3, "moins d'une structure sur dix"),
        (9, "près d'une structure sur dix"),
        (10, "une structure sur dix"),
        (19.6, "une structure sur cinq"),  # printed 20 %
        (18, "près d'une structure sur cinq"),
        (27, "plus d'un quart des structures"),
        (25.5, "plus d'un quart des structures"),  # printed 26 %
        (25.4, "un quart des structures"),
        (33, "un tiers des structures"),
        (43, "plus de deux structures sur cinq"),
        (47, "près de la moitié des structures"),
        (50, "la moitié des structures"),
        (57, "plus de la moitié des structures"),
        (63, "près des deux tiers des structures"),
        (67, "deux tiers des structures"),
        (77, "près de quatre structures sur cinq"),
        (82, "plus de quatre structures sur cinq"),
        (96, "la quasi-totalité des structures"),
        (99.6, "la quasi-totalité des structures"),
        (100, "toutes les structures"),
    ],
)
def test_proportion_known_words(pct, text):
    assert w.proportion(pct).text == text


def test_proportion_nouns_and_verbs():
    assert w.proportion(20, EPCI).text == "un EPCI sur cinq"
    assert w.proportion(0, EPCI).text == "aucun EPCI"
    assert w.proportion(100, EPCI).text == "tous les EPCI"
    assert w.proportion(20).verb("a", "ont") == "a"
    assert w.proportion(50).verb("a", "ont") == "ont"
    assert w.proportion(47).cap() == "Près de la moitié des structures"


def test_every_printed_value_gets_true_words():
    """'plus de X' is above X, 'près de X' below it and close, 'X' equal to it once printed."""
    anchors = {
        "une structure sur dix": 10,
        "une structure sur cinq": 20,
        "un quart": 25,
        "un tiers": 100 / 3,
        "deux structures sur cinq": 40,
        "la moitié": 50,
        "deux tiers": 200 / 3,
        "trois quarts": 75,
        "quatre structures sur cinq": 80,
        "neuf structures sur dix": 90,
    }
    for tenth in range(0, 1001):
        pct = tenth / 10
        text = w.proportion(pct).text
        r = w.printed(pct)
        anchor = next((v for k, v in anchors.items() if k in text), None)
        if text.startswith("plus"):
            assert r > anchor, (pct, text)
        elif text.startswith("près"):
            assert anchor - 5 <= r < anchor, (pct, text)
        elif text.startswith("moins"):
            assert r < 10, (pct, text)
        elif anchor is not None:
            assert abs(r - anchor) < 1, (pct, text)
        elif "quasi" in text:
            assert 95 <= r and pct < 100, (pct, text)
        else:
            assert pct in (0, 100), (pct, text)


def test_bad_percentages():
    for bad in (-1, 101, float("nan")):
        with pytest.raises(w.WordingError):
            w.proportion(bad)


def test_ranking_and_ahead():
    pct = lambda v: f"{v}{NNBSP}%"  # noqa: E731
    assert w.ranking([("B", 30), ("A", 47), ("C", 12)]) == (
        f"A arrive en tête ({pct(47)}), devant B ({pct(30)}) et C ({pct(12)})"
    )
    assert w.ranking([("A", 40.2), ("B", 39.9), ("C", 12)]).startswith("A et B arrivent en tête")
    assert w.ahead(("A", 35), ("B", 30)) == f"A ({pct(35)}) devant B ({pct(30)})"
    assert "à égalité" in w.ahead(("A", 30.4), ("B", 29.6))
    assert "sans écart significatif" in w.ahead(("A", 35), ("B", 30), significant=False)
    with pytest.raises(w.WordingError):
        w.ahead(("A", 20), ("B", 30))


def test_differences_follow_significance():
    assert w.difference(("A", 60), ("B", 20), significant=True).startswith("nettement plus")
    assert w.difference(("A", 20), ("B", 60), significant=True).startswith("nettement moins")
    assert w.difference(("A", 60), ("B", 20), significant=False).startswith("sans écart")
    assert w.intervals_separate((10, 20), (25, 30))
    assert not w.intervals_separate((10, 26), (25, 30))


def test_evolution_only_when_significant():
    up = w.evolution(47, 39, previous_edition=2022, significant=True)
    assert up.startswith("en hausse de 8 points depuis 2022")
    down = w.evolution(30, 31, previous_edition=2022, significant=True)
    assert down.startswith("en baisse de 1 point ")
    flat = w.evolution(47, 39, previous_edition=2022, significant=False)
    assert flat.startswith("sans évolution significative") and "hausse" not in flat

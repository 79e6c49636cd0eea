"""Claims checked at build time (analysis.report.claims)."""

from __future__ import annotations

import pytest

from analysis.report import claims
from analysis.report.claims import ClaimError, Figure

CHAT = Figure("ia_techniques « Agents conversationnels »", 31.0, 39, 12, (20.0, 45.0))
PRED = Figure("ia_techniques « Modèles prédictifs »", 38.5, 39, 15, (25.0, 52.0))


def test_a_claim_that_holds_passes():
    claims.check("ia", "L'IA prédictive devance les agents conversationnels.", PRED > CHAT)
    claims.check("ia", "x", (PRED >= 38) & (CHAT < 40))
    claims.check("ia", "x", (PRED < 10) | (CHAT < 40))
    claims.check("ia", "x", PRED.between(30, 40))
    claims.check("ia", "x", claims.first_of(PRED, [CHAT, PRED]))


def test_a_claim_the_data_no_longer_support_names_chapter_sentence_and_figures():
    sentence = "Les agents conversationnels devancent l'IA prédictive."
    with pytest.raises(ClaimError) as exc:
        claims.check("ia", sentence, CHAT > PRED)
    msg = str(exc.value)
    assert "'ia'" in msg and sentence in msg
    assert "31\u202f%" in msg and "12 sur 39" in msg and "15 sur 39" in msg


def test_claims_hold_on_printed_values():
    a = Figure("a", 30.4, 100, 30)
    b = Figure("b", 29.6, 100, 30)
    with pytest.raises(ClaimError):
        claims.check("c", "a devant b", a > b)  # both print "30 %"
    with pytest.raises(ClaimError):
        claims.check("c", "a en tête", claims.first_of(a, [a, b]))


def test_significant_lead_needs_separate_intervals():
    with pytest.raises(ClaimError, match="recouvrent"):
        claims.check("ia", "nettement devant", PRED.ahead_of(CHAT, significant=True))
    far = Figure("far", 80, 40, 32, (65.0, 90.0))
    claims.check("ia", "nettement devant", far.ahead_of(CHAT, significant=True))
    no_ci = Figure("x", 80, 40, 32)
    with pytest.raises(ClaimError, match="intervalle"):
        claims.check("ia", "nettement devant", no_ci.ahead_of(CHAT, significant=True))


def test_worded_checks_the_french_wording():
    claims.check("ia", "près de deux sur cinq", PRED.worded("près de deux structures sur cinq"))
    with pytest.raises(ClaimError, match="près de la moitié"):
        claims.check("ia", "près de la moitié", PRED.worded("près de la moitié"))


def test_a_condition_is_not_a_python_bool():
    with pytest.raises(TypeError):
        bool(PRED > CHAT)
    with pytest.raises(TypeError):
        claims.check("ia", "x", True)  # type: ignore[arg-type]


def test_render_fills_figures():
    text = claims.render("{chat} contre {pred}", {"chat": CHAT, "pred": PRED})
    assert text == "31\u202f% contre 38\u202f%"
    with pytest.raises(ClaimError, match="autre"):
        claims.render("{autre}", {"chat": CHAT})

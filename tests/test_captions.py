"""Computed captions fill what the notebook leaves out; the researchers' captions win."""

from __future__ import annotations

from analysis.report.captions import apply_caption_options, apply_to_notebook

COMPUTED = {"fig-cap": "Base : 191 structures répondantes.", "fig-alt": "Diagramme calculé."}


def test_computed_caption_fills_an_absent_option():
    src = '#| label: fig-x\nr.chart("x")'
    out = apply_caption_options(src, COMPUTED)
    assert '#| fig-cap: "Base : 191 structures répondantes."' in out
    assert '#| fig-alt: "Diagramme calculé."' in out
    assert out.endswith('r.chart("x")')


def test_a_caption_written_in_the_notebook_is_kept():
    src = '#| label: fig-x\n#| fig-cap: "Notre légende"\nr.chart("x")'
    out = apply_caption_options(src, COMPUTED)
    assert '#| fig-cap: "Notre légende"' in out
    assert "Base : 191" not in out
    assert '#| fig-alt: "Diagramme calculé."' in out  # the absent one is filled


def test_apply_to_notebook_uses_the_outputs_metadata():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": '#| label: fig-x\n#| fig-alt: "Texte des chercheurs"\nr.chart("x")',
                "outputs": [{"metadata": {"barometre": COMPUTED}}],
            }
        ]
    }
    apply_to_notebook(nb)
    src = nb["cells"][0]["source"]
    assert '#| fig-alt: "Texte des chercheurs"' in src and "Diagramme calculé" not in src
    assert '#| fig-cap: "Base : 191 structures répondantes."' in src

"""House-style charts: bars and labels, ordering, alt text, captions, deterministic files."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from analysis.report import charts
from analysis.report import french as fmt
from analysis.report.french import NBSP, NNBSP
from analysis.stats.estimates import COLUMNS  # noqa: E402


def _rows(qid, question, groups, cells, *, weighted=None, ci=None):
    """Tidy rows: cells = [(item, option, {group: count})]; groups = {group: base}."""
    out = []
    for item, option, counts in cells:
        for group, n in groups.items():
            count = counts[group]
            w = weighted.get((item, option)) if weighted and group == "ensemble" else None
            lo, hi = (
                ci.get((item, option), (None, None)) if ci and group == "ensemble" else (None, None)
            )
            out.append(
                {
                    "edition": 2023,
                    "chapter": "contexte",
                    "question_id": qid,
                    "question": question,
                    "item": item,
                    "option": option,
                    "stratum": group,
                    "base_n": n,
                    "count": count,
                    "pct": 100 * count / n,
                    "weighted_pct": w,
                    "ci_low": lo,
                    "ci_high": hi,
                    "suppressed": n < 5,
                }
            )
    return out


@pytest.fixture
def est() -> pd.DataFrame:
    g = {"ensemble": 20, "epci": 12, "region": 3}
    rows = []
    # single choice: counts add up to the base in every group
    rows += _rows(
        "q_single",
        "Votre structure a-t-elle une stratégie ?",
        g,
        [
            ("", "Oui", {"ensemble": 9, "epci": 6, "region": 2}),
            ("", "Non", {"ensemble": 6, "epci": 4, "region": 1}),
            ("", "Je ne sais pas", {"ensemble": 3, "epci": 1, "region": 0}),
            ("", "sans réponse", {"ensemble": 2, "epci": 1, "region": 0}),
        ],
        weighted={
            ("", "Oui"): 61.0,
            ("", "Non"): 25.0,
            ("", "Je ne sais pas"): 10.0,
            ("", "sans réponse"): 4.0,
        },
        ci={("", "Oui"): (41.3, 77.9)},
    )
    # multiple choice: counts add up to more than the base
    rows += _rows(
        "q_multi",
        "Quels sont les obstacles ?",
        g,
        [
            ("", "Le manque de temps", {"ensemble": 8, "epci": 5, "region": 1}),
            ("", "Le manque de compétences", {"ensemble": 14, "epci": 9, "region": 2}),
            (
                "",
                "Le manque de moyens financiers et humains dans les services concernés",
                {"ensemble": 11, "epci": 6, "region": 3},
            ),
            ("", "sans réponse", {"ensemble": 1, "epci": 0, "region": 0}),
        ],
    )
    # matrix: two rows, three levels + "Je ne sais pas" + "sans réponse"
    levels = [
        "Oui",
        "Non, mais c’est prévu",
        "Non, et ce n’est pas prévu",
        "Je ne sais pas",
        "sans réponse",
    ]
    m1 = [10, 4, 2, 3, 1]  # 50, 20, 10, 15, 5 %
    m2 = [3, 1, 12, 2, 2]  # 15, 5, 60, 10, 10 %
    cells = []
    for item, counts in (("Une formation des agents", m1), ("Une certification ISO 27001", m2)):
        for lev, c in zip(levels, counts, strict=True):
            cells.append((item, lev, {"ensemble": c, "epci": min(c, 12), "region": 0}))
    rows += _rows("q_matrix", "Quelles mesures avez-vous mises en place ?", g, cells)
    # ranking: three items, "rang 1", "rang 1 ou 2", "rang moyen", then "sans réponse"
    rank = {"Efficacité": (4, 9), "Évaluation": (10, 14), "Innovation": (6, 12)}
    cells = []
    for item, (r1, r2) in rank.items():
        cells.append((item, "rang 1", {"ensemble": r1, "epci": r1 // 2, "region": 1}))
        cells.append((item, "rang 1 ou 2", {"ensemble": r2, "epci": r2 // 2, "region": 2}))
        cells.append((item, "rang moyen", {"ensemble": 2, "epci": 2, "region": 2}))
    cells.append(("", "sans réponse", {"ensemble": 0, "epci": 0, "region": 0}))
    rows += _rows("q_rank", "Quelles sont vos priorités ?", g, cells)
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture
def cmp() -> pd.DataFrame:
    base = {"ensemble": (297, 191), "hors_communes_lt_3500": (216, 182)}
    rows = []
    for group, (bp, bc) in base.items():
        for option, p, c, sig in (
            ("Le manque de temps", 50.0, 61.3, True),
            ("Le manque de compétences", 70.2, 63.4, False),
            ("Le peu de formations", 20.0, 21.0, False),
            ("sans réponse", 3.0, 5.0, False),
        ):
            rows.append(
                {
                    "question_id": "q_multi",
                    "question": "Quels sont les obstacles ?",
                    "item": "",
                    "option": option,
                    "group": group,
                    "pct_previous": p,
                    "pct_current": c,
                    "diff_points": c - p,
                    "significant": sig,
                    "base_previous": bp,
                    "base_current": bc,
                    "edition_previous": 2022,
                    "edition_current": 2023,
                }
            )
    return pd.DataFrame(rows)


def _bars(fig):
    from matplotlib.patches import Rectangle

    return [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def _ylabels(fig):
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_module_import_is_light():
    code = "import sys, analysis.report.charts; print('matplotlib' in sys.modules, 'seaborn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_bar_options_single_choice(est):
    from matplotlib.figure import Figure

    fig = charts.bar_options(est, "q_single")
    assert isinstance(fig, Figure)
    assert fig.get_size_inches()[0] == pytest.approx(charts.WIDTH_IN)
    bars = _bars(fig)
    assert [round(b.get_width(), 6) for b in bars] == [45.0, 30.0, 15.0, 10.0]
    # option order kept, neutral answers grey
    assert _ylabels(fig) == ["Oui", "Non", "Je ne sais pas", "Sans réponse"]
    assert _texts(fig) == [f"45{NNBSP}%", f"30{NNBSP}%", f"15{NNBSP}%", f"10{NNBSP}%"]
    from matplotlib.colors import to_hex

    assert [to_hex(b.get_facecolor()) for b in bars] == [
        charts.BLUE,
        charts.BLUE,
        charts.GREY,
        charts.GREY,
    ]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        fmt.pct(v) for v in (0, 25, 50, 75, 100)
    ]
    assert ax.get_xlim()[0] == 0
    # every text is at least 9 pt
    texts = [*ax.texts, *ax.get_yticklabels(), *ax.get_xticklabels()]
    assert min(t.get_fontsize() for t in texts) >= 9


def test_bar_options_multiple_choice_sorted_by_share(est):
    fig = charts.bar_options(est, "q_multi")
    labels = _ylabels(fig)
    assert labels[0] == "Le manque de compétences"
    assert (
        labels[1].replace("\n", " ")
        == "Le manque de moyens financiers et humains dans les services concernés"
    )
    assert "\n" in labels[1]  # wrapped
    assert all(len(line) <= charts.WRAP for line in labels[1].split("\n"))
    assert labels[2:] == ["Le manque de temps", "Sans réponse"]
    assert [round(b.get_width(), 6) for b in _bars(fig)] == [70.0, 55.0, 40.0, 5.0]
    # explicit kind overrides the inference
    fig = charts.bar_options(est, "q_multi", kind="single")
    assert _ylabels(fig)[0] == "Le manque de temps"


def test_bar_options_weighted_and_suppressed(est):
    fig = charts.bar_options(est, "q_single", weighted=True)
    assert [b.get_width() for b in _bars(fig)] == [61.0, 25.0, 10.0, 4.0]
    assert "pourcentages pondérés" in charts.caption(fig)
    fig = charts.bar_options(est, "q_single", group="region")
    assert _bars(fig) == []
    assert _texts(fig) == ["n.s."] * 4
    with pytest.raises(
        charts.ChartError, match="weighted percentages exist on 'ensemble' rows only"
    ):
        charts.bar_options(est, "q_single", group="epci", weighted=True)
    with pytest.raises(charts.ChartError, match="'weighted_pct' is empty"):
        charts.bar_options(est, "q_multi", weighted=True)


def test_stacked_matrix(est):
    fig = charts.stacked_matrix(est, "q_matrix")
    bars = _bars(fig)
    assert len(bars) == 10  # 2 rows × 5 non-zero segments
    # each row stacks to 100 %
    by_row: dict[float, float] = {}
    for b in bars:
        y = round(b.get_y() + b.get_height() / 2, 6)
        by_row[y] = by_row.get(y, 0) + b.get_width()
    assert sorted(round(v, 6) for v in by_row.values()) == [100.0, 100.0]
    # rows sorted by the share of the first level: 50 % before 15 %
    assert _ylabels(fig) == ["Une formation des agents", "Une certification ISO 27001"]
    shares = [50, 20, 10, 15, 5, 15, 5, 60, 10, 10]
    expected = [fmt.pct(v) for v in shares if v >= charts.MIN_SEGMENT_LABEL]
    assert _texts(fig) == expected
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "Oui",
        "Non, mais c’est prévu",
        "Non, et ce n’est pas prévu",
        "Je ne sais pas",
        "Sans réponse",
    ]
    colours = charts.level_colors(["Oui", "Non, mais", "Non, et", "Je ne sais pas", "sans réponse"])
    assert colours == {
        "Oui": charts.BLUE,
        "Non, mais": charts.CYAN,
        "Non, et": charts.AMBER,
        "Je ne sais pas": charts.GREY,
        "sans réponse": charts.GREY_LIGHT,
    }
    unsorted = charts.stacked_matrix(est, "q_matrix", sort=False)
    assert _ylabels(unsorted) == ["Une formation des agents", "Une certification ISO 27001"]
    with pytest.raises(charts.ChartError, match="has no items"):
        charts.stacked_matrix(est, "q_single")


def test_scale_colours_are_ordered_and_distinct():
    for n in range(1, 8):
        colours = charts.scale_colors(n)
        assert len(colours) == n == len(set(colours))
        assert colours[0] == charts.BLUE
        if n > 1:
            assert colours[-1] == charts.AMBER


def test_ranking(est):
    fig = charts.ranking(est, "q_rank")
    bars = _bars(fig)
    assert len(bars) == 6  # 3 items × (rang 1, rang 1 ou 2)
    assert _ylabels(fig) == ["Évaluation", "Innovation", "Efficacité"]  # by rang 1: 50, 30, 20 %
    assert [b.get_width() for b in bars] == [50.0, 70.0, 30.0, 60.0, 20.0, 45.0]
    assert len(_texts(fig)) == 6
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "Classé en 1re position",
        "Classé en 1re ou 2e position",
    ]
    with pytest.raises(charts.ChartError, match="lacks option"):
        charts.ranking(est, "q_single")
    with pytest.raises(charts.ChartError, match="is a statistic, not a percentage"):
        charts.by_stratum(est, "q_rank", "rang moyen", item="Efficacité")


def test_by_stratum(est):
    fig = charts.by_stratum(est, "q_single", "Oui", weighted_total=True)
    labels = [x.replace("\n", " ") for x in _ylabels(fig)]
    assert labels == [
        f"Ensemble (n{NBSP}={NBSP}20)",
        f"Ensemble, pondéré (n{NBSP}={NBSP}20)",
        f"EPCI (n{NBSP}={NBSP}12)",
        f"Régions (n{NBSP}={NBSP}3)",
    ]
    assert [b.get_width() for b in _bars(fig)] == [45.0, 61.0, 50.0]
    assert _texts(fig) == [f"45{NNBSP}%", f"61{NNBSP}%", f"50{NNBSP}%", "n.s."]
    alt = charts.alt_text(fig)
    assert f"[41{NNBSP}%{NNBSP};{NBSP}78{NNBSP}%]" in alt
    assert "Régions n.s." in alt
    cap = charts.caption(fig)
    assert "n.s." in cap and f"«{NBSP}Ensemble, pondéré{NBSP}»" in cap
    assert f"95{NNBSP}%" in cap
    fig = charts.by_stratum(
        est, "q_matrix", "oui", item="Une formation des agents", groups=["epci"]
    )
    assert len(_bars(fig)) == 1
    with pytest.raises(charts.ChartError, match="no row with option 'Peut-être'"):
        charts.by_stratum(est, "q_single", "Peut-être")
    with pytest.raises(charts.ChartError, match="no row for stratum 'metropole'"):
        charts.by_stratum(est, "q_single", "Oui", groups=["metropole"])


def test_comparison(cmp):
    fig = charts.comparison(cmp, "q_multi", "hors_communes_lt_3500")
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 3  # "sans réponse" left out
    assert _ylabels(fig) == [
        "Le manque de compétences",
        "Le manque de temps",
        "Le peu de formations",
    ]
    texts = _texts(fig)
    assert texts[0] == "Écart"
    assert len(texts) == 1 + 3 * 3  # header + (previous, current, difference) per row
    assert f"+11{NBSP}pts ★" in texts
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert bold == [f"+11{NBSP}pts ★"]
    assert f"{fmt.MINUS}7{NBSP}pts" in texts
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "2022",
        "2023",
        "Écart significatif au seuil de 5 %".replace(" %", f"{NNBSP}%"),
    ]
    cap = charts.caption(fig)
    assert "Sources" in cap and "2022 et 2023" in cap and "216" in cap and "182" in cap
    assert "★" in cap
    assert "écart significatif" in charts.alt_text(fig)
    fig = charts.comparison(cmp, "q_multi", include_missing=True)
    assert len(fig.axes[0].get_yticks()) == 4
    with pytest.raises(charts.ChartError, match="no row for group 'epci'"):
        charts.comparison(cmp, "q_multi", "epci")
    with pytest.raises(charts.ChartError, match="missing column"):
        charts.comparison(cmp.drop(columns="significant"), "q_multi")


def test_alt_text_and_caption_are_french_sentences(est):
    fig = charts.bar_options(est, "q_single")
    alt = charts.alt_text(fig)
    assert alt.startswith(
        "Diagramme en barres horizontales. Votre structure a-t-elle une stratégie"
    )
    assert f"n{NBSP}={NBSP}20" in alt
    assert f"«{NBSP}Oui{NBSP}» 45{NNBSP}%" in alt
    assert alt.endswith(f"«{NBSP}sans réponse{NBSP}» 10{NNBSP}%.")
    assert charts.caption(fig) == (
        f"Votre structure a-t-elle une stratégie{NNBSP}? Source{NBSP}: Baromètre de la data 2023, "
        f"Observatoire Data Publica{NNBSP}; base{NBSP}: 20{NBSP}répondants{NNBSP}; "
        "pourcentages non pondérés."
    )
    epci = charts.caption(charts.bar_options(est, "q_single", group="epci"), title="Stratégie")
    assert epci.startswith("Stratégie. Source")
    assert f"12{NBSP}répondants (EPCI (hors métropoles))" in epci
    with pytest.raises(charts.ChartError, match="made by analysis.report.charts"):
        charts.alt_text(object())


def test_bad_input(est):
    with pytest.raises(charts.ChartError, match=r"missing column\(s\) \['pct'\]"):
        charts.bar_options(est.drop(columns="pct"), "q_single")
    with pytest.raises(charts.ChartError, match="no row for question_id 'nope'"):
        charts.bar_options(est, "nope")
    with pytest.raises(charts.ChartError, match="unknown group 'communes'"):
        charts.bar_options(est, "q_single", group="communes")
    dup = pd.concat([est, est.iloc[[0]]])
    with pytest.raises(charts.ChartError, match="duplicated rows"):
        charts.bar_options(dup, "q_single")
    with pytest.raises(charts.ChartError, match="use stacked_matrix or ranking"):
        charts.bar_options(est, "q_matrix")
    with pytest.raises(charts.ChartError, match="expected a pandas DataFrame"):
        charts.bar_options([1, 2], "q_single")


def test_saved_files_are_deterministic(est, tmp_path):
    for kind in ("png", "svg", "pdf"):
        a = charts.save(charts.stacked_matrix(est, "q_matrix"), tmp_path / f"a.{kind}")
        b = charts.save(charts.stacked_matrix(est, "q_matrix"), tmp_path / "sub" / f"b.{kind}")
        assert a.read_bytes() == b.read_bytes(), kind
    png = (tmp_path / "a.png").read_bytes()
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    svg = (tmp_path / "a.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert "<title>Diagramme en barres empilées" in svg  # the alt text, for screen readers
    pdf = (tmp_path / "a.pdf").read_bytes()
    assert b"/CreationDate" not in pdf and b"/Producer" not in pdf
    # the notebook display is the PNG that save() writes
    fig = charts.stacked_matrix(est, "q_matrix")
    bundle = fig._repr_mimebundle_()
    assert bundle["image/png"] == png
    assert bundle["text/plain"] == charts.alt_text(fig)
    assert not list(tmp_path.glob("**/*.tmp"))
    with pytest.raises(charts.ChartError, match="unknown image format '.jpg'"):
        charts.save(fig, tmp_path / "a.jpg")


def test_figures_stay_out_of_pyplot(est):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    charts.bar_options(est, "q_single")
    assert plt.get_fignums() == before


def test_comparison_accepts_compare_editions_columns(cmp):
    # the column names of analysis.stats.compare.compare_editions
    c = cmp.rename(
        columns={
            "group": "stratum",
            "pct_current": "pct",
            "pct_previous": "previous_pct",
            "base_current": "base_n",
            "base_previous": "previous_base_n",
            "edition_previous": "previous_edition",
        }
    ).drop(columns="edition_current")
    c["suppressed"] = c["option"].eq("Le peu de formations")
    fig = charts.comparison(c, "q_multi")
    texts = _texts(fig)
    assert texts[-1] == "n.s."  # suppressed: no value, no dot
    assert len(texts) == 1 + 3 * 2 + 1
    assert len(fig.axes[0].collections) == 2 * 2  # two dots per shown row
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["2022", "2023"]
    assert "n.s." in charts.caption(fig)
    fig = charts.comparison(c, "q_multi", current_edition=2024)
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["2022", "2024"]


def test_by_type_names_the_answer_counts_intervals_and_marks_few_respondents(est):
    est = est.copy()
    est["ci_method"] = ""
    est.loc[est["stratum"] == "region", "suppressed"] = False  # 3 respondents, shown hatched
    sel = (est["question_id"] == "q_single") & (est["option"] == "Oui")
    est.loc[sel & (est["stratum"] == "epci"), ["ci_low", "ci_high", "ci_method"]] = (
        30.0,
        70.0,
        "exact-hypergeometric",
    )
    fig = charts.by_type(
        est, "q_single", "Oui", types=["epci", "region"], frame_counts={"epci": 1233}
    )
    info = fig.barometre
    assert info["chart"] == "by_type" and "« Oui »" in info["answer"].replace(NBSP, " ")
    assert info["values"] == {"ensemble": 45.0, "epci": 50.0, "region": pytest.approx(66.667, 1e-3)}
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any("12 sur 1" in lab for lab in labels)  # "EPCI … (12 sur 1 233)"
    assert info["intervals"] and info["few"]  # region: 3 respondents
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 1
    alt = charts.alt_text(fig)
    assert "moins de 10 répondants" in alt and "population" in alt

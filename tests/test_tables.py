"""Markdown tables: structure, French numbers, "n.s.", captions, notebook display."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from analysis.report import french as fmt
from analysis.report import tables
from analysis.report.french import NBSP, NNBSP


def _row(qid, item, option, group, n, count, *, weighted=None, question="Question ?"):
    return {
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
        "weighted_pct": weighted,
        "ci_low": None,
        "ci_high": None,
        "suppressed": n < 5,
    }


BASES = {
    "ensemble": 40,
    "hors_communes_lt_3500": 36,
    "commune": 8,
    "epci": 12,
    "metropole": 6,
    "departement": 7,
    "region": 3,
    "autre": 7,
}


@pytest.fixture
def est() -> pd.DataFrame:
    rows = []
    counts = {"Oui": 0.5, "Non": 0.25, "Je ne sais pas": 0.125, "sans réponse": 0.125}
    weighted = {"Oui": 61.0, "Non": 25.0, "Je ne sais pas": 10.5, "sans réponse": 3.5}
    for option, share in counts.items():
        for g, n in BASES.items():
            rows.append(
                _row(
                    "q_single",
                    None,
                    option,
                    g,
                    n,
                    round(share * n),
                    weighted=weighted[option] if g == "ensemble" else None,
                    question="Votre structure a-t-elle une stratégie ?",
                )
            )
    # matrix: 2 items; the second one was asked to fewer respondents (filter)
    for item, base_shift in (("Une formation | des agents", 0), ("Une certification", -10)):
        for option, share in (("Oui", 0.5), ("Non", 0.5)):
            for g in ("ensemble", "epci"):
                n = BASES[g] + (base_shift if g == "ensemble" else 0)
                rows.append(_row("q_matrix", item, option, g, n, round(share * n)))
    # ranking statistics
    for item in ("A", "B"):
        rows.append(_row("q_rank", item, "rang 1", "ensemble", 40, 10))
        rows.append(_row("q_rank", item, "rang moyen", "ensemble", 40, 30) | {"pct": 1.75})
    return pd.DataFrame(rows)


def parse(md: str) -> list[list[list[str]]]:
    """Tables of a Markdown text → rows → cells; checks the pipe structure on the way."""
    out = []
    for block in re.split(r"\n\s*\n", md.strip()):
        lines = [ln for ln in block.split("\n") if ln.startswith("|")]
        if not lines:
            continue
        widths = {len(re.findall(r"(?<!\\)\|", ln)) for ln in lines}
        assert len(widths) == 1, f"inconsistent pipe count: {widths}\n{block}"
        assert re.fullmatch(r"\|(:?-+:?\|)+", lines[1]), lines[1]
        rows = [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines]
        out.append([rows[0]] + rows[2:])
    return out


def test_groups_as_columns_with_weighted_total_and_ns(est):
    md = tables.stratum_table(est, "q_single", groups=["ensemble", "epci", "region"])
    [table] = parse(md)
    assert table[0] == ["Réponse", "Ensemble", "Ensemble pondéré", "EPCI", "Régions"]
    assert table[1] == ["Oui", f"50{NNBSP}%", f"61{NNBSP}%", f"50{NNBSP}%", "n.s."]
    # 10.5 → 10 (half even), 3.5 → 4
    assert table[3] == ["Je ne sais pas", f"12{NNBSP}%", f"10{NNBSP}%", f"17{NNBSP}%", "n.s."]
    assert table[4] == ["Sans réponse", f"12{NNBSP}%", f"4{NNBSP}%", f"17{NNBSP}%", "n.s."]
    assert table[-1] == ["Base (n)", "40", "40", "12", "3"]
    no_weight = parse(
        tables.stratum_table(est, "q_single", groups=["ensemble", "epci"], weighted_total=False)
    )
    assert no_weight[0][0] == ["Réponse", "Ensemble", "EPCI"]


def test_four_answers_are_transposed_to_fit_a4(est):
    # 9 group columns would not fit; 4 answers + group + base = 6 columns do
    [table] = parse(tables.stratum_table(est, "q_single"))
    assert table[0] == ["Groupe", "Base (n)", "Oui", "Non", "Je ne sais pas", "Sans réponse"]
    assert [r[0] for r in table[1:3]] == ["Ensemble", "Ensemble pondéré"]
    assert table[2][1:] == ["40", f"61{NNBSP}%", f"25{NNBSP}%", f"10{NNBSP}%", f"4{NNBSP}%"]
    assert table[-2] == ["Régions", "3", "n.s.", "n.s.", "n.s.", "n.s."]


def test_large_tables_are_split_to_fit_a4(est):
    # 9 group columns and 4 answers fit neither way in 5 columns: split, labels repeated
    md = tables.stratum_table(est, "q_single", max_columns=5)
    parsed = parse(md)
    assert len(parsed) == 3
    assert all(len(t[0]) <= 5 for t in parsed)
    headers = [h for t in parsed for h in t[0][1:]]
    assert headers == [
        "Ensemble",
        "Ensemble pondéré",
        f"Hors communes < 3{NNBSP}500 hab.",
        "Communes",
        "EPCI",
        "Métropoles",
        "Départements",
        "Régions",
        "Autres structures",
    ]
    # every part repeats the row labels and the base row
    for t in parsed:
        assert [r[0] for r in t[1:]] == ["Oui", "Non", "Je ne sais pas", "Sans réponse", "Base (n)"]
    assert parsed[1][-1] == ["Base (n)", "12", "6", "7", "3"]
    assert parsed[2][-1] == ["Base (n)", "7"]
    assert parsed[1][1][4] == "n.s."  # régions, n = 3


def test_one_option_is_transposed(est):
    md = tables.stratum_table(est, "q_single", "oui")
    [table] = parse(md)
    assert table[0] == ["Groupe", "Base (n)", "Oui"]
    assert table[1] == ["Ensemble", "40", f"50{NNBSP}%"]
    assert table[2] == ["Ensemble pondéré", "40", f"61{NNBSP}%"]
    assert table[-2] == ["Régions", "3", "n.s."]
    assert len(table) == 1 + 9


def test_matrix_option_by_item_escapes_pipes_and_shows_base_range(est):
    md = tables.stratum_table(est, "q_matrix", "Oui")
    [table] = parse(md)
    assert table[0] == ["Élément", "Ensemble", "EPCI"]
    assert table[1][0] == "Une formation \\| des agents"
    assert table[1][1:] == [f"50{NNBSP}%", f"50{NNBSP}%"]
    assert table[-1] == ["Base (n)", "30–40", "12"]
    whole = parse(tables.stratum_table(est, "q_matrix"))[0]
    assert [r[0] for r in whole[1:3]] == [
        "Une formation \\| des agents — Oui",
        "Une formation \\| des agents — Non",
    ]
    one_item = parse(tables.stratum_table(est, "q_matrix", item="Une certification"))[0]
    assert [r[0] for r in one_item[1:]] == ["Oui", "Non", "Base (n)"]


def test_statistics_are_decimals(est):
    [table] = parse(tables.stratum_table(est, "q_rank", groups=["ensemble"]))
    cells = {r[0]: r[1] for r in table[1:]}
    assert cells["A — rang 1"] == f"25{NNBSP}%"
    assert cells["A — rang moyen"] == "1,8"  # 1.75 → 1,8 (half even on one decimal)


def test_errors_name_the_problem(est):
    with pytest.raises(tables.TableError, match="no row for question_id 'nope'"):
        tables.stratum_table(est, "nope")
    with pytest.raises(tables.TableError, match=r"missing column\(s\) \['suppressed'\]"):
        tables.stratum_table(est.drop(columns="suppressed"), "q_single")
    with pytest.raises(tables.TableError, match="no row with option 'Peut-être'"):
        tables.stratum_table(est, "q_single", "Peut-être")
    with pytest.raises(tables.TableError, match=r"unknown group\(s\) \['communes'\]"):
        tables.stratum_table(est, "q_single", groups=["communes"])
    with pytest.raises(tables.TableError, match="duplicated rows"):
        tables.stratum_table(pd.concat([est, est.iloc[[0]]]), "q_single")
    assert isinstance(tables.TableError("x"), fmt.ReportError)


def test_markdown_generic():
    df = pd.DataFrame(
        {
            "Strate": ["EPCI", "Régions | autres"],
            "n": [3500, 10],
            "Poids": [1.893, np.nan],
            "Retenu": [True, False],
        }
    )
    [table] = parse(tables.markdown(df, decimals=2))
    assert table == [
        ["Strate", "n", "Poids", "Retenu"],
        ["EPCI", f"3{NNBSP}500", "1,89", "oui"],
        ["Régions \\| autres", "10", fmt.MISSING, "non"],
    ]
    sep = tables.markdown(df).split("\n")[1]
    assert sep.split("|")[1].startswith(":") and sep.split("|")[2].endswith(":")
    with pytest.raises(tables.TableError, match="expected a pandas DataFrame"):
        tables.markdown([1, 2])


def test_with_caption_and_quarto_labels(est):
    md = tables.stratum_table(est, "q_single", groups=["ensemble"])
    text = tables.with_caption(md, "Stratégie : part des réponses", "strategie")
    assert text.endswith(f"\n\n: Stratégie{NBSP}: part des réponses {{#tbl-strategie}}\n")
    assert tables.with_caption(md, "X", "tbl-strategie") == tables.with_caption(
        md, "X", "strategie"
    )
    split = tables.with_caption(tables.stratum_table(est, "q_single", max_columns=5), "X", "tbl-s")
    assert "{#tbl-s}" in split and f": Suite{NBSP}: X {{#tbl-s-2}}" in split
    for bad in ("", "a b", "tbl-", "é", "#x"):
        with pytest.raises(tables.TableError, match="not a valid Quarto label"):
            tables.with_caption(md, "X", bad)
    with pytest.raises(tables.TableError, match="non-empty caption"):
        tables.with_caption(md, " ", "x")


def test_table_caption(est):
    cap = tables.table_caption(est, "q_single")
    assert cap.startswith(
        f"Votre structure a-t-elle une stratégie{NNBSP}? Source{NBSP}: Baromètre de la data 2023"
    )
    assert f"«{NBSP}Ensemble pondéré{NBSP}»" in cap
    assert "n.s." in cap
    assert tables.table_caption(est, "q_matrix", "Mesures :").startswith("Mesures. Source")


def test_show_table_displays_markdown_and_plain(est, monkeypatch):
    import IPython.display

    seen = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: seen.append((a, k)))
    md = tables.stratum_table(est, "q_single", groups=["ensemble"])
    assert tables.show_table(md, "Stratégie", "strategie") is None
    [(args, kwargs)] = seen
    assert kwargs == {"raw": True}
    bundle = args[0]
    assert set(bundle) == {"text/markdown", "text/plain"}
    assert (
        bundle["text/markdown"]
        == bundle["text/plain"]
        == tables.with_caption(md, "Stratégie", "strategie")
    )


def test_pandoc_reads_the_table_and_its_caption(est):
    pypandoc = pytest.importorskip("pypandoc")
    md = tables.with_caption(
        tables.stratum_table(est, "q_single", max_columns=5), "Stratégie", "strategie"
    )
    try:
        ast = json.loads(pypandoc.convert_text(md, "json", format="markdown"))
    except OSError as exc:  # pragma: no cover - no pandoc binary
        pytest.skip(f"pandoc not available: {exc}")
    blocks = [b for b in ast["blocks"] if b["t"] == "Table"]
    assert [b["c"][0][0] for b in blocks] == ["tbl-strategie", "tbl-strategie-2", "tbl-strategie-3"]
    assert [b for b in ast["blocks"] if b["t"] != "Table"] == []  # no stray paragraph
    colspecs = blocks[0]["c"][2]
    assert len(colspecs) == 5
    assert colspecs[0][0]["t"] == "AlignLeft" and colspecs[1][0]["t"] == "AlignRight"
    html = pypandoc.convert_text(md, "html", format="markdown")
    assert html.count("<tr") == 3 * (1 + 5)


def test_real_2022_aggregates_reproduce_published_percentages(aggregates_2022):
    """Every cell of the stratum tables of the 2022 published table is its published percentage."""
    aggregates = pytest.importorskip("analysis.stats.published")
    agg = aggregates.read_aggregates(aggregates_2022)
    if "published_pct" not in agg.columns:
        pytest.skip("analysis.stats.published does not expose published_pct")
    # rows the reader emits more than once (ranking "sans réponse" per rank column) are
    # ambiguous for a table, which refuses them: leave them out here
    agg = agg.loc[~agg.duplicated(["question_id", "item", "option", "stratum"], keep=False)]
    groups = [
        "ensemble",
        "hors_communes_lt_3500",
        "commune",
        "commune_lt_3500",
        "commune_3500_10000",
        "commune_10000_100000",
        "commune_ge_100000",
        "epci_metropole",
        "departement",
        "region",
        "autre",
    ]
    checked = 0
    for qid, rows in agg.groupby("question_id", sort=True):
        rows = rows.assign(item=rows["item"].fillna("").astype(str))
        keys = list(dict.fromkeys(zip(rows["item"], rows["option"], strict=True)))
        present = [g for g in groups if g in set(rows["stratum"])]
        cells: dict[tuple[str, tuple[str, str]], str] = {}
        parsed = parse(tables.stratum_table(agg, qid, groups=groups, weighted_total=False))
        if parsed[0][0][0] == "Groupe":  # transposed: groups in rows, answers in columns
            [table] = parsed
            assert len(table) == 1 + len(present) and len(table[0]) == 2 + len(keys)
            for i, g in enumerate(present, start=1):
                for j, key in enumerate(keys, start=2):
                    cells[g, key] = table[i][j]
        else:
            columns = iter(present)
            for table in parsed:
                assert len(table) == 1 + len(keys) + 1 and len(table[0]) <= tables.MAX_COLUMNS
                for j in range(1, len(table[0])):
                    g = next(columns)
                    for i, key in enumerate(keys, start=1):
                        cells[g, key] = table[i][j]
            assert next(columns, None) is None
        for g in present:
            by_key = rows.loc[rows["stratum"] == g].set_index(["item", "option"])
            for key in keys:
                if key not in by_key.index:
                    assert cells[g, key] == fmt.MISSING
                    continue
                published = by_key.loc[key, "published_pct"]
                if fmt.is_missing(published):
                    continue
                assert cells[g, key] == f"{int(published)}{NNBSP}%", (qid, g, key)
                checked += 1
    expected = agg["published_pct"].notna() & agg["stratum"].isin(groups)
    assert checked == int(expected.sum()) > 2800

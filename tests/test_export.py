"""Open-data export: exact columns, unrounded numbers, neutralised cells, deterministic files."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.build.writers import tables_for, write_tables
from analysis.stats.estimates import COLUMNS, estimate_all
from analysis.stats.opendata import ExportError, export_frame
from analysis.survey.codebook import from_dict

CB = from_dict(
    {
        "edition": 2099,
        "questions": [
            {
                "id": "q_formule",
                "chapter": "ia",
                "type": "single",
                "text": '=HYPERLINK("x") ?',
                "options": ["=1+1", "+33 6", "-moins", "@cible", "Normal"],
                "columns": [{"heading": "Q1", "code": "Q1"}],
            },
            {
                "id": "q_cyber",
                "chapter": "cybersecurite",
                "type": "single",
                "text": "Attaque ?",
                "options": ["Oui", "Non"],
                "columns": [{"heading": "Q2", "code": "Q2"}],
            },
        ],
    }
)


def processed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": [1, 2, 3],
            "stratum": ["epci", "region", "autre"],
            "weight": [1.0, 3.0, 0.0],
            "weight_frame": [10.0, 1.0, 0.0],
            "q_formule": ["=1+1", "Normal", None],
            "q_cyber": ["Oui", "Oui", "Non"],
        }
    )


def read_csv(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_columns_values_and_order(tmp_path):
    est = estimate_all(processed(), CB)
    out = tmp_path / "open" / "2099.csv"
    written = write_tables(est, out, xlsx=False)
    assert written == [out]
    raw = out.read_bytes()
    assert raw.startswith(b"edition,chapter,question_id,question,item,option,stratum,base_n,")
    assert b"\r\n" not in raw
    rows = read_csv(out)
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(est)
    first = rows[0]
    assert first["question_id"] == "q_formule"
    assert first["stratum"] == "ensemble"
    # 1 of 3: the float's shortest repr, not rounded; weighted: 1 of Σw 4.
    assert first["pct"] == repr(100 / 3) == "33.333333333333336"
    assert first["weighted_pct"] == "25.0"
    assert first["suppressed"] == "true"  # base 3 < 5
    assert rows[1]["weighted_pct"] == rows[1]["ci_low"] == ""  # not an ensemble row
    assert [r["stratum"] for r in rows[:3]] == ["ensemble", "hors_communes_lt_3500", "commune"]


def test_formula_cells_are_neutralised(tmp_path):
    est = estimate_all(processed(), CB)
    est.loc[0, "ci_low"] = -1.5  # numeric columns are never touched
    out = tmp_path / "t.csv"
    write_tables(est, out)
    rows = read_csv(out)
    options = {r["option"] for r in rows if r["question_id"] == "q_formule"}
    assert {"'=1+1", "'+33 6", "'-moins", "'@cible", "Normal"} <= options
    assert rows[0]["question"] == '\'=HYPERLINK("x") ?'
    assert rows[0]["ci_low"] == "-1.5"
    wb = load_workbook(out.with_suffix(".xlsx"))
    ws = wb["ia"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == list(COLUMNS)
    assert values[1][3] == '\'=HYPERLINK("x") ?'
    assert values[1][5] == "'=1+1"
    assert values[1][COLUMNS.index("ci_low")] == -1.5
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_xlsx_has_a_sheet_per_chapter_and_fixed_dates(tmp_path):
    est = estimate_all(processed(), CB)
    out = tmp_path / "t.csv"
    write_tables(est, out)
    wb = load_workbook(out.with_suffix(".xlsx"))
    assert wb.sheetnames == ["ia", "cybersecurite"]  # codebook chapter order
    assert wb.properties.created.year == 2000 and wb.properties.modified.year == 2000
    ws = wb["cybersecurite"]
    assert ws.max_row == 1 + len(est[est["chapter"] == "cybersecurite"])
    with zipfile.ZipFile(out.with_suffix(".xlsx")) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_outputs_are_deterministic_and_atomic(tmp_path):
    est = estimate_all(processed(), CB)
    a, b = tmp_path / "a" / "t.csv", tmp_path / "b" / "t.csv"
    write_tables(est, a)
    write_tables(est.copy(), b)
    assert a.read_bytes() == b.read_bytes()
    assert a.with_suffix(".xlsx").read_bytes() == b.with_suffix(".xlsx").read_bytes()
    assert sorted(p.name for p in a.parent.iterdir()) == ["t.csv", "t.xlsx"]  # no temp file left
    assert a.stat().st_mode & 0o777 == 0o644


def test_bad_estimates_are_refused(tmp_path):
    est = estimate_all(processed(), CB)
    with pytest.raises(ExportError, match="no column 'ci_high'"):
        write_tables(est.drop(columns="ci_high"), tmp_path / "t.csv")
    bad = est.astype({"count": object})
    bad.loc[4, "count"] = "beaucoup"
    with pytest.raises(ExportError, match="row 4, column 'count' has 'beaucoup'"):
        export_frame(bad)
    assert not (tmp_path / "t.csv").exists()


FRAME = {"epci": 100, "region": 18}


def test_tables_for_a_processed_dataset(tmp_path):
    out = tables_for(
        processed(), 2099, tmp_path / "out.csv", method="observatoire", codebook=CB, xlsx=False
    )
    rows = read_csv(out)
    assert rows[0]["weighted_pct"] == "25.0"
    assert rows[0]["ci_method"] == "wilson-kish"
    out = tables_for(
        processed(), 2099, tmp_path / "frame.csv", codebook=CB, xlsx=False, frame=FRAME
    )
    # default method frame: design weights N_h / n_h, epci 100 / 1, region 18 / 1; "autre" out.
    rows = read_csv(out)
    assert float(rows[0]["weighted_pct"]) == pytest.approx(100 * 100 / 118)
    # one respondent per stratum: no degrees of freedom, no interval, not reliable
    assert rows[0]["ci_method"] == rows[0]["ci_low"] == "" and rows[0]["reliable"] == "false"
    by_group = {r["stratum"]: r for r in rows if r["option"] == "'=1+1"}
    # 0 of 1 région among 18: exact interval [0; 17/18]
    assert by_group["region"]["ci_method"] == "exact-hypergeometric"
    assert float(by_group["region"]["ci_high"]) == pytest.approx(100 * 17 / 18)
    assert by_group["autre"]["weighted_pct"] == by_group["autre"]["ci_method"] == ""
    with pytest.raises(ExportError, match="no frame for edition 2099"):
        tables_for(processed(), 2099, tmp_path / "f.csv", codebook=CB, xlsx=False)
    with pytest.raises(ExportError, match="no weight column 'weight_raking'"):
        tables_for(processed(), 2099, tmp_path / "r.csv", method="raking", codebook=CB)
    with pytest.raises(ExportError, match="processed dataset not found"):
        tables_for(tmp_path / "absent.parquet", 2099, tmp_path / "x.csv", codebook=CB)


def test_tables_for_a_parquet_file(tmp_path):
    pytest.importorskip(
        "pyarrow", reason="pyarrow is needed to read a processed .parquet", exc_type=ImportError
    )
    parquet = tmp_path / "2099.parquet"
    processed().to_parquet(parquet)
    out = tables_for(parquet, 2099, tmp_path / "out.csv", codebook=CB, xlsx=False, frame=FRAME)
    again = tables_for(processed(), 2099, tmp_path / "df.csv", codebook=CB, xlsx=False, frame=FRAME)
    assert out.read_bytes() == again.read_bytes()


def test_csv_round_trips_numbers(tmp_path):
    est = estimate_all(processed(), CB)
    out = tmp_path / "t.csv"
    write_tables(est, out, xlsx=False)
    back = pd.read_csv(io.StringIO(out.read_text(encoding="utf-8")), keep_default_na=False)
    pct = pd.to_numeric(back["pct"].replace("", np.nan))
    assert np.array_equal(pct.to_numpy(), est["pct"].to_numpy(), equal_nan=True)

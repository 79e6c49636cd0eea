"""Edition facts (data/codebook/<edition>.edition.yaml), checked against the data's own READMEs."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis.survey.edition import EditionError, french_date, load_edition


def test_2023_facts_are_those_of_the_published_edition():
    # typed from ../shared/data/enquete-2023/report-structure.md, not read from the file
    ed = load_edition(2023)
    assert (ed.fieldwork_start, ed.fieldwork_end) == (dt.date(2023, 6, 21), dt.date(2023, 8, 31))
    assert ed.questions == 67
    assert ed.licence == "CC BY-SA 4.0"
    assert ed.publisher == "Observatoire Data Publica"
    assert ed.published == dt.date(2023, 11, 16)
    assert ed.fieldwork == "du 21\u00a0juin au 31\u00a0août 2023"
    assert ed.ordinal == "2e\u00a0édition"
    assert ed.partners and ed.open_data and ed.report_url


def test_2022_unknown_facts_stay_empty():
    ed = load_edition(2022)
    assert ed.ordinal == "1re\u00a0édition"
    assert ed.fieldwork is None and ed.questions is None


def test_french_dates():
    assert french_date(dt.date(2023, 11, 1)) == "1er\u00a0novembre 2023"
    assert french_date(dt.date(2023, 6, 21), year=False) == "21\u00a0juin"


def test_missing_or_bad_edition_file_names_the_file(tmp_path):
    with pytest.raises(EditionError, match=r"2031\.edition\.yaml: no edition file"):
        load_edition(2031, tmp_path)
    (tmp_path / "2024.edition.yaml").write_text("edition: 2024\nyear: 2024\ntitle: T\n")
    with pytest.raises(EditionError, match="`publisher` is required"):
        load_edition(2024, tmp_path)
    (tmp_path / "2025.edition.yaml").write_text(
        "edition: 2025\nyear: 2025\ntitle: T\npublisher: P\nfieldwork: {start: juin}\n"
    )
    with pytest.raises(EditionError, match=r"fieldwork\.start: 'juin' is not a date"):
        load_edition(2025, tmp_path)


def test_edition_files_beside_the_codebooks_are_not_taken_for_codebooks():
    from analysis.survey import ingest
    from analysis.survey.codebook import load

    assert [cb.edition for cb in ingest._other_editions(load(2023))] == [2022]


def test_notice_technique_states_fieldwork_dates_and_number_of_questions():
    from analysis.report.sections import ChapterSections

    class Notice(ChapterSections):
        edition = 2023

    text = Notice().fieldwork_text()
    assert "du 21\u00a0juin au 31\u00a0août 2023" in text and "67 questions" in text, text

    class Unknown(ChapterSections):
        edition = 2022  # its file knows neither the dates nor the questions

    assert Unknown().fieldwork_text() == ""

"""The shipped reference of collectivités, name matching, the build script and the frames."""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import FRAME_2023

from analysis.survey.reference import (
    FRAME_STRATA,
    REFERENCE_DIR,
    FrameError,
    Match,
    ReferenceDataError,
    clean_siren,
    commune_strata,
    compute_frame,
    load_frame,
    load_reference,
    lookup_siren,
    match_name,
    normalise_name,
    write_frame,
)
from analysis.survey.strata import STRATA

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def _load_build_script():
    spec = importlib.util.spec_from_file_location(
        "build_reference", ROOT / "scripts" / "build_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the shipped files -------------------------------------------------------------------------


def test_shipped_files_match_their_provenance(ref):
    version = json.loads((REFERENCE_DIR / "VERSION.json").read_text(encoding="utf-8"))
    assert version["package"] == "@etalab/decoupage-administratif"
    assert version["integrity"].startswith("sha512-")
    assert version["license"]["code"] == "MIT"
    assert ref.version == f"@etalab/decoupage-administratif@{version['version']}"
    total = 0
    for name, info in version["files"].items():
        data = (REFERENCE_DIR / name).read_bytes()
        total += len(data)
        assert hashlib.sha256(data).hexdigest() == info["sha256"], name
        assert len(getattr(ref, name.removesuffix(".csv.gz"))) == info["rows"], name
    assert total < 1_000_000  # "a few hundred KB"


def test_tables_are_sorted_unique_and_typed(ref):
    for table, key in (
        (ref.communes, "code"),
        (ref.epci, "siren"),
        (ref.departements, "code"),
        (ref.regions, "code"),
    ):
        assert table[key].is_unique and table[key].is_monotonic_increasing
        assert table["population"].dtype == "Int64"
        assert table["population"].notna().all()
    assert ref.communes["code"].str.fullmatch(r"\d[\dAB]\d{3}").all()
    assert ref.communes["siren"].dropna().str.fullmatch(r"\d{9}").all()
    assert set(ref.epci["type"]) <= {"CC", "CA", "CU", "METRO", "MET69"}
    # the package has no SIREN for départements and régions
    assert ref.departements["siren"].isna().all() and ref.regions["siren"].isna().all()


def test_load_reference_is_cached(ref):
    assert load_reference() is ref


def test_errors_are_reference_errors():
    from analysis.survey import reference

    assert issubclass(FrameError, reference.ReferenceError)
    assert issubclass(ReferenceDataError, reference.ReferenceError)
    assert issubclass(reference.ReferenceError, ValueError)


# -- SIREN lookup: known answers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("siren", "category", "code", "name", "region", "stratum", "pop_range"),
    [
        # Ville de Paris: a commune (≥ 100 000 hab.), SIREN of the commune
        ("217500016", "commune", "75056", "Paris", "11", "commune_ge_100000", (2e6, 2.3e6)),
        (
            "200046977",
            "metropole",
            "200046977",
            "Métropole de Lyon",
            "84",
            "metropole",
            (1.3e6, 1.6e6),
        ),
        (
            "243300316",
            "metropole",
            "243300316",
            "Bordeaux Métropole",
            "75",
            "metropole",
            (7e5, 9e5),
        ),
        (
            "210100012",
            "commune",
            "01001",
            "L'Abergement-Clémenciat",
            "84",
            "commune_lt_3500",
            (500, 1500),
        ),
        ("200000172", "epci", "200000172", "CC Faucigny - Glières", "84", "epci", (25_000, 35_000)),
        ("200030658", "epci", "200030658", "CC du Trièves", "84", "epci", (8_000, 13_000)),
    ],
)
def test_lookup_siren_known_answers(ref, siren, category, code, name, region, stratum, pop_range):
    m = ref.lookup_siren(siren)
    assert isinstance(m, Match)
    assert (m.category, m.code, m.name, m.region_code, m.stratum) == (
        category,
        code,
        name,
        region,
        stratum,
    )
    assert m.siren == siren
    assert pop_range[0] <= m.population <= pop_range[1]


def test_lookup_siret_and_spacing(ref):
    paris = ref.lookup_siren("217500016")
    assert ref.lookup_siren("21750001600019") == paris  # SIRET = SIREN + NIC (5 digits)
    assert ref.lookup_siren("217 500 016 00019") == paris
    assert lookup_siren("217.500.016") == paris  # module-level function, default reference


def test_lookup_siren_unknown_and_malformed(ref):
    assert ref.lookup_siren("123456789") is None
    for bad in ("", "12345", "2175000160001", "21750001600019x", "abcdefghi"):
        with pytest.raises(ReferenceDataError, match="expected 9 digits"):
            ref.lookup_siren(bad)


def test_clean_siren_vectorised():
    s = pd.Series(["21750001600019", " 217 500 016 ", "", None, "1234", "200046977"])
    assert clean_siren(s).tolist() == [
        "217500016",
        "217500016",
        pd.NA,
        pd.NA,
        pd.NA,
        "200046977",
    ]


# -- names ---------------------------------------------------------------------------------------


def _names(matches):
    return [(m.category, m.code) for m in matches]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ville de Paris", [("commune", "75056")]),
        ("ville de paris", [("commune", "75056")]),
        ("Commune de Ville-sur-Yron", [("commune", "54581")]),
        ("Ville-sur-Yron", [("commune", "54581")]),
        ("Mairie du Mans", [("commune", "72181")]),
        ("LE MANS", [("commune", "72181")]),
        ("St-Etienne", [("commune", "42218")]),  # the whole name wins over "… Métropole"
        ("Saint-Étienne Métropole", [("metropole", "244200770")]),
        ("St Etienne Metropole", [("metropole", "244200770")]),
        ("Lyon", [("commune", "69123")]),
        ("Métropole de Lyon", [("metropole", "200046977")]),
        ("Metz Métropole", [("metropole", "200039865")]),
        ("Métropole de Metz", [("metropole", "200039865")]),
        ("Eurométropole de Strasbourg", [("metropole", "246700488")]),
        ("Valenciennes Métropole", [("epci", "245901160")]),  # a CA despite its name
        ("Communauté de communes du Trièves", [("epci", "200030658")]),
        ("CC Faucigny-Glières", [("epci", "200000172")]),
        ("Communauté urbaine d’Arras", [("epci", "200033579")]),
        ("Département de la Gironde", [("departement", "33")]),
        ("Conseil départemental du Nord", [("departement", "59")]),
        ("Région Bretagne", [("region", "53")]),
        ("Conseil régional d'Île-de-France", [("region", "11")]),
        ("Collectivité de Corse", [("region", "94")]),
        ("Syndicat mixte du bassin", []),
        ("", []),
    ],
)
def test_match_name_variants(ref, query, expected):
    assert _names(ref.match_name(query)) == expected


def test_match_name_ambiguous_and_hints(ref):
    # four communes are called Saint-Denis (Aude, Gard, Seine-Saint-Denis, La Réunion)
    denis = ref.match_name("Commune de Saint-Denis")
    assert [m.code for m in denis] == ["11339", "30247", "93066", "97411"]
    # "Paris" is both the commune and the département 75 (one collectivité since 2019)
    assert _names(ref.match_name("Paris")) == [("commune", "75056"), ("departement", "75")]
    assert _names(ref.match_name("Paris", category_hint="departement")) == [("departement", "75")]
    assert _names(match_name("Arras", category_hint="epci")) == [("epci", "200033579")]
    assert _names(ref.match_name("Arras")) == [("commune", "62041")]
    with pytest.raises(ReferenceDataError, match="expected one of"):
        ref.match_name("Arras", category_hint="syndicat")


def test_normalise_name():
    assert normalise_name("Ville du Mans") == "mans"
    assert normalise_name("Commune de L’Île-d’Yeu") == "ile d yeu"
    assert normalise_name("CC Cœur de Sologne") == "coeur de sologne"
    assert normalise_name("Ste-Marie & St-Pierre") == "sainte marie et saint pierre"


def test_commune_strata_boundaries():
    pop = pd.Series([0, 3499, 3500, 9999, 10000, 99999, 100000, None], dtype="Int64")
    assert commune_strata(pop).tolist() == [
        "commune_lt_3500",
        "commune_lt_3500",
        "commune_3500_10000",
        "commune_3500_10000",
        "commune_10000_100000",
        "commune_10000_100000",
        "commune_ge_100000",
        pd.NA,
    ]


# -- frames --------------------------------------------------------------------------------------


def test_frame_2023_is_the_published_one():
    frame = load_frame(2023)
    assert frame.source == "published 2023 edition"
    assert frame.counts == FRAME_2023
    assert sum(frame.counts[s] for s in STRATA[:4]) == 34_945
    assert frame.total == 36_318
    assert tuple(frame.counts) == FRAME_STRATA and "autre" not in frame.counts


def test_reference_counts_are_close_to_the_2023_frame(ref):
    current = compute_frame(ref)
    published = load_frame("2023").counts
    print(f"\nstratum: reference {ref.version} vs published 2023 frame")
    for s in FRAME_STRATA:
        diff = current[s] - published[s]
        print(f"  {s:22} {current[s]:>6} {published[s]:>6} {diff:+5d} ({diff / published[s]:+.1%})")
    # unchanged since 2023 in the reference (6.0.0)
    for s in ("commune_ge_100000", "epci", "departement", "region"):
        assert current[s] == published[s], s
    # the reference counts the Métropole de Lyon among the métropoles; 2023 did not
    assert current["metropole"] == published["metropole"] + 1
    # communes merge every year and populations move: within 5 % per stratum
    for s in STRATA[:4]:
        assert abs(current[s] - published[s]) <= 0.05 * published[s], s
    communes = sum(current[s] for s in STRATA[:4])
    assert abs(communes - 34_945) <= 0.01 * 34_945


def _write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """edition: 2030
source: test
counts: {commune_lt_3500: 10, commune_3500_10000: 5, commune_10000_100000: 3,
         commune_ge_100000: 1, epci: 4, metropole: 2, departement: 2, region: 1}
total: 28
"""


def test_load_frame_checks(tmp_path):
    _write_yaml(tmp_path / "2030.yaml", GOOD)
    frame = load_frame(2030, directory=tmp_path)
    assert frame.total == 28 and frame["epci"] == 4 and frame.reference is None
    cases = {
        "total: 28": ("total: 29", "expected the sum of the counts, 28"),
        "epci: 4": ("epci: -4", "counts.epci is -4"),
        "region: 1": ("region: 1, syndicat: 3", "counts.syndicat: not a frame stratum"),
        ", region: 1": ("", "counts.region missing"),
        "source: test": ("note: x", "key 'source' missing"),
        "edition: 2030": ("edition: 2031", "expected '2030'"),
    }
    for old, (new, message) in cases.items():
        _write_yaml(tmp_path / "2030.yaml", GOOD.replace(old, new))
        with pytest.raises(FrameError, match=message) as err:
            load_frame("2030", directory=tmp_path)
        assert "2030.yaml" in str(err.value)
    with pytest.raises(FrameError, match="barometre frame --edition 1999"):
        load_frame(1999, directory=tmp_path)
    with pytest.raises(FrameError, match="expected a year"):
        load_frame("../2023", directory=tmp_path)


def test_write_frame_records_the_reference_and_refuses_to_overwrite(tmp_path, ref):
    path = write_frame(2026, ref, directory=tmp_path)
    frame = load_frame(2026, directory=tmp_path)
    assert frame.counts == compute_frame(ref)
    assert frame.reference == ref.version and frame.source == "reference"
    text = path.read_text(encoding="utf-8")
    with pytest.raises(FrameError, match="force=True"):
        write_frame(2026, ref, directory=tmp_path)
    assert write_frame(2026, ref, directory=tmp_path, force=True) == path
    assert path.read_text(encoding="utf-8") == text  # deterministic
    # the published 2023 frame is protected
    with pytest.raises(FrameError, match="exists"):
        write_frame(2023, ref)


# -- the build script on a small package -------------------------------------------------------


def _commune(code, nom, dep, reg, pop, siren, type_="commune-actuelle", zone="metro"):
    rec = {"code": code, "nom": nom, "departement": dep, "region": reg, "type": type_, "zone": zone}
    if pop is not None:
        rec["population"] = pop
    if siren:
        rec["siren"] = siren
    return rec


def _member(code, pop):
    return {"code": code, "nom": code, "populationTotale": pop, "populationMunicipale": pop - 1}


FAKE = {
    "package/package.json": {
        "name": "@etalab/decoupage-administratif",
        "version": "9.9.9",
        "license": "MIT",
    },
    "package/data/communes.json": [
        _commune("01002", "Bourg", "01", "84", 120_000, "210100020"),
        _commune("01001", "Village", "01", "84", 300, "210100012"),
        _commune("01003", "Île", "01", "84", 4_000, "210100038"),  # in no EPCI
        _commune("01004", "Ancienne", "01", "84", 50, None, type_="commune-deleguee"),
        _commune("98711", "Papeete", "987", "987", 26_000, None, zone="com"),
        _commune("97101", "Les Abymes", "971", "01", 53_000, "219711017", zone="drom"),
    ],
    "package/data/epci.json": [
        {  # no populationTotale: the sum of its members
            "code": "200000001",
            "nom": "CC Test",
            "type": "CC",
            "membres": [_member("01001", 310), _member("97101", 53_500)],
        },
        {
            "code": "200000002",
            "nom": "Métropole Test",
            "type": "MET69",
            "populationTotale": 125_000,
            "membres": [_member("01002", 125_000)],
        },
    ],
    "package/data/departements.json": [
        {"code": "01", "nom": "Ain", "region": "84", "zone": "metro"},
        {"code": "971", "nom": "Guadeloupe", "region": "01", "zone": "drom"},
        {"code": "987", "nom": "Polynésie française", "region": "987", "zone": "com"},
    ],
    "package/data/regions.json": [
        {"code": "84", "nom": "Auvergne-Rhône-Alpes", "zone": "metro"},
        {"code": "01", "nom": "Guadeloupe", "zone": "drom"},
        {"code": "987", "nom": "Polynésie française", "zone": "com"},
    ],
}


def _fake_tarball(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in FAKE.items():
            data = json.dumps(content).encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_build_script_on_a_small_package(tmp_path):
    build = _load_build_script()
    tarball = _fake_tarball(tmp_path / "pkg.tgz")
    out = tmp_path / "reference"
    version = build.build(tarball, out)
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert version["integrity"] == f"sha512-{digest}"
    assert version["version"] == "9.9.9"
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    build.build(tarball, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # byte-for-byte
    with gzip.open(out / "communes.csv.gz", "rt", encoding="utf-8") as fh:
        assert fh.readline().strip() == ("code,siren,nom,departement,region,zone,epci,population")

    ref = load_reference(out)
    assert ref.version == "@etalab/decoupage-administratif@9.9.9"
    # commune-déléguée and COM left out; sorted by code
    assert ref.communes["code"].tolist() == ["01001", "01002", "01003", "97101"]
    # population totale from the EPCI file, else the commune's own population
    assert ref.communes["population"].tolist() == [310, 125_000, 4_000, 53_500]
    assert ref.communes["epci"].tolist() == ["200000001", "200000002", pd.NA, "200000001"]
    cc = ref.lookup_siren("200000001")
    # population = sum of members; seat = most populated member (Les Abymes, Guadeloupe)
    assert (cc.category, cc.population, cc.region_code, cc.departement_code) == (
        "epci",
        53_810,
        "01",
        "971",
    )
    assert ref.lookup_siren("200000002").category == "metropole"
    assert ref.departements["code"].tolist() == ["01", "971"]
    assert ref.departements["population"].tolist() == [310 + 125_000 + 4_000, 53_500]
    assert ref.regions["code"].tolist() == ["01", "84"]
    assert compute_frame(ref) == {
        "commune_lt_3500": 1,
        "commune_3500_10000": 1,
        "commune_10000_100000": 1,
        "commune_ge_100000": 1,
        "epci": 1,
        "metropole": 1,
        "departement": 2,
        "region": 2,
    }


def test_build_script_rejects_a_foreign_tarball(tmp_path):
    build = _load_build_script()
    path = tmp_path / "other.tgz"
    with tarfile.open(path, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("package/package.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(build.BuildError, match="missing package/data/communes.json"):
        build.build(path, tmp_path / "out")


def test_missing_or_corrupt_reference(tmp_path):
    with pytest.raises(ReferenceDataError, match="VERSION.json: not found"):
        load_reference(tmp_path)
    build = _load_build_script()
    out = tmp_path / "ref"
    build.build(_fake_tarball(tmp_path / "pkg.tgz"), out)
    text = gzip.decompress((out / "epci.csv.gz").read_bytes()).decode()
    (out / "epci.csv.gz").write_bytes(gzip.compress(text.replace("125000", "12x").encode()))
    with pytest.raises(ReferenceDataError, match=r"epci.csv.gz: row 3, column 'population': '12x'"):
        load_reference(out)

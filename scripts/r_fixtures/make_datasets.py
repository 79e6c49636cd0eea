"""Small datasets shaped like the barometer's respondents, for the R `survey` known answers.

Writes ``tests/fixtures/r_survey/<name>.csv`` (one row per respondent): ``response_id``,
``stratum`` (a code of ``analysis.strata.STRATA``; ``autre`` = outside the frame), ``N`` (the
frame count of the stratum, empty for ``autre``), ``q1`` (single choice ``Oui`` / ``Non`` /
``Je ne sais pas`` / ``Autre``, empty = asked, no answer), ``q2`` (asked only when
``q1 == "Oui"``: a filtered question, i.e. a domain; ``Oui`` / ``Non``, empty = asked, no answer,
``NA`` = not asked) and ``x`` (numeric, empty = no value).

The shapes that matter are built in, not left to chance:

* ``shaped``: the 2023 frame (census of régions, 18 of 21 métropoles, 2 communes < 3 500 hab.
  among 31 762 — with no variation —, 0 % and 100 % cells, ``Autre`` never chosen: 0 % over
  the whole frame) and 20 respondents outside the frame;
* ``random``: eight strata with random sizes and answers (seeded), no structural zeros;
* ``small``: three strata, one of them a census, one with 100 % ``Oui``.

Then ``Rscript scripts/r_fixtures/survey_fixtures.R`` writes the known answers next to them.
Deterministic: fixed seeds, fixed row order. Run from the repository root:

    .venv/bin/python scripts/r_fixtures/make_datasets.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "r_survey"
LEVELS = ("Oui", "Non", "Je ne sais pas", "Autre")

FRAME_2023 = {
    "commune_lt_3500": 31762,
    "commune_3500_10000": 2160,
    "commune_10000_100000": 981,
    "commune_ge_100000": 42,
    "epci": 1233,
    "metropole": 21,
    "departement": 101,
    "region": 18,
}


def _rows(spec, rng: np.random.Generator) -> list[dict[str, str]]:
    """spec: (stratum, N or None, n, probabilities of q1 levels, P(q2=Oui), mean of x)."""
    rows: list[dict[str, str]] = []
    for stratum, big_n, n, probs, p2, mu in spec:
        q1 = rng.choice(len(LEVELS), size=n, p=probs)
        for i in range(n):
            answer = LEVELS[q1[i]]
            if rng.random() < 0.05 and stratum not in ("commune_lt_3500", "region"):
                answer = ""  # asked, no answer
            if answer == "Oui":
                r = rng.random()
                q2 = "" if r < 0.05 else ("Oui" if r < 0.05 + p2 * 0.95 else "Non")
            else:
                q2 = "NA"
            x = "" if rng.random() < 0.1 else f"{max(0.0, rng.normal(mu, mu / 2)):.1f}"
            rows.append(
                {
                    "stratum": stratum,
                    "N": "" if big_n is None else str(big_n),
                    "q1": answer,
                    "q2": q2,
                    "x": x,
                }
            )
    return rows


def shaped() -> list[dict[str, str]]:
    rng = np.random.default_rng(2023)
    f = FRAME_2023
    spec = [
        ("commune_lt_3500", f["commune_lt_3500"], 2, (0.0, 1.0, 0.0, 0.0), 0.5, 3.0),
        ("commune_3500_10000", f["commune_3500_10000"], 6, (0.2, 0.6, 0.2, 0.0), 0.3, 8.0),
        ("commune_10000_100000", f["commune_10000_100000"], 10, (0.3, 0.5, 0.2, 0.0), 0.4, 20),
        ("commune_ge_100000", f["commune_ge_100000"], 5, (0.6, 0.2, 0.2, 0.0), 0.5, 60.0),
        ("epci", f["epci"], 33, (0.3, 0.5, 0.2, 0.0), 0.4, 15.0),
        ("metropole", f["metropole"], 18, (0.4, 0.5, 0.1, 0.0), 0.7, 80.0),
        ("departement", f["departement"], 25, (0.2, 0.6, 0.2, 0.0), 0.5, 50.0),
        ("region", f["region"], 18, (1.0, 0.0, 0.0, 0.0), 0.6, 70.0),
        ("autre", None, 20, (0.5, 0.3, 0.2, 0.0), 0.5, 10.0),
    ]
    return _rows(spec, rng)


def random_design() -> list[dict[str, str]]:
    rng = np.random.default_rng(11)
    strata = [s for s in FRAME_2023]
    spec = []
    for s in strata:
        n = int(rng.integers(4, 30))
        big_n = int(n + rng.integers(0, 3000))
        a = rng.dirichlet((2.0, 2.0, 1.0))
        probs = (a[0] * 0.9, a[1] * 0.9, a[2] * 0.9, 0.1)
        spec.append((s, big_n, n, probs, float(rng.uniform(0.2, 0.8)), float(rng.uniform(5, 50))))
    spec.append(("autre", None, 7, (0.25, 0.25, 0.25, 0.25), 0.5, 10.0))
    return _rows(spec, rng)


def small() -> list[dict[str, str]]:
    rng = np.random.default_rng(7)
    spec = [
        ("epci", 400, 12, (0.5, 0.4, 0.1, 0.0), 0.5, 10.0),
        ("metropole", 21, 21, (0.6, 0.3, 0.1, 0.0), 0.5, 30.0),
        ("region", 18, 9, (1.0, 0.0, 0.0, 0.0), 0.5, 40.0),
    ]
    return _rows(spec, rng)


def write(name: str, rows: list[dict[str, str]], out: Path = OUT) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["response_id", *rows[0]], lineterminator="\n")
        writer.writeheader()
        for i, row in enumerate(rows, start=1):
            writer.writerow({"response_id": i, **row})
    return path


DATASETS = (("shaped", shaped), ("random", random_design), ("small", small))


def main(out: Path = OUT) -> None:
    for name, make in DATASETS:
        print(write(name, make(), out))


if __name__ == "__main__":
    main()

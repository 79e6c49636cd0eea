"""Build ``data/reference/`` from the npm package ``@etalab/decoupage-administratif``.

Run by a developer when a new edition of the package is published, never at build time::

    .venv/bin/python scripts/build_reference.py                 # latest version (npm pack)
    .venv/bin/python scripts/build_reference.py --version 6.0.0
    .venv/bin/python scripts/build_reference.py --tarball etalab-decoupage-administratif-6.0.0.tgz

``npm pack`` downloads the package tarball into a temporary directory (no ``package.json``,
no ``node_modules``); ``--tarball`` reads an already downloaded one. The script writes four
gzip-compressed CSV files (fixed mtime, sorted rows: byte-for-byte reproducible) and
``VERSION.json`` (package name, version, tarball integrity, licences, row counts and hashes).
Users of the project need neither npm nor a network connection.

Scope: metropolitan France and the five DROM (the national frame of the barometer). The
overseas collectivités (COM: Polynésie, Nouvelle-Calédonie, Saint-Martin…) are left out.

Populations:

* communes — ``population`` is the *population totale* of the DGCL file of EPCI composition
  bundled in the package (``epci.json``, member ``populationTotale``); for the few communes in
  no EPCI (islands: Bréhat, Sein, Ouessant, Yeu) it falls back to the package's commune
  ``population`` (INSEE *population municipale*, possibly a year more recent);
* EPCI — ``populationTotale`` of the package, or the sum of its members when absent;
* départements, régions — the sum of their communes' ``population``.

The package has no SIREN for départements and régions: the ``siren`` column is left empty.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

PACKAGE = "@etalab/decoupage-administratif"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "reference"
DATA_FILES = ("communes", "epci", "departements", "regions")
#: Zones kept (the package's ``zone``): metropolitan France and the DROM.
ZONES = ("metro", "drom")
#: EPCI types of the package → category of the barometer.
EPCI_CATEGORY = {
    "CC": "epci",
    "CA": "epci",
    "CU": "epci",
    "METRO": "metropole",
    "MET69": "metropole",
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "communes": (
        "code",
        "siren",
        "nom",
        "departement",
        "region",
        "zone",
        "epci",
        "population",
    ),
    "epci": (
        "siren",
        "nom",
        "type",
        "category",
        "departement",
        "region",
        "members",
        "population",
    ),
    "departements": ("code", "siren", "nom", "region", "zone", "population"),
    "regions": ("code", "siren", "nom", "zone", "population"),
}
SORT_KEY = {"communes": "code", "epci": "siren", "departements": "code", "regions": "code"}
INT_COLUMNS = ("population", "members")


class BuildError(RuntimeError):
    """The package cannot be fetched or does not have the expected content."""


# -- fetching ----------------------------------------------------------------------------------


def fetch_tarball(version: str | None, workdir: Path) -> Path:
    """``npm pack`` the package (``version`` or the latest) into ``workdir``; return the tarball.

    npm checks the download against the registry's integrity; the integrity npm reports is
    checked again against the file's own SHA-512.
    """
    spec = f"{PACKAGE}@{version}" if version else PACKAGE
    try:
        proc = subprocess.run(
            ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError as exc:
        raise BuildError("npm not found: install Node.js/npm or pass --tarball") from exc
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"npm pack {spec} failed: {exc.stderr.strip()}") from exc
    info = json.loads(proc.stdout)
    path = workdir / info[0]["filename"]
    if not path.exists():
        raise BuildError(f"npm pack {spec}: expected the tarball {path.name} in {workdir}")
    if info[0].get("integrity") and info[0]["integrity"] != integrity_of(path):
        raise BuildError(
            f"{path.name}: SHA-512 {integrity_of(path)} differs from npm's {info[0]['integrity']}"
        )
    return path


def integrity_of(tarball: Path) -> str:
    """The npm ``integrity`` string (``sha512-<base64>``) of a tarball."""
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def read_package(tarball: Path) -> dict[str, Any]:
    """``package.json`` and the data files of the tarball, parsed (``{"package": …, name: …}``)."""
    out: dict[str, Any] = {}
    wanted = {"package/package.json": "package"}
    wanted |= {f"package/data/{name}.json": name for name in DATA_FILES}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                key = wanted.get(member.name)
                if key is None:
                    continue
                fh = tar.extractfile(member)
                if fh is None:
                    raise BuildError(f"{tarball}: {member.name} is not a regular file")
                out[key] = json.loads(fh.read().decode("utf-8"))
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(f"{tarball}: not a readable .tgz ({exc})") from exc
    missing = sorted(set(wanted) - {k for k, v in wanted.items() if v in out})
    if missing:
        raise BuildError(
            f"{tarball}: missing {', '.join(missing)}; expected an npm tarball of {PACKAGE}"
        )
    return out


# -- tables ------------------------------------------------------------------------------------


def _require(records: list[dict], keys: tuple[str, ...], where: str) -> None:
    for i, rec in enumerate(records):
        for key in keys:
            if rec.get(key) in (None, ""):
                raise BuildError(f"{where}: record {i} ({rec.get('code')!r}) has no {key!r}")


def build_tables(package: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The four reference tables from the parsed package (see the module docstring)."""
    communes_raw = [
        c
        for c in package["communes"]
        if c.get("type") == "commune-actuelle" and c.get("zone") in ZONES
    ]
    _require(communes_raw, ("code", "nom", "departement", "region"), "communes.json")
    communes = pd.DataFrame(
        {
            "code": [c["code"] for c in communes_raw],
            "siren": [c.get("siren") for c in communes_raw],
            "nom": [c["nom"] for c in communes_raw],
            "departement": [c["departement"] for c in communes_raw],
            "region": [c["region"] for c in communes_raw],
            "zone": [c["zone"] for c in communes_raw],
            "population_municipale": pd.array(
                [c.get("population") for c in communes_raw], dtype="Int64"
            ),
        }
    )
    dup = communes["code"][communes["code"].duplicated()]
    if len(dup):
        raise BuildError(f"communes.json: duplicated commune code {dup.iloc[0]!r}")

    epci_raw = package["epci"]
    _require(epci_raw, ("code", "nom", "type"), "epci.json")
    unknown = sorted({e["type"] for e in epci_raw} - set(EPCI_CATEGORY))
    if unknown:
        raise BuildError(
            f"epci.json: unknown EPCI type {unknown[0]!r}; expected one of {sorted(EPCI_CATEGORY)}"
        )
    members = pd.DataFrame(
        [
            {
                "epci": e["code"],
                "code": m["code"],
                "population_totale": m.get("populationTotale"),
            }
            for e in epci_raw
            for m in e.get("membres") or []
        ],
        columns=["epci", "code", "population_totale"],
    )
    members["population_totale"] = members["population_totale"].astype("Int64")
    dup = members["code"][members["code"].duplicated()]
    if len(dup):
        raise BuildError(f"epci.json: commune {dup.iloc[0]!r} belongs to two EPCI")
    communes = communes.merge(members, on="code", how="left", validate="one_to_one")
    communes["population"] = communes["population_totale"].fillna(communes["population_municipale"])
    communes = communes.drop(columns="population_totale")

    # EPCI: population from the package, else the sum of the members; seat département and
    # région = those of the most populated member commune (ties: smallest code).
    in_scope = members.merge(
        communes[["code", "departement", "region", "population"]], on="code", how="inner"
    )
    in_scope = in_scope.sort_values(["epci", "population", "code"], ascending=[True, False, True])
    seat = in_scope.drop_duplicates("epci").set_index("epci")
    member_sum = in_scope.groupby("epci")["population"].sum()
    member_count = members.groupby("epci")["code"].count()
    epci = pd.DataFrame(
        {
            "siren": [e["code"] for e in epci_raw],
            "nom": [e["nom"] for e in epci_raw],
            "type": [e["type"] for e in epci_raw],
            "population": pd.array([e.get("populationTotale") for e in epci_raw], dtype="Int64"),
        }
    )
    epci = epci[epci["siren"].isin(seat.index)].copy()  # EPCI of the COM are out of scope
    epci["category"] = epci["type"].map(EPCI_CATEGORY)
    epci["departement"] = epci["siren"].map(seat["departement"])
    epci["region"] = epci["siren"].map(seat["region"])
    epci["members"] = epci["siren"].map(member_count).astype("Int64")
    epci["population"] = epci["population"].fillna(epci["siren"].map(member_sum).astype("Int64"))
    sirens = pd.concat([communes["siren"].dropna(), epci["siren"]])
    dup = sirens[sirens.duplicated()]
    if len(dup):
        raise BuildError(f"communes.json/epci.json: duplicated SIREN {dup.iloc[0]!r}")

    deps_raw = [d for d in package["departements"] if d.get("zone") in ZONES]
    _require(deps_raw, ("code", "nom", "region"), "departements.json")
    departements = pd.DataFrame(
        {
            "code": [d["code"] for d in deps_raw],
            "siren": [d.get("siren") for d in deps_raw],
            "nom": [d["nom"] for d in deps_raw],
            "region": [d["region"] for d in deps_raw],
            "zone": [d["zone"] for d in deps_raw],
        }
    )
    departements["population"] = departements["code"].map(
        communes.groupby("departement")["population"].sum()
    )
    regs_raw = [r for r in package["regions"] if r.get("zone") in ZONES]
    _require(regs_raw, ("code", "nom"), "regions.json")
    regions = pd.DataFrame(
        {
            "code": [r["code"] for r in regs_raw],
            "siren": [r.get("siren") for r in regs_raw],
            "nom": [r["nom"] for r in regs_raw],
            "zone": [r["zone"] for r in regs_raw],
        }
    )
    regions["population"] = regions["code"].map(communes.groupby("region")["population"].sum())

    tables = {
        "communes": communes,
        "epci": epci,
        "departements": departements,
        "regions": regions,
    }
    for name, df in tables.items():
        df = df.loc[:, list(COLUMNS[name])].sort_values(SORT_KEY[name], kind="mergesort")
        for col in df.columns:
            if col in INT_COLUMNS:
                df[col] = df[col].astype("Int64")
            else:
                df[col] = df[col].astype("string")
        tables[name] = df.reset_index(drop=True)
    return tables


# -- writing -----------------------------------------------------------------------------------


def csv_gz_bytes(df: pd.DataFrame) -> bytes:
    """Deterministic gzip-compressed UTF-8 CSV of ``df`` (no index, ``\\n``, mtime 0)."""
    text = df.to_csv(index=False, lineterminator="\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_reference(
    tables: dict[str, pd.DataFrame], package_json: dict[str, Any], integrity: str, out: Path
) -> dict[str, Any]:
    """Write the tables and ``VERSION.json`` into ``out``; return the VERSION content."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for name in DATA_FILES:
        data = csv_gz_bytes(tables[name])
        _write(out / f"{name}.csv.gz", data)
        files[f"{name}.csv.gz"] = {
            "rows": len(tables[name]),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    version = {
        "package": package_json.get("name", PACKAGE),
        "version": package_json["version"],
        "integrity": integrity,
        "license": {
            "code": package_json.get("license", ""),
            "data": "Licence Ouverte / Open Licence (Etalab)",
        },
        "repository": package_json.get("repository", ""),
        "scope": "France métropolitaine et DROM (zones " + ", ".join(ZONES) + ")",
        "files": files,
    }
    text = json.dumps(version, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    _write(out / "VERSION.json", text.encode("utf-8"))
    return version


def build(tarball: Path, out: Path) -> dict[str, Any]:
    """Read ``tarball``, write the reference into ``out``; return the VERSION content."""
    package = read_package(tarball)
    tables = build_tables(package)
    return write_reference(tables, package["package"], integrity_of(tarball), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", help=f"version of {PACKAGE} (default: the latest)")
    parser.add_argument("--tarball", type=Path, help="an already downloaded npm tarball")
    parser.add_argument("--out", type=Path, default=OUT, help="output directory")
    args = parser.parse_args(argv)
    try:
        if args.tarball:
            version = build(args.tarball, args.out)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                version = build(fetch_tarball(args.version, Path(tmp)), args.out)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{version['package']}@{version['version']} → {args.out}")
    for name, info in version["files"].items():
        size = (args.out / name).stat().st_size
        print(f"  {name}: {info['rows']} rows, {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a chapter notebook calls: one call per sentence, figure or table.

A notebook opens its chapter once::

    r = report.chapter("motivations", edition=edition, data_path=data_path, ...)

which reads the processed dataset (never the raw export) and computes every estimate of the
edition once, restricted to the chapter's ``scope``. Then each call displays one thing:

- ``r.sentence(template, qid, option, ...)``: a French sentence whose numbers come from the
  computation (``{pct}``, ``{wpct}``, ``{n}``, ``{base}``, ``{count}``, ``{ci}``);
- ``r.figure(qid)``: the question's chart (type chosen from the codebook) for the whole sample;
- ``r.by_stratum(qid, option)``: one answer's share across strata;
- ``r.table(qid)``: the breakdown by stratum, as a Markdown table with its bases;
- ``r.evolution(qid)``: the comparison with the previous edition, when the question existed.

Figures are displayed as PNG with their caption and alt text in the output's metadata
(``barometre``): the execution engine writes them into the cell's ``#| fig-cap`` and
``#| fig-alt`` options of the executed notebook, so Quarto and the embedded renderer show the
data-dependent caption (with its base) and a real alternative text.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import fmt
from .strata import GROUPS, LABELS, STRATA
from .tables import show_table

SOURCE = "Baromètre de la data dans les territoires"
#: Commune size classes are too small for a table column of their own (figures: by_stratum).
TABLE_SKIPPED_GROUPS = (
    "commune_lt_3500",
    "commune_3500_10000",
    "commune_10000_100000",
    "commune_ge_100000",
)
#: Output metadata key read by the execution engine (figure caption and alt text).
META_KEY = "barometre"


class ReportError(ValueError):
    """A chapter asked for something the data or the codebook does not have."""


def _display_markdown(text: str) -> None:
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)


def scope_strata(scope: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
    """Strata covered by a ``scope`` parameter: ``["all"]``, strata codes or group names."""
    if scope is None or scope == "all" or list(scope) == ["all"]:
        return STRATA
    items = [scope] if isinstance(scope, str) else list(scope)
    out: list[str] = []
    for s in items:
        if s in GROUPS:
            out.extend(GROUPS[s])
        else:
            raise ReportError(
                f"scope {s!r} is not a stratum or group; expected some of {list(GROUPS)}"
            )
    return tuple(s for s in STRATA if s in set(out))


class ChapterSections:
    """The introduction's and the notice technique's tables, figures and texts."""

    def key_figures(self) -> None:
        rows = []
        for r in key_figures_rows(self):
            ns = r["suppressed"]
            rows.append(
                [
                    fmt.cap(r["label"]),
                    fmt.SUPPRESSED if ns else fmt.pct(r["pct"]),
                    fmt.SUPPRESSED if ns or r["wpct"] is None else fmt.pct(r["wpct"]),
                    fmt.num(r["n"]),
                ]
            )
        md = _markdown_table(
            ["Part des structures qui…", "Non pondéré", "Pondéré", "Base (n)"], rows, "lrrr"
        )
        show_table(md, f"Chiffres clés de l'édition {self.edition}", "tbl-chiffres-cles")

    def composition(self) -> None:
        """Respondents per stratum against the national frame (and the previous edition)."""
        from .reference import load_frame

        frame = load_frame(self.edition)
        counts = self.data["stratum"].value_counts()
        n = max(len(self.data), 1)
        in_scope = {s: frame.counts[s] for s in self.scope if frame.counts.get(s)}
        frame_total = sum(in_scope.values()) or 1
        prev = self.previous_composition()
        header = [
            "Strate",
            "Répondants",
            "Part de l'échantillon",
            "Collectivités (France)",
            "Part de la population",
        ]
        if prev is not None:
            header.insert(2, f"Répondants {self.previous_edition}")
        rows = []
        for s in self.scope:
            c = int(counts.get(s, 0))
            f = in_scope.get(s)
            row = [
                LABELS[s],
                fmt.num(c),
                fmt.pct(100 * c / n),
                fmt.num(f) if f else "–",
                fmt.pct(100 * f / frame_total) if f else "–",
            ]
            if prev is not None:
                row.insert(2, prev.get(s, "–"))
            rows.append(row)
        total = [
            f"**{LABELS['ensemble']}**",
            f"**{fmt.num(len(self.data))}**",
            fmt.pct(100),
            fmt.num(sum(in_scope.values())),
            fmt.pct(100),
        ]
        if prev is not None:
            total.insert(2, prev.get("ensemble", "–") if list(self.scope) == list(STRATA) else "–")
        rows.append(total)
        md = _markdown_table(header, rows, "l" + "r" * (len(header) - 1))
        show_table(
            md,
            f"Répondants par strate et population nationale des collectivités (édition {self.edition})",
            "tbl-composition",
        )

    def previous_composition(self) -> dict[str, str] | None:
        if not self.previous_path:
            return None
        path = Path(self.previous_path)
        if path.suffix == ".parquet":
            from .dataset import load

            prev = load(path)
            vc = prev["stratum"].value_counts()
            out = {s: fmt.num(int(vc.get(s, 0))) for s in STRATA}
            out["ensemble"] = fmt.num(len(prev))
            return out
        from .aggregates import read_aggregates

        agg = read_aggregates(path)
        sizes = agg.groupby("stratum")["base_n"].max()
        out = {s: fmt.num(int(sizes[s])) for s in STRATA if s in sizes}
        if "epci_metropole" in sizes:
            out["epci"] = f"{fmt.num(int(sizes['epci_metropole']))} (avec métropoles)"
            out["metropole"] = "(avec EPCI)"
        if "ensemble" in sizes:
            out["ensemble"] = fmt.num(int(sizes["ensemble"]))
        return out

    def cleaning(self) -> None:
        c = self.meta.get("counts", {})
        dropped = c.get("dropped", {})
        labels = {
            "incomplete": "Réponses incomplètes (question « numérique responsable » non atteinte)",
            "duplicate_structure": "Doublons : autre réponse de la même structure (la plus complète est gardée)",
        }
        rows = [["Réponses exportées", fmt.num(c.get("rows_in", 0))]]
        rows += [[labels.get(k, k), "− " + fmt.num(v)] for k, v in sorted(dropped.items())]
        rows.append(["**Réponses analysées**", f"**{fmt.num(c.get('kept', 0))}**"])
        show_table(
            _markdown_table(["Étape", "Réponses"], rows, "lr"),
            "Du fichier exporté aux réponses analysées",
            "tbl-nettoyage",
        )

    def weights_table(self) -> None:
        from .reference import load_frame
        from .weights import diagnostics

        frame = load_frame(self.edition)
        full = self.data  # the respondents in scope
        rows = []
        diag = {
            m: diagnostics(full, f"weight_{m}").set_index("stratum")
            for m in ("observatoire", "frame")
        }
        for s in self.scope:
            if s not in diag["observatoire"].index or not diag["observatoire"].loc[s, "n"]:
                continue
            d0, d1 = diag["observatoire"].loc[s], diag["frame"].loc[s]
            rows.append(
                [
                    LABELS[s],
                    fmt.num(int(d0["n"])),
                    fmt.num(frame.counts.get(s, 0)) if frame.counts.get(s) else "–",
                    fmt.dec(d0["weight"], 3),
                    fmt.dec(d1["weight"], 2),
                ]
            )
        show_table(
            _markdown_table(
                [
                    "Strate",
                    "Répondants",
                    "Collectivités",
                    "Poids « observatoire »",
                    "Poids « population »",
                ],
                rows,
                "lrrrr",
            ),
            "Poids par strate selon la méthode de redressement",
            "tbl-poids",
        )
        rows = []
        for m, label in (
            ("observatoire", "Observatoire (série publiée)"),
            ("frame", "Population complète"),
        ):
            e = diag[m].loc["ensemble"]
            rows.append(
                [
                    label,
                    fmt.num(int(e["n_weighted"])),
                    fmt.dec(e["deff"], 2),
                    fmt.dec(e["n_eff"], 1),
                    f"{fmt.dec(e['weight_min'], 3)} – {fmt.dec(e['weight_max'], 2)}",
                ]
            )
        show_table(
            _markdown_table(
                [
                    "Méthode",
                    "Répondants pondérés",
                    "Effet de plan (Kish)",
                    "Taille effective",
                    "Poids min – max",
                ],
                rows,
                "lrrrr",
            ),
            "Diagnostic des pondérations",
            "tbl-diagnostic-poids",
        )

    def frame_text(self) -> str:
        from .reference import load_frame

        frame = load_frame(self.edition)
        if frame.reference:
            source = f"dénombrement du référentiel {frame.reference}"
        elif frame.source.startswith("published"):
            source = f"effectifs retenus par l'édition {frame.edition} publiée"
        else:
            source = frame.source
        in_scope = sum(frame.counts.get(s, 0) for s in self.scope)
        text = f"La population de référence compte {fmt.num(frame.total)} collectivités ({source})"
        if in_scope != frame.total:
            text += f", dont {fmt.num(in_scope)} dans le périmètre de ce rapport"
        return text + "."

    def composition_figure(self) -> None:
        from . import charts

        counts = self.data["stratum"].value_counts()
        strata = [s for s in self.scope]
        fig = charts.counts_bar(
            [LABELS[s] for s in strata],
            [int(counts.get(s, 0)) for s in strata],
            title="Répondants par strate",
            edition=self.edition,
            what="répondants",
        )
        cap = fmt.typo(
            f"Répondants analysés par strate, édition {self.edition} ; "
            f"source : {SOURCE} ; base : {fmt.num(self.n)} répondants."
        )
        self._show_figure(fig, cap, charts.alt_text(fig))

    def method_questionnaire(self) -> None:
        from .codebook import TABULATED

        cb = self.codebook
        tab = cb.of_type(*TABULATED)
        filtered = [q for q in tab if q.asked_if is not None]
        by_type = {t: len(cb.of_type(t)) for t in ("single", "multiple", "matrix", "ranking")}
        _display_markdown(
            f"Le codebook de l'édition {self.edition} (version {cb.version}) décrit "
            f"{fmt.num(len(cb.questions))} questions, dont {fmt.num(len(tab))} sont tabulées : "
            f"{by_type['single']} à choix unique, {by_type['multiple']} à choix multiples, "
            f"{by_type['matrix']} matrices et {by_type['ranking']} classement(s). "
            f"{fmt.num(len(filtered))} d'entre elles ne sont posées qu'à une partie des répondants ; "
            "les réponses libres ne sont pas tabulées et ne sont citées que délibérément."
        )

    def method_frame(self) -> None:
        _display_markdown(self.frame_text())
        self.composition()

    def method_weights(self) -> None:
        from .reference import load_frame

        frame = load_frame(self.edition)
        small = frame.counts.get("commune_lt_3500", 0)
        _display_markdown(
            "- **Pondération « observatoire »** (par défaut, celle des éditions publiées) : "
            "post-stratification sur les strates des communes de 3 500 habitants et plus, des EPCI, "
            "des métropoles, des départements et des régions. Les communes de moins de 3 500 "
            f"habitants ({fmt.num(small)} en France) et les structures « autres » n'ont pas de part "
            "dans cette population : leur poids est nul. **Le « pourcentage pondéré » décrit donc les "
            "collectivités autres que les petites communes**, pas l'ensemble des collectivités.\n"
            "- **Pondération « population complète »** : la même post-stratification sur toutes les "
            "strates, petites communes comprises (« autre » exclu). Les petites communes, très "
            "nombreuses et peu représentées, y reçoivent un poids très élevé : l'effet de plan le "
            "montre. Elle décrit une autre population et n'est pas publiée par défaut.\n"
            "- **Choix multiples** : les éditions publiées rapportaient une part de *mentions* "
            "(les options sommaient à 100 %). Ce rapport donne la part des *répondants* qui ont coché "
            "chaque option : ces parts ne s'additionnent pas, et chacune se lit seule.\n"
            "- L'effet de plan de Kish mesure la perte de précision due à la pondération ; la taille "
            "effective est le nombre de répondants d'un échantillon aléatoire simple de même précision."
        )

    def method_precision(self) -> None:
        _display_markdown(
            "- **Base** : chaque pourcentage est calculé sur les répondants de la strate à qui la "
            "question a été posée, non-réponses comprises (« sans réponse » est une modalité à part "
            "entière), comme dans les tableaux publiés.\n"
            "- **Intervalle de confiance à 95 %** du pourcentage pondéré : intervalle de Wilson calculé "
            "sur la taille effective de Kish (adaptation de Korn et Graubard), qui reste dans [0 ; 100] "
            "et convient aux petits échantillons pondérés.\n"
            f"- **Secret statistique** : un pourcentage dont la base est inférieure à {self.min_base} "
            "répondants n'est pas publié (« n.s. ») ; il reste signalé dans les données ouvertes.\n"
            "- **Comparaisons entre éditions** : écart en points entre les deux pourcentages, test de "
            "comparaison de deux proportions au seuil de 5 % (★ : écart significatif). La base de "
            "comparaison usuelle est l'ensemble hors communes de moins de 3 500 habitants. Quand "
            "l'édition précédente n'est disponible que sous forme de tableaux publiés, les EPCI et les "
            "métropoles y sont regroupés."
        )

    def weights_figure(self) -> None:
        """Share of each stratum in the weighted total (default weights)."""
        from . import charts

        full = self.data  # the respondents in scope
        w = full.groupby("stratum", observed=False)["weight"].sum()
        total = float(w.sum()) or 1.0
        strata = [s for s in self.scope if s in w.index]
        fig = charts.counts_bar(
            [LABELS[s] for s in strata],
            [100 * float(w[s]) / total for s in strata],
            title="Part de chaque strate dans le total pondéré",
            edition=self.edition,
            what="répondants",
            value_fmt=fmt.pct,
            base=len(full),
        )
        cap = fmt.typo(
            "Part de chaque strate dans le total pondéré (pondération « observatoire »), "
            f"édition {self.edition} ; base : {fmt.num(len(full))} répondants."
        )
        self._show_figure(fig, cap, charts.alt_text(fig))

    def composition_comment(self) -> None:
        """How the sample departs from the population, from the figures (scope-aware)."""
        from .reference import load_frame

        frame = load_frame(self.edition)
        counts = self.data["stratum"].value_counts()
        in_scope = {s: frame.counts[s] for s in self.scope if frame.counts.get(s)}
        total_f, n = sum(in_scope.values()), max(len(self.data), 1)
        if not in_scope or total_f == 0:
            return
        ratio = {s: (counts.get(s, 0) / n) / (f / total_f) for s, f in in_scope.items()}
        under = [s for s, r in ratio.items() if r < 0.5]
        over = [s for s, r in ratio.items() if r > 2]
        parts = []
        if under:
            parts.append(
                "Strates sous-représentées parmi les répondants au regard de leur nombre en France : "
                + fmt.join_fr([lower_label(LABELS[s]) for s in under])
                + "."
            )
        if over:
            parts.append(
                "Strates sur-représentées (bien plus de répondants que leur poids dans la "
                "population) : " + fmt.join_fr([lower_label(LABELS[s]) for s in over]) + "."
            )
        text = (
            " ".join(parts) + " "
            if parts
            else "La répartition des répondants est proche de celle de la population. "
        )
        _display_markdown(
            fmt.typo(
                text
                + "C'est pourquoi chaque pourcentage est donné avec sa base, et qu'un pourcentage "
                "« pondéré » est aussi proposé (voir la notice technique)."
            )
        )


@dataclass
class Chapter(ChapterSections):
    name: str
    edition: int
    data_path: str
    previous_edition: int | None = None
    previous_path: str | None = None
    scope: tuple[str, ...] = STRATA
    min_base: int = 5
    _figures: int = field(default=0, repr=False)

    # -- data, loaded once ---------------------------------------------------------------------
    @cached_property
    def meta(self) -> dict:
        from .dataset import load_meta

        return load_meta(self.data_path)

    @cached_property
    def codebook(self):
        from . import codebook

        return codebook.load(self.edition)

    @cached_property
    def data(self):
        from .dataset import load

        df = load(self.data_path)
        return df[df["stratum"].isin(self.scope)].reset_index(drop=True)

    @cached_property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Groups tabulated: those with at least one stratum in scope, restricted to the scope."""
        out: dict[str, tuple[str, ...]] = {}
        for name, members in GROUPS.items():
            kept = tuple(m for m in members if m in self.scope)
            if kept and (name in ("ensemble",) or len(kept) == len(members)):
                out[name] = kept
        return out

    @cached_property
    def estimates(self):
        from .estimates import estimate_all

        return estimate_all(
            self.data, self.codebook, self.edition, groups=self.groups, min_base=self.min_base
        )

    @cached_property
    def comparison(self):
        """Comparison with the previous edition (None when there is none)."""
        if not self.previous_path or not self.previous_edition:
            return None
        import pandas as pd

        from . import codebook
        from .compare import COMPARISON_GROUPS, compare_editions, estimate_for_comparison
        from .estimates import estimate_question

        prev_cb = codebook.load(self.previous_edition)
        path = Path(self.previous_path)
        if path.suffix == ".parquet":
            from .dataset import load

            prev_df = load(path)
            prev_df = prev_df[prev_df["stratum"].isin(self.scope)]
            previous = estimate_for_comparison(prev_df, prev_cb, min_base=self.min_base)
        else:
            from .aggregates import read_aggregates

            previous = read_aggregates(path, prev_cb)
            previous = (
                previous[~previous.get("derived", False)] if "derived" in previous else previous
            )
        if list(self.scope) != list(STRATA):
            groups = [g for g in ("ensemble", "hors_communes_lt_3500") if g in self.groups]
            if path.suffix != ".parquet":
                return None  # a published table cannot be restricted to a scope
        else:
            groups = ["ensemble", "hors_communes_lt_3500"]
        questions = [
            q
            for q in self.codebook.of_type("single", "multiple", "matrix", "ranking")
            if q.previous is not None and (q.chapter == self.name or self.name == "contexte")
        ]
        if not questions:
            return None
        current = pd.concat(
            [
                estimate_question(
                    self.data,
                    q,
                    edition=self.edition,
                    groups=COMPARISON_GROUPS,
                    min_base=self.min_base,
                    weighted_groups=("ensemble", "hors_communes_lt_3500"),
                    codebook=self.codebook,
                )
                for q in questions
            ],
            ignore_index=True,
        )
        return compare_editions(
            current, previous, self.codebook, groups=groups, min_base=self.min_base
        )

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic"))

    @property
    def n(self) -> int:
        return int(len(self.data))

    def question(self, qid: str):
        try:
            return self.codebook[qid]
        except KeyError as exc:
            raise ReportError(str(exc)) from None

    def rows(self, qid: str, group: str = "ensemble"):
        est = self.estimates
        sub = est[(est["question_id"] == qid) & (est["stratum"] == group)]
        if sub.empty:
            raise ReportError(f"no estimates for question {qid!r} and group {group!r}")
        return sub

    # -- figures for prose ------------------------------------------------------------------------
    def value(
        self, qid: str, option: str | list[str], item: str = "", group: str = "ensemble"
    ) -> dict:
        """Figures of one option (or the sum of several) in one group, for a sentence."""
        sub = self.rows(qid, group)
        if item:
            sub = sub[sub["item"] == item]
        options = [option] if isinstance(option, str) else list(option)
        sel = sub[sub["option"].isin(options)]
        if len(sel) != len(options):
            known = sorted(set(sub["option"]))
            missing = [o for o in options if o not in set(sel["option"])]
            raise ReportError(
                f"question {qid!r}: option(s) {missing} unknown; expected some of {known}"
            )
        base = int(sel["base_n"].iloc[0])
        count = int(sel["count"].sum())
        pct = float(sel["pct"].sum())
        w = sel["weighted_pct"]
        wpct = float(w.sum()) if w.notna().all() and len(w) else None
        ci = None
        if len(sel) == 1 and wpct is not None and sel["ci_low"].notna().all():
            ci = (float(sel["ci_low"].iloc[0]), float(sel["ci_high"].iloc[0]))
        return {
            "pct": pct,
            "wpct": wpct,
            "n": base,
            "count": count,
            "ci": ci,
            "suppressed": bool(sel["suppressed"].any()),
            "group": group,
        }

    def sentence(
        self,
        template: str,
        qid: str,
        option: str | list[str],
        item: str = "",
        group: str = "ensemble",
    ) -> None:
        """Display a sentence whose figures come from the estimates.

        Placeholders: ``{pct}`` (unweighted share), ``{wpct}`` (weighted share), ``{ci}``
        (its 95 % interval), ``{n}`` / ``{base}`` (the base, "n = 191"), ``{count}``,
        ``{group}`` (the group's label). A suppressed figure is written "n.s.".
        """
        v = self.value(qid, option, item, group)
        _display_markdown(self.format(template, v))

    def format(self, template: str, v: dict) -> str:
        ns = v["suppressed"]
        fields = {
            "pct": fmt.SUPPRESSED if ns else fmt.pct(v["pct"]),
            "wpct": fmt.SUPPRESSED if ns or v["wpct"] is None else fmt.pct(v["wpct"]),
            "ci": fmt.ci(*v["ci"]) if v["ci"] else "",
            "n": fmt.num(v["n"]),
            "base": fmt.base(v["n"]),
            "count": fmt.num(v["count"]),
            "group": lower_label(LABELS.get(v["group"], v["group"])),
        }
        return fmt.typo(template.format(**fields))

    # -- figures and tables ----------------------------------------------------------------------
    def _show_figure(self, fig, cap: str, alt: str) -> None:
        from IPython.display import display

        from . import charts

        png = charts.to_bytes(fig, "png")
        display(
            {"image/png": base64.b64encode(png).decode(), "text/plain": alt},
            raw=True,
            metadata={META_KEY: {"fig-cap": cap, "fig-alt": alt}},
        )
        self._figures += 1

    def figure(
        self,
        qid: str,
        group: str = "ensemble",
        weighted: bool | None = None,
        title: str | None = None,
    ) -> None:
        """The question's chart for one group (weighted for the whole sample by default)."""
        from . import charts

        q = self.question(qid)
        w = (group == "ensemble") if weighted is None else weighted
        est = self.estimates
        if q.type in ("single", "multiple"):
            fig = charts.bar_options(est, qid, group=group, weighted=w, kind=q.type)
        elif q.type == "matrix":
            fig = charts.stacked_matrix(est, qid, group=group, weighted=w)
        elif q.type == "ranking":
            fig = charts.ranking(est, qid, group=group, weighted=w)
        else:
            raise ReportError(f"question {qid!r} ({q.type}) has no chart")
        self._show_figure(fig, charts.caption(fig, title), charts.alt_text(fig))

    def by_stratum(
        self, qid: str, option: str, item: str | None = None, title: str | None = None
    ) -> None:
        from . import charts

        groups = [g for g in self.groups if g not in ("commune",)]
        fig = charts.by_stratum(
            self.estimates, qid, option, item, groups=groups, weighted_total=True
        )
        self._show_figure(fig, charts.caption(fig, title), charts.alt_text(fig))

    def table(
        self, qid: str, option: str | None = None, item: str | None = None, title: str | None = None
    ) -> None:
        """Breakdown by stratum as a Markdown table with its bases.

        Matrices and rankings show one answer per row item (default: the matrix's first level,
        the share ranked first), so that the table fits a page.
        """
        from . import tables

        q = self.question(qid)
        if option is None and q.type == "matrix":
            option = q.options[0]
        elif option is None and q.type == "ranking":
            option = "rang 1"
        groups = [g for g in self.groups if g not in TABLE_SKIPPED_GROUPS]
        md = tables.stratum_table(self.estimates, qid, option, groups=groups, item=item)
        label = f"tbl-{qid.replace('_', '-')}" + (f"-{_slug(item)}" if item else "")
        if title is None and option is not None:
            title = f"{fmt.cap(_squash(q.text))} — part « {option} »"
        tables.show_table(md, tables.table_caption(self.estimates, qid, title), label)

    def evolution(
        self, qid: str, group: str = "hors_communes_lt_3500", title: str | None = None, **kw: Any
    ) -> None:
        """Comparison with the previous edition, or a sentence saying why there is none."""
        from . import charts

        q = self.question(qid)
        cmp = self.comparison
        if cmp is None or q.previous is None or cmp[cmp["question_id"] == qid].empty:
            why = (
                "la question n'était pas posée lors de l'édition précédente"
                if q.previous is None
                else "aucune édition précédente n'est disponible pour ce périmètre"
            )
            _display_markdown(f"*Pas de comparaison possible : {why}.*")
            return
        if group not in set(cmp["stratum"]):
            group = "ensemble"
        if q.type == "matrix" and "option" not in kw:
            # one level per row keeps the chart readable: the first one both editions share
            present = set(cmp[(cmp["question_id"] == qid) & (cmp["stratum"] == group)]["option"])
            kw["option"] = next((o for o in q.options if o in present), None)
        fig = charts.comparison(cmp, qid, group=group, current_edition=self.edition, **kw)
        self._show_figure(fig, charts.caption(fig, title), charts.alt_text(fig))

    # -- chapter furniture ----------------------------------------------------------------------
    def header(self) -> None:
        """The chapter's opening notice: synthetic data, scope and base."""
        parts = []
        if self.synthetic:
            parts.append(
                "::: {.callout-warning}\n**Données synthétiques** : ce chapitre est calculé sur "
                "des réponses simulées ; ses chiffres ne décrivent pas les collectivités.\n:::"
            )
        scope = (
            "l'ensemble des structures répondantes"
            if list(self.scope) == list(STRATA)
            else "les " + fmt.join_fr([lower_label(LABELS[s]) for s in self.scope])
        )
        parts.append(
            f"Périmètre : {scope} de l'édition {self.edition} ({fmt.base(self.n)} "
            "après nettoyage). Sauf mention contraire, les pourcentages sont donnés avec leur "
            "base ; « pondéré » signale un pourcentage redressé (voir la notice technique)."
        )
        _display_markdown("\n\n".join(parts))

    def footer(self) -> None:
        src = self.meta.get("source_name", "")
        text = f"Source : {SOURCE}, édition {self.edition} (`{src}`)."
        if self.synthetic:
            text = (
                "**Données synthétiques — chiffres fictifs, à des fins de démonstration.** " + text
            )
        _display_markdown("---\n\n" + text)


def lower_label(label: str) -> str:
    """Lower-case a label's first word unless it is an acronym ("EPCI", "OPSN")."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() else label[:1].lower() + label[1:]


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _slug(text: str) -> str:
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")[:30]


def chapter(
    name: str,
    *,
    edition: int,
    data_path: str,
    previous_edition: int | None = None,
    previous_path: str | None = None,
    scope: Any = ("all",),
    min_base: int = 5,
) -> Chapter:
    """Open a chapter: the processed dataset, the codebook and every estimate, once."""
    return Chapter(
        name=name,
        edition=int(edition),
        data_path=str(data_path),
        previous_edition=previous_edition,
        previous_path=previous_path,
        scope=scope_strata(scope),
        min_base=int(min_base),
    )


def caption_options(outputs: list[dict]) -> dict[str, str]:
    """The figure options carried by a cell's outputs (for the execution engine)."""
    for out in outputs:
        meta = out.get("metadata", {}).get(META_KEY)
        if isinstance(meta, dict):
            return {k: str(v) for k, v in meta.items() if k in ("fig-cap", "fig-alt")}
    return {}


def apply_caption_options(source: str, options: dict[str, str]) -> str:
    """Rewrite a cell's ``#| fig-cap`` / ``#| fig-alt`` lines with computed values."""
    if not options:
        return source
    lines = source.splitlines()
    n_opts = 0
    while n_opts < len(lines) and lines[n_opts].startswith("#|"):
        n_opts += 1
    head = [ln for ln in lines[:n_opts] if not any(ln.startswith(f"#| {k}:") for k in options)]
    head += [f"#| {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in options.items()]
    return "\n".join(head + lines[n_opts:])


# -- introduction ---------------------------------------------------------------------------------
#: Headline figures of the introduction: (question, option(s), item, French label).
KEY_FIGURES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "acculturation",
        ("Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",),
        "",
        "jugent insuffisant le niveau d’acculturation aux données",
    ),
    ("gouvernance_regles", ("Oui",), "", "ont défini des règles de gouvernance de la donnée"),
    ("charte_ethique", ("Oui",), "", "ont adopté une charte éthique de la donnée"),
    (
        "rgpd_conformite",
        ("Oui, tout à fait",),
        "",
        "se disent tout à fait en conformité avec le RGPD",
    ),
    (
        "opendata_obligations",
        ("Oui",),
        "",
        "jugent leurs services bien informés des obligations d’open data",
    ),
    (
        "hebergement",
        ("Sur des serveurs internes",),
        "",
        "hébergent leurs données surtout sur des serveurs internes",
    ),
    ("ia_projets", ("Oui",), "", "ont déjà mené des projets d’intelligence artificielle"),
    ("cyber_attaque_subie", ("Oui",), "", "ont déjà subi une cyberattaque importante"),
    (
        "numerique_responsable",
        ("Oui, et la stratégie a déjà été adoptée",),
        "",
        "ont adopté une stratégie numérique responsable",
    ),
    (
        "environnement_outil",
        ("Oui tout à fait : c’est un outil prioritaire",),
        "",
        "voient la donnée comme un outil prioritaire pour l’environnement",
    ),
)


def _markdown_table(header: list[str], rows: list[list[str]], align: str) -> str:
    """A pipe table; the first column gets three times the width of the others."""
    dashes = ["-" * (36 if i == 0 else 12) for i in range(len(align))]
    lines = [
        "| " + " | ".join(header) + " |",
        "|"
        + "|".join(f":{d}" if a == "l" else f"{d}:" for a, d in zip(align, dashes, strict=True))
        + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def key_figures_rows(ch: Chapter) -> list[dict]:
    """The introduction's headline figures (also used by the tests against the export)."""
    out = []
    for qid, options, item, label in KEY_FIGURES:
        if qid not in ch.codebook:
            continue
        q = ch.codebook[qid]
        opts = [o for o in options if o in q.options]
        if not opts:
            continue
        v = ch.value(qid, opts, item)
        out.append({"question_id": qid, "option": opts, "label": label, **v})
    return out

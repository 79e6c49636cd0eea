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

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from analysis.report import french as fmt
from analysis.report.captions import META_KEY
from analysis.report.narrative import Narrative
from analysis.report.sections import SOURCE, ChapterSections, display_markdown, lower_label
from analysis.survey.strata import GROUPS, LABELS, STRATA

#: Commune size classes are too small for a table column of their own (figures: by_stratum).
TABLE_SKIPPED_GROUPS = (
    "commune_lt_3500",
    "commune_3500_10000",
    "commune_10000_100000",
    "commune_ge_100000",
)


class ReportError(ValueError):
    """A chapter asked for something the data or the codebook does not have."""


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


@dataclass
class Chapter(Narrative, ChapterSections):
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
        from analysis.survey.processed import load_meta

        return load_meta(self.data_path)

    @cached_property
    def codebook(self):
        from analysis.survey import codebook

        return codebook.load(self.edition)

    @cached_property
    def data(self):
        from analysis.survey.processed import load

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
        from analysis.stats.estimates import estimate_all

        own = [q.id for q in self.codebook.questions if q.chapter == self.name]
        return estimate_all(
            self.data,
            self.codebook,
            self.edition,
            groups=self.groups,
            min_base=self.min_base,
            method="frame",  # design-based population estimates (docs/estimation.md)
            # a chapter estimates its own questions; the introduction and the notice (chapter
            # "contexte") and a name that is no codebook chapter, all of them
            questions=own if own and self.name != "contexte" else None,
        )

    @cached_property
    def comparison(self):
        """Comparison with the previous edition (None when there is none)."""
        if not self.previous_path or not self.previous_edition:
            return None
        import pandas as pd

        from analysis.stats.compare import (
            COMPARISON_GROUPS,
            compare_editions,
            estimate_for_comparison,
        )
        from analysis.stats.estimates import estimate_question
        from analysis.survey import codebook

        prev_cb = codebook.load(self.previous_edition)
        path = Path(self.previous_path)
        if path.suffix == ".parquet":
            from analysis.survey.processed import load

            prev_df = load(path)
            prev_df = prev_df[prev_df["stratum"].isin(self.scope)]
            previous = estimate_for_comparison(prev_df, prev_cb, min_base=self.min_base)
        else:
            from analysis.stats.published import read_aggregates

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
            if q.previous is not None
            and q.previous.comparable != "no"  # never drawn as an evolution
            and (q.chapter == self.name or self.name == "contexte")
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

    @property
    def too_small(self) -> bool:
        """Fewer respondents in scope than the smallest publishable base: every figure would
        be suppressed, so the chapter says so instead of drawing charts."""
        return self.n < self.min_base

    def too_small_notice(self) -> str:
        return fmt.typo(
            f"Échantillon trop petit pour publier : {fmt.base(self.n)} après nettoyage, moins "
            f"que le minimum de {fmt.num(self.min_base)} répondants qu'exige un pourcentage ; "
            "aucun chiffre n'est publié."
        )

    def _placeholder(self, qid: str, title: str | None = None) -> None:
        from analysis.report import charts

        q = self.question(qid)
        notice = self.too_small_notice()
        cap = fmt.typo(
            f"{_squash(title or q.text).rstrip(' :;,')} — non publié : échantillon trop petit "
            f"({fmt.base(self.n)})."
        )
        fig = charts.placeholder(notice, _squash(q.text))
        self._show_figure(fig, cap, f"Figure non publiée. {notice}")

    def question(self, qid: str):
        """The codebook's question; a chapter naming a question the edition does not ask fails
        with the question, the edition and what to do (the build adds notebook and cell)."""
        try:
            return self.codebook[qid]
        except KeyError:
            renamed = [q.id for q in self.codebook.questions if q.previous and q.previous.id == qid]
            hint = (
                f"it is now {renamed[0]!r}: name that id"
                if renamed
                else "remove this call from the chapter, or give the question's id in the "
                "edition's codebook"
            )
            where = self.codebook.path or f"the {self.edition} codebook"
            raise ReportError(
                f"question {qid!r} is not asked in edition {self.edition} ({where}) — {hint}"
            ) from None

    def rows(self, qid: str, group: str = "ensemble"):
        self.question(qid)
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
            # the publication rule (docs/estimation.md); a sum of options has no such flag
            "reliable": len(sel) == 1 and ("reliable" not in sel or bool(sel["reliable"].iloc[0])),
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
        display_markdown(self.format(template, v))

    def format(self, template: str, v: dict) -> str:
        ns = v["suppressed"]
        fields = {
            "pct": fmt.SUPPRESSED if ns else fmt.pct(v["pct"]),
            "wpct": fmt.SUPPRESSED if ns or v["wpct"] is None else fmt.pct(v["wpct"]),
            "ci": (
                fmt.ci(*v["ci"]) + ("" if v.get("reliable", True) else ", estimation non fiable")
            )
            if v["ci"]
            else "",
            "n": fmt.num(v["n"]),
            "base": fmt.base(v["n"]),
            "count": fmt.num(v["count"]),
            "group": lower_label(LABELS.get(v["group"], v["group"])),
        }
        return fmt.typo(template.format(**fields))

    # -- figures and tables ----------------------------------------------------------------------
    def _show_figure(self, fig, cap: str, alt: str) -> None:
        from IPython.display import display

        from analysis.report import charts

        # vector graphics (SVG, text drawn in the report's font) for the site and the PDF
        svg = charts.to_bytes(fig, "svg").decode("utf-8")
        display(
            {"image/svg+xml": svg, "text/plain": alt},
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
        """The question's chart for one group: shares of respondents (the report's one number)."""
        if self.too_small:
            self._placeholder(qid, title)
            return
        fig, cap = self.figure_of(qid, group, weighted, title)
        from analysis.report import charts

        self._show_figure(fig, cap, charts.alt_text(fig))

    def figure_of(
        self,
        qid: str,
        group: str = "ensemble",
        weighted: bool | None = None,
        title: str | None = None,
    ):
        """The question's chart and its short caption ("… Base : 191 structures répondantes.")."""
        from analysis.report import charts

        q = self.question(qid)
        w = False if weighted is None else weighted
        est = self.estimates
        if q.type in ("single", "multiple"):
            fig = charts.bar_options(est, qid, group=group, weighted=w, kind=q.type)
        elif q.type == "matrix":
            fig = charts.stacked_matrix(est, qid, group=group, weighted=w)
        elif q.type == "ranking":
            fig = charts.ranking(est, qid, group=group, weighted=w)
        else:
            raise ReportError(f"question {qid!r} ({q.type}) has no chart")
        return fig, self.short_caption(fig, qid, title)

    def short_caption(self, fig, qid: str, title: str | None = None) -> str:
        """A short caption: what is plotted, the base and who it is."""
        info = fig.barometre
        sub = self.rows(qid)
        base = int(sub["base_n"].max())
        what = {
            "bar_options": "Part des répondants ayant donné chaque réponse",
            "stacked_matrix": "Répartition des réponses pour chaque ligne",
            "ranking": "Part des répondants classant chaque élément en 1re (et en 1re ou 2e) position",
        }.get(info.get("chart"), "")
        if self.codebook[qid].type == "multiple":
            what = "Part des répondants ayant coché chaque réponse (plusieurs possibles)"
        who = _base_label(self, qid)
        text = f"{title or what}. Base : {fmt.num(base)} {who}."
        if info.get("weighted"):
            text += " Pourcentages pondérés."
        if info.get("suppressed"):
            text += " n.s. : effectif trop faible."
        return fmt.typo(text)

    def by_stratum(
        self, qid: str, option: str, item: str | None = None, title: str | None = None
    ) -> None:
        from analysis.report import charts

        self.question(qid)
        if self.too_small:
            return self._placeholder(qid, title)
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
        from analysis.report import tables

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
        from analysis.report import charts

        if self.too_small:
            return self._placeholder(qid, title)
        q = self.question(qid)
        cmp = self.comparison
        if cmp is None or q.previous is None or cmp[cmp["question_id"] == qid].empty:
            why = (
                "la question n'était pas posée lors de l'édition précédente"
                if q.previous is None
                else "aucune édition précédente n'est disponible pour ce périmètre"
            )
            display_markdown(f"*Pas de comparaison possible : {why}.*")
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
        if self.too_small:
            parts.append(f"::: {{.callout-important}}\n{self.too_small_notice()}\n:::")
        if self.synthetic:
            parts.append(
                "::: {.callout-warning}\n**Données synthétiques** : ce chapitre est calculé sur "
                "des réponses simulées ; ses chiffres ne décrivent pas les collectivités.\n:::"
            )
        if list(self.scope) != list(STRATA):  # a restricted report says so on every chapter
            parts.append(f"Périmètre : {self.scope_words()} ({fmt.base(self.n)}).")
        if parts:
            display_markdown("\n\n".join(parts))

    def scope_words(self) -> str:
        if list(self.scope) == list(STRATA):
            return "l'ensemble des structures répondantes"
        return "les " + fmt.join_fr([lower_label(LABELS[s]) for s in self.scope])

    def scope_paragraph(self) -> None:
        """The scope paragraph, once, in the introduction."""
        display_markdown(
            fmt.typo(
                f"Périmètre : {self.scope_words()} de l'édition {self.edition} "
                f"({fmt.base(self.n)} après nettoyage). Chaque chiffre du rapport est, sauf "
                "mention contraire, la part des structures répondantes qui ont donné une "
                "réponse, sa base nommée (« 38 % des 191 structures répondantes ») ; une "
                "estimation pour l'ensemble des collectivités n'est donnée que lorsqu'elle est "
                "fiable, avec son intervalle de confiance et la population qu'elle décrit."
            )
        )

    def footer(self) -> None:
        text = f"Source : {SOURCE}, édition {self.edition}."
        if self.synthetic:
            text = (
                "**Données synthétiques — chiffres fictifs, à des fins de démonstration.** " + text
            )
        display_markdown("---\n\n" + text)


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _base_label(ch: Chapter, qid: str) -> str:
    """Who a question's base counts: the finding's base, or the structures asked."""
    from analysis.report import findings

    for f in findings.FINDINGS:
        if f.question == qid:
            return f.base
    q = ch.codebook[qid]
    return "structures répondantes" if q.asked_if is None else "structures concernées"


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

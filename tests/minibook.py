"""A small book of the project's exact shape, written into a temporary directory for tests."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

QUARTO = """\
project:
  type: book
  output-dir: _book
lang: fr
book:
  title: "Livre d'essai"
  author: "Équipe de test"
  date: "2023"
  output-file: livre-essai
  chapters:
    - index.qmd
    - executed/01-un.ipynb
    - executed/02-deux.ipynb
execute:
  enabled: false
  echo: false
format:
  html: default
  typst:
    papersize: a4
"""

INDEX = """\
---
title: "Accueil"
---

Texte d'accueil du livre d'essai.

{{< include executed/_cover.md >}}
"""


def parameters_cell(**params):
    src = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = new_code_cell(src)
    cell.metadata["tags"] = ["parameters"]
    return cell


def chapter_one() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        parameters_cell(data_path="data/valeurs.json", label="essai"),
        new_markdown_cell("# Premier chapitre\n\nCe chapitre montre un tableau et une figure."),
        new_code_cell(
            "import json\n"
            "from IPython.display import Markdown, display\n"
            "valeurs = json.load(open(data_path, encoding='utf-8'))\n"
            "rows = '\\n'.join(f'| {k} | {v} % |' for k, v in valeurs.items())\n"
            "display(Markdown('| Réponse | Part |\\n|:--|--:|\\n' + rows + "
            "'\\n\\n: Parts des réponses {#tbl-parts}'))"
        ),
        new_markdown_cell("La @fig-barres reprend le @tbl-parts."),
        new_code_cell(
            "#| label: fig-barres\n"
            '#| fig-cap: "Parts des réponses (n = 42)"\n'
            '#| fig-alt: "Diagramme en barres des parts des réponses : Oui devance Non."\n'
            "import matplotlib\n"
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(4, 2))\n"
            "ax.barh(list(valeurs), list(valeurs.values()))\n"
            "plt.show()"
        ),
        new_code_cell("print(f'Paramètre : {label}')"),
    ]
    return nb


def chapter_two(fail: bool = False) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        parameters_cell(data_path="data/valeurs.json"),
        new_markdown_cell("# Deuxième chapitre\n\nUn chapitre sans figure."),
        new_code_cell("x = 1 + 1"),
    ]
    if fail:
        nb.cells.append(new_code_cell("raise ValueError('valeur attendue absente')"))
    return nb


def write_minibook(root: Path, fail: bool = False) -> Path:
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "analysis").mkdir(exist_ok=True)
    (root / "analysis" / "code.py").write_text("VERSION = 1\n", encoding="utf-8")
    (root / "executed").mkdir(exist_ok=True)
    (root / "executed" / "_cover.md").write_text("Données d'essai.\n", encoding="utf-8")
    (root / "_quarto.yml").write_text(QUARTO, encoding="utf-8")
    (root / "index.qmd").write_text(INDEX, encoding="utf-8")
    (root / "data" / "valeurs.json").write_text(
        json.dumps({"Oui": 61, "Non": 39}), encoding="utf-8"
    )
    nbformat.write(chapter_one(), root / "notebooks" / "01-un.ipynb")
    nbformat.write(chapter_two(fail), root / "notebooks" / "02-deux.ipynb")
    return root

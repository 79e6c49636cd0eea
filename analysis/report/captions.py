"""Computed figure captions and alt texts, written into the executed notebook's cells.

A chapter cell that draws a figure (``r.figure(...)``) knows its caption and alt text only once
the data are read (they name the base, the values). It puts them in its display output's
metadata under :data:`META_KEY`; after execution, :func:`apply_to_notebook` copies them into the
cell's ``#| fig-cap`` / ``#| fig-alt`` options, which Quarto and the embedded renderer read.

The build engine calls :func:`apply_to_notebook` as a post-processing hook on each executed
notebook without knowing what it does (:func:`analysis.build.execute.run`'s ``postprocess``).
"""

from __future__ import annotations

import json

#: Output metadata key holding the computed figure options.
META_KEY = "barometre"
#: The cell options a chapter may compute.
CAPTION_OPTIONS = ("fig-cap", "fig-alt")


def caption_options(outputs: list[dict]) -> dict[str, str]:
    """The figure options carried by a cell's outputs."""
    for out in outputs:
        meta = out.get("metadata", {}).get(META_KEY)
        if isinstance(meta, dict):
            return {k: str(v) for k, v in meta.items() if k in CAPTION_OPTIONS}
    return {}


def apply_caption_options(source: str, options: dict[str, str]) -> str:
    """Add the computed ``#| fig-cap`` / ``#| fig-alt`` lines a cell does not have.

    The researchers' captions win: an option written in the notebook is kept as written; a
    computed one only fills what is absent.
    """
    if not options:
        return source
    lines = source.splitlines()
    n_opts = 0
    while n_opts < len(lines) and lines[n_opts].startswith("#|"):
        n_opts += 1
    head = lines[:n_opts]
    written = {k for k in options if any(ln.startswith(f"#| {k}:") for ln in head)}
    head += [
        f"#| {k}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in options.items()
        if k not in written
    ]
    return "\n".join(head + lines[n_opts:])


def apply_to_notebook(nb: dict) -> None:
    """Write every code cell's computed caption options into its source (in place)."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        opts = caption_options(cell.get("outputs", []))
        if opts:
            src = cell["source"]
            src = "".join(src) if isinstance(src, list) else src
            cell["source"] = apply_caption_options(src, opts)

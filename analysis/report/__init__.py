"""What a chapter notebook calls: the chapter API (``report.chapter(...)``), its introduction and
notice sections, charts, Markdown tables, French formatting, computed captions.

May import: :mod:`analysis.stats`, :mod:`analysis.survey`, :mod:`analysis.fingerprint`.
Never build or cli.

``Chapter`` and ``chapter`` are loaded on first use, so that importing a light module of the
stage (e.g. :mod:`analysis.report.captions`, used by the build engine) does not load the
chapter API and its data libraries.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Chapter", "chapter"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from analysis.report import chapters

        return getattr(chapters, name)
    raise AttributeError(f"module 'analysis.report' has no attribute {name!r}")

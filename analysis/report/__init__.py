"""What a chapter notebook calls: the chapter API (``report.chapter(...)``), its introduction and
notice sections, charts, Markdown tables, French formatting, computed captions.

May import: :mod:`analysis.stats`, :mod:`analysis.survey`, :mod:`analysis.fingerprint`.
Never build or cli.
"""

from analysis.report.chapters import Chapter, chapter

__all__ = ["Chapter", "chapter"]

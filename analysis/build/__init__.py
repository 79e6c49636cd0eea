"""The build: ``prepare`` (export → processed dataset), notebook execution and its cache,
rendering (Quarto or the embedded pandoc + typst renderer), the book's configuration, output
writers and atomic file helpers.

May import every stage below it: report, stats, survey, fingerprint. Never cli.
"""

"""`barometre` works on the checkout it is run in, not on the one its package was installed from."""

from __future__ import annotations

from analysis.build.book import ROOT, project_root


def _checkout(path):
    (path / "notebooks").mkdir(parents=True)
    (path / "_quarto.yml").write_text("book: {}\n", encoding="utf-8")
    return path


def test_root_is_the_checkout_of_the_working_directory(tmp_path, monkeypatch):
    other = _checkout(tmp_path / "other-clone")
    (other / "notebooks" / "deep").mkdir()
    monkeypatch.chdir(other / "notebooks" / "deep")
    assert project_root() == other.resolve()
    assert project_root() != ROOT


def test_outside_any_checkout_the_package_checkout_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert project_root() == ROOT


def test_a_folder_with_only_quarto_yml_is_not_a_checkout(tmp_path):
    (tmp_path / "_quarto.yml").write_text("{}\n", encoding="utf-8")
    assert project_root(tmp_path) == ROOT

"""The parsed-YAML cache of the knowledge base: same result, refreshed on edits, optional."""

import shutil
from pathlib import Path

import pytest

from oncoresist.kb import _load
from oncoresist.kb._load import CACHE_ENV
from oncoresist.kb._load import _load as load_root

FIXTURE = Path(__file__).parents[1] / "interpret" / "kb_fixture"


@pytest.fixture
def root(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(FIXTURE, copy)
    return copy


def _summary(kb):
    return (sorted(kb.genes), sorted(kb.drugs), [a.id for a in kb.assertions],
            [a.assertion for a in kb.assertions])  # fmt: skip


def test_cached_load_equals_a_parse_and_skips_yaml(root, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    parsed = load_root(root, cached=False)
    first = load_root(root, cached=True)
    [cache_file] = (tmp_path / "cache").glob("kb-*.marshal")

    def no_yaml(*args):
        raise AssertionError("parsed YAML although the cache holds it")

    monkeypatch.setattr(_load, "_load_yaml", no_yaml)
    second = load_root(root, cached=True)
    assert _summary(second) == _summary(first) == _summary(parsed)
    assert list((tmp_path / "cache").glob("kb-*.marshal")) == [cache_file]


def test_an_edited_file_is_parsed_again(root, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    load_root(root, cached=True)
    gene_file = root / "genes" / "ALK.yaml"
    gene_file.write_text(gene_file.read_text().replace("name:", "name: edited", 1))
    kb = load_root(root, cached=True)
    assert kb.genes["ALK"].name.startswith("edited")
    assert len(list((tmp_path / "cache").glob("kb-*.marshal"))) == 1  # the old one removed


def test_a_corrupt_or_unwritable_cache_falls_back_to_parsing(root, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    load_root(root, cached=True)
    [cache_file] = (tmp_path / "cache").glob("kb-*.marshal")
    cache_file.write_bytes(b"not marshal data")
    assert "ALK" in load_root(root, cached=True).genes
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # a directory under a file
    assert "ALK" in load_root(root, cached=True).genes


def test_cache_can_be_turned_off(root, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_root(root, cached=True)
    assert not (tmp_path / "xdg").exists()


def test_no_home_directory_means_no_cache(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert _load._cache_dir() is None

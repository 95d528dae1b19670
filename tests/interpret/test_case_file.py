"""Case files: a misspelt key names itself, its line, the allowed keys and the closest."""

import pytest

from oncoresist._files import yaml_line
from oncoresist.errors import InputError
from oncoresist.interpret import read_case


def _write(tmp_path, text):
    path = tmp_path / "case.yaml"
    path.write_text(text)
    return path


def test_misspelt_key_is_named_with_its_line_and_the_allowed_keys(tmp_path):
    path = _write(tmp_path, "disease: NSCLC\nalterations: [EGFR L858R]\n\ndrug: [osimertinib]\n")
    with pytest.raises(InputError) as exc:
        read_case(path)
    error = exc.value
    assert (error.file, error.record, error.field) == (str(path), 4, "drug")
    assert "Extra inputs" not in error.message
    assert "unknown key 'drug' (did you mean drugs?)" in error.message
    assert "allowed keys are disease, alterations, phase, drugs, variants" in error.message


def test_every_unknown_key_is_listed(tmp_path):
    path = _write(tmp_path, "disese: NSCLC\nalterations: [EGFR L858R]\nbuidl: GRCh38\n")
    with pytest.raises(InputError) as exc:
        read_case(path)
    assert exc.value.record == 1
    assert "did you mean disease?" in exc.value.message
    assert "also unknown: buidl" in exc.value.message


def test_wrong_value_names_its_line(tmp_path):
    path = _write(tmp_path, "disease: NSCLC\nalterations: [EGFR L858R]\nphase:\n"
                            "  - [EGFR L858R, cis]\n")  # fmt: skip
    with pytest.raises(InputError) as exc:
        read_case(path)
    assert (exc.value.record, exc.value.field) == (3, "phase")
    assert exc.value.message.startswith("entry 1 must be")


def test_yaml_line_walks_keys_and_entries(tmp_path):
    path = _write(tmp_path, "a: 1\nb:\n  - x\n  - y\nc: {d: 2}\n")
    assert yaml_line(path, ("a",)) == 1
    assert yaml_line(path, ("b", 1)) == 4
    assert yaml_line(path, ("c", "d")) == 5
    assert yaml_line(path, ("zz",)) is None
    assert yaml_line(tmp_path / "missing.yaml", ("a",)) is None

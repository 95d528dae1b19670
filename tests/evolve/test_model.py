"""Model files: the bundled examples load, and every malformed model is a clear InputError."""

import numpy as np
import pytest
import yaml

from oncoresist.errors import InputError
from oncoresist.evolve.model import example_path, load_model, parse_model

EXAMPLES = ("egfr_nsclc", "braf_mek_melanoma", "mcrpc_abiraterone")


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_load(name):
    model = load_model(example_path(name))
    assert model.clones and model.references
    u = model.mutation_matrix()
    assert u.shape == (len(model.clones),) * 2
    assert np.all(u.sum(axis=1) < 1)


def test_mutation_by_sites():
    model = load_model(example_path("braf_mek_melanoma"))
    u = model.mutation_matrix()
    names = model.clone_names
    assert u[names.index("sensitive"), names.index("MEK_mut")] == pytest.approx(5e-9)


def base():
    return {
        "clones": [{"name": "S", "birth": 0.14, "death": 0.13, "initial": 1e6},
                   {"name": "R", "birth": 0.14, "death": 0.13}],
        "mutations": [{"from": "S", "to": "R", "rate": 1e-7}],
        "drugs": {"A": {"effects": [{"clone": "S", "acts_on": "death", "emax": 0.04, "ic50": 1}]}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["clones"][0].update(birth=-1), "clones.0.birth", "greater than or equal"),
        (lambda d: d["clones"][1].update(name="S"), None, "unique"),
        (lambda d: d["mutations"][0].update(to="X"), None, "unknown clone 'X'"),
        (lambda d: d["mutations"][0].update(rate=None), None, "either rate"),
        (lambda d: d["drugs"]["A"]["effects"][0].update(clone="Q"), None, "unknown clone 'Q'"),
        (lambda d: d["drugs"]["A"]["effects"][0].update(acts_on="birth", emax=2), None,
         "at most 1"),
        (lambda d: d.update(colour="red"), "colour", "Extra inputs"),
        (lambda d: d.update(competition={"carrying_capacity": [1], "matrix": [[1]]}), None,
         "2 capacities"),
    ],
)  # fmt: skip
def test_bad_models(change, field, words):
    data = base()
    change(data)
    with pytest.raises(InputError) as err:
        parse_model(data, source="m.yaml")
    assert words in str(err.value)
    assert err.value.file == "m.yaml"
    if field:
        assert err.value.field == field


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("clones: [\n  {name: S\n")
    with pytest.raises(InputError) as err:
        load_model(bad)
    assert err.value.record is not None
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(base()))
    assert load_model(good).clone_names == ["S", "R"]
    with pytest.raises(InputError, match="available"):
        example_path("nope")

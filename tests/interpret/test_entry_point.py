"""The documented Python entry point and verdict lookup (issue 18: traps a user met)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_oncoresist_interpret_can_be_called_twice_in_a_fresh_interpreter():
    """Importing the subpackage used to replace the function: the second call raised."""
    code = (
        "import oncoresist\n"
        "a = oncoresist.interpret(['BRAF V600E'], disease='MEL')\n"
        "b = oncoresist.interpret(['BRAF V600E'], disease='MEL')\n"
        "assert [d.drug for d in a.drugs] == [d.drug for d in b.drugs]\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"


def test_verdict_lookup_ignores_order_and_case():
    import oncoresist

    res = oncoresist.interpret(["BRAF V600E"], disease="MEL")
    one = res.verdict("dabrafenib + trametinib")
    assert res.verdict("Trametinib+Dabrafenib") is one
    assert res.verdict(" trametinib +  dabrafenib ") is one
    with pytest.raises(KeyError, match="no verdict for 'aspirin'; drugs: "):
        res.verdict("aspirin")


@pytest.mark.parametrize("text", ["FLT3-ITD", "FLT3 ITD", "flt3-itd"])
def test_flt3_itd_is_an_internal_tandem_duplication_not_a_fusion(text):
    """'FLT3-ITD', the common spelling, used to parse as a fusion FLT3::ITD (no verdicts)."""
    import oncoresist
    from oncoresist.variants import parse_alteration

    alt = parse_alteration(text)
    assert (alt.gene, alt.kind, alt.change) == ("FLT3", "indel", "ITD")
    res = oncoresist.interpret([text])
    assert res.verdict("gilteritinib").verdict == "sensitive"


def test_hyphenated_fusions_and_genes_still_parse():
    from oncoresist.variants import parse_alteration

    assert parse_alteration("BCR-ABL1").change == "BCR::ABL1"
    assert parse_alteration("NKX2-1 amplification").gene == "NKX2-1"


def test_unknown_phase_is_shown_in_the_table_and_the_tsv():
    """'[phase unknown: ...]' used to be swallowed as rich markup, and the TSV dropped it."""
    from typer.testing import CliRunner

    from oncoresist.cli import app

    runner = CliRunner()
    args = ["interpret", "-a", "EGFR L858R; EGFR T790M; EGFR C797S"]
    res = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "[phase unknown: cis resistant, trans sensitive]" in res.output
    res = runner.invoke(app, [*args, "--format", "tsv"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    header = lines[0].split("\t")
    phase = header.index("phase")
    assert any(
        line.split("\t")[phase] == "unknown: cis resistant, trans sensitive" for line in lines[1:]
    )

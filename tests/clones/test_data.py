from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from oncoresist.clones._data import (
    MutationData,
    expected_vaf,
    read_clonevol_table,
    read_mutations,
    to_frame,
    write_mutations,
)
from oncoresist.clones._simulate import simulate_clones
from oncoresist.errors import InputError

DATA = Path("/work/shared/data/clonal")
TRACERX = DATA / "pyclone_vi_tracerx" / "tracerx.tsv"
AML1 = DATA / "clonevol_aml1" / "aml1_variants.tsv"

HEADER = "mutation_id\tsample_id\tref_counts\talt_counts\tmajor_cn\tminor_cn\tnormal_cn"


def table(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "m.tsv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def small(tmp_path: Path) -> Path:
    return table(
        tmp_path,
        "m1\tR1\t90\t10\t1\t1\t2\t0.5\t0.001\tEGFR\tC797S",
        "m2\tR1\t50\t0\t2\t1\t2\t0.5\t0.001\tTP53\t",
        "m1\tR2\t60\t40\t2\t0\t2\t0.25\t0.001\tEGFR\tC797S",
        "m2\tR2\t70\t30\t2\t1\t2\t0.25\t0.001\t\t",
        header=HEADER + "\ttumour_content\terror_rate\tgene\talteration",
    )


def test_reads_pyclone_vi_table(tmp_path):
    data = read_mutations(small(tmp_path))
    assert data.mutations == ["m1", "m2"]
    assert data.samples == ["R1", "R2"]
    assert data.alt.tolist() == [[10, 40], [0, 30]]
    assert data.depth.tolist() == [[100, 100], [50, 100]]
    assert data.major_cn.tolist() == [[1, 2], [2, 2]]
    assert data.minor_cn.tolist() == [[1, 0], [1, 1]]
    assert data.normal_cn.tolist() == [[2, 2], [2, 2]]
    assert data.purity.tolist() == [0.5, 0.25]
    assert data.genes == ["EGFR", "TP53"]
    assert data.alterations == ["C797S", ""]
    assert data.times is None
    assert (data.n_mutations, data.n_samples) == (2, 2)
    # Zero alternative reads at a known depth is evidence, kept as it is.
    assert data.vaf[1, 0] == 0.0
    np.testing.assert_allclose(data.vaf, [[0.1, 0.4], [0.0, 0.3]])
    assert data.alt.dtype == np.int64
    assert not data.alt.flags.writeable


def test_absent_mutation_is_kept_with_depth_zero(tmp_path):
    path = table(
        tmp_path,
        "m1\tR1\t90\t10\t1\t1\t2",
        "m2\tR1\t80\t20\t2\t1\t2",
        "m1\tR2\t70\t30\t1\t1\t2",
    )
    data = read_mutations(path)
    assert data.depth.tolist() == [[100, 100], [100, 0]]
    assert data.alt[1, 1] == 0
    assert np.isnan(data.vaf[1, 1])
    # Copy numbers of the unsequenced cell are borrowed from the mutation's other sample.
    assert (data.major_cn[1, 1], data.minor_cn[1, 1]) == (2, 1)
    assert data.purity.tolist() == [1.0, 1.0]  # no tumour_content column: 1.0


def test_sample_order_first_appearance_time_and_sample_table(tmp_path):
    rows = ["m1\tB\t9\t1\t1\t1\t2\t30", "m1\tA\t9\t1\t1\t1\t2\t0", "m1\tC\t9\t1\t1\t1\t2\t60"]
    assert read_mutations(table(tmp_path, *(r.rsplit("\t", 1)[0] for r in rows))).samples == [
        "B",
        "A",
        "C",
    ]
    timed = read_mutations(table(tmp_path, *rows, header=HEADER + "\ttime", name="t.tsv"))
    assert timed.samples == ["A", "B", "C"]
    assert timed.times.tolist() == [0.0, 30.0, 60.0]
    sheet = tmp_path / "samples.csv"
    sheet.write_text("sample_id,purity\nC,0.3\nB,0.2\nA,0.1\n")
    ordered = read_mutations(
        table(tmp_path, *(r.rsplit("\t", 1)[0] for r in rows)), samples_path=sheet
    )
    assert ordered.samples == ["C", "B", "A"]
    assert ordered.purity.tolist() == [0.3, 0.2, 0.1]
    sheet.write_text("sample_id,time\nC,5\nB,7\nA,1\n")
    assert read_mutations(
        table(tmp_path, *(r.rsplit("\t", 1)[0] for r in rows)), samples_path=sheet
    ).samples == ["A", "C", "B"]


def test_csv_gzip_and_depth_column(tmp_path):
    text = "mutation_id,sample_id,depth,alt_counts,major_cn,minor_cn,normal_cn,purity\n"
    text += "m1,S1,100,10,1,1,2,0.6\n\nm1,S2,80,8.0,1,1,2,0.7\n"  # blank line skipped
    path = tmp_path / "m.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    data = read_mutations(path)
    assert data.depth.tolist() == [[100, 80]]
    assert data.alt.tolist() == [[10, 8]]
    assert data.purity.tolist() == [0.6, 0.7]


def test_identical_repeated_row_is_read_once(tmp_path):
    data = read_mutations(table(tmp_path, "m1\tR1\t90\t10\t1\t1\t2", "m1\tR1\t90\t10\t1\t1\t2"))
    assert data.depth.tolist() == [[100]]


BAD_ROWS = [
    # (rows after the header, extra header, line, field, words in the message)
    (["m1\tR1\t90\t10\t1\t1"], "", 2, "row", "6 tab-separated values"),
    (["m1\tR1\t90\t10.5\t1\t1\t2"], "", 2, "alt_counts", "'10.5'; expected a whole number"),
    (["m1\tR1\t90\t10\t1\t1\t2", "m2\tR1\t-3\t10\t1\t1\t2"], "", 3, "ref_counts", "'-3'"),
    (["m1\tR1\tx\t10\t1\t1\t2"], "", 2, "ref_counts", "'x'"),
    (["m1\tR1\t90\t10\t1\t2\t2"], "", 2, "major_cn", "major_cn 1 < minor_cn 2"),
    (["m1\tR1\t90\t10\t1\t1\t2.5"], "", 2, "normal_cn", "whole copy number"),
    (["\tR1\t90\t10\t1\t1\t2"], "", 2, "mutation_id", "empty"),
    (["m1\tR1\t90\t10\t1\t1\t2\t0"], "\ttumour_content", 2, "tumour_content", "(0, 1]"),
    (["m1\tR1\t90\t10\t1\t1\t2\t80"], "\tpurity", 2, "purity", "not a percent"),
    (
        ["m1\tR1\t90\t10\t1\t1\t2", "m1\tR1\t90\t11\t1\t1\t2"],
        "",
        3,
        "alt_counts",
        "values differ: alt_counts 11 here, 10 on line 2",
    ),
    (
        ["m1\tR1\t90\t10\t1\t1\t2", "m1\tR1\t90\t10\t2\t1\t2"],
        "",
        3,
        "major_cn",
        "copy numbers differ: major_cn 2 here, 1 on line 2",
    ),
    (
        ["m1\tR1\t90\t10\t1\t1\t2\t0.5", "m2\tR1\t90\t10\t1\t1\t2\t0.6"],
        "\ttumour_content",
        3,
        "tumour_content",
        "for sample 'R1', but 0.5 on line 2",
    ),
    (
        ["m1\tR1\t90\t10\t1\t1\t2\t0", "m2\tR1\t90\t10\t1\t1\t2\t5"],
        "\ttime",
        3,
        "time",
        "one value per sample",
    ),
    (
        ["m1\tR1\t90\t10\t1\t1\t2\tEGFR", "m1\tR2\t90\t10\t1\t1\t2\tKRAS"],
        "\tgene",
        3,
        "gene",
        "for mutation 'm1'",
    ),
    (["m1\tR1\t90\t10\t1\t1\t2\tsoon"], "\ttime", 2, "time", "expected a number (days)"),
]


@pytest.mark.parametrize(("rows", "extra", "line", "field", "words"), BAD_ROWS)
def test_bad_rows_name_line_and_field(tmp_path, rows, extra, line, field, words):
    path = table(tmp_path, *rows, header=HEADER + extra)
    with pytest.raises(InputError) as err:
        read_mutations(path)
    assert err.value.file == str(path)
    assert err.value.record == line
    assert err.value.field == field
    assert words in err.value.message


def test_alt_above_depth_says_both_numbers(tmp_path):
    path = table(
        tmp_path,
        "m1\tR1\t100\t10\t1\t1\t2",
        "m1\tR2\t100\t120\t1\t1\t2",
        header=HEADER.replace("ref_counts", "depth"),
    )
    with pytest.raises(InputError, match="120 alternative reads but depth 100") as err:
        read_mutations(path)
    assert (err.value.record, err.value.field) == (3, "alt_counts")


@pytest.mark.parametrize("column", ["mutation_id", "sample_id", "alt_counts", "normal_cn"])
def test_missing_column(tmp_path, column):
    header = "\t".join(c for c in HEADER.split("\t") if c != column)
    path = table(tmp_path, "\t".join(["1"] * 6), header=header)
    with pytest.raises(InputError, match="missing column") as err:
        read_mutations(path)
    assert (err.value.record, err.value.field) == (1, column)


def test_missing_ref_counts_and_depth(tmp_path):
    header = HEADER.replace("ref_counts\t", "")
    with pytest.raises(InputError) as err:
        read_mutations(table(tmp_path, "m1\tR1\t10\t1\t1\t2", header=header))
    assert err.value.field == "ref_counts"


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_mutations(tmp_path / "none.tsv")
    (tmp_path / "empty.tsv").write_text("\n")
    with pytest.raises(InputError, match="empty file"):
        read_mutations(tmp_path / "empty.tsv")


def test_sample_table_errors(tmp_path):
    path = table(tmp_path, "m1\tR1\t90\t10\t1\t1\t2", "m1\tR2\t90\t10\t1\t1\t2")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("sample_id\nR1\nR2\nR3\n")
    with pytest.raises(InputError, match="unknown sample 'R3'") as err:
        read_mutations(path, samples_path=sheet)
    assert (err.value.file, err.value.record, err.value.field) == (str(sheet), 4, "sample_id")
    sheet.write_text("sample_id\nR2\n")
    with pytest.raises(InputError, match="'R1' is not listed") as err:
        read_mutations(path, samples_path=sheet)
    assert (err.value.file, err.value.record) == (str(path), 2)
    sheet.write_text("sample_id\nR1\nR1\nR2\n")
    with pytest.raises(InputError, match="listed twice") as err:
        read_mutations(path, samples_path=sheet)
    assert err.value.record == 3


def test_sample_table_purity_must_agree(tmp_path):
    path = table(tmp_path, "m1\tR1\t90\t10\t1\t1\t2\t0.5", header=HEADER + "\ttumour_content")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("sample_id\tpurity\nR1\t0.4\n")
    with pytest.raises(InputError, match="expected the same value") as err:
        read_mutations(path, samples_path=sheet)
    assert (err.value.record, err.value.field) == (2, "purity")


@pytest.mark.parametrize("name", ["round.tsv", "round.csv", "round.tsv.gz"])
def test_round_trip(tmp_path, name):
    data, _ = simulate_clones(n_mutations=60, n_samples=3, missing_fraction=0.1, rng=2)
    genes = [f"G{i % 7}" if i % 3 else "" for i in range(60)]
    data = MutationData(
        mutations=data.mutations,
        samples=data.samples,
        alt=data.alt,
        depth=data.depth,
        major_cn=data.major_cn,
        minor_cn=data.minor_cn,
        normal_cn=data.normal_cn,
        purity=[0.7, 0.45, 0.123456789],
        genes=genes,
        alterations=["X1Y" if g else "" for g in genes],
        times=data.times,
    )
    frame = to_frame(data)
    assert list(frame.columns) == [
        "mutation_id",
        "sample_id",
        "ref_counts",
        "alt_counts",
        "major_cn",
        "minor_cn",
        "normal_cn",
        "tumour_content",
        "gene",
        "alteration",
        "time",
    ]
    assert len(frame) == 60 * 3
    write_mutations(data, tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind
    back = read_mutations(tmp_path / name)
    for field in ("mutations", "samples", "genes", "alterations"):
        assert getattr(back, field) == getattr(data, field)
    for field in ("alt", "depth", "major_cn", "minor_cn", "normal_cn", "purity", "times"):
        np.testing.assert_array_equal(getattr(back, field), getattr(data, field))


def test_mutation_data_checks():
    ok = {"alt": [[1, 2]], "depth": [[5, 5]], "major_cn": [[1, 1]], "minor_cn": [[1, 0]]}
    data = MutationData(["m1"], ["a", "b"], **ok)
    assert data.normal_cn.tolist() == [[2, 2]]
    assert data.purity.tolist() == [1.0, 1.0]
    with pytest.raises(InputError, match="shape") as err:
        MutationData(["m1"], ["a", "b"], **{**ok, "depth": [[5, 5, 5]]})
    assert err.value.field == "depth"
    with pytest.raises(InputError, match="3 alternative reads but depth 2") as err:
        MutationData(["m1"], ["a", "b"], **{**ok, "alt": [[1, 3]], "depth": [[5, 2]]})
    assert (err.value.record, err.value.field) == ("mutation 'm1', sample 'b'", "alt")
    with pytest.raises(InputError, match="major_cn 1 < minor_cn 2"):
        MutationData(["m1"], ["a", "b"], **{**ok, "minor_cn": [[1, 2]]})
    with pytest.raises(InputError, match=r"\(0, 1\]") as err:
        MutationData(["m1"], ["a", "b"], **ok, purity=[0.5, 1.2])
    assert err.value.record == "sample 'b'"
    with pytest.raises(InputError, match="backwards"):
        MutationData(["m1"], ["a", "b"], **ok, times=[5.0, 1.0])
    with pytest.raises(InputError, match="twice"):
        MutationData(["m1"], ["a", "a"], **ok)
    with pytest.raises(InputError, match="whole number"):
        MutationData(["m1"], ["a", "b"], **{**ok, "alt": [[1.5, 2.0]]})
    # major_cn 0 (no tumour copy) is allowed: such a cell simply carries no information.
    zero = MutationData(["m1"], ["a", "b"], **{**ok, "major_cn": [[0, 1]], "minor_cn": [[0, 0]]})
    assert expected_vaf(zero, np.array([1.0]))[0, 0] == 0.0


def test_expected_vaf_by_hand():
    """purity 0.8, CCF 0.5: 1/1 diploid, m = 1: 0.8 * 0.5 / (0.8 * 2 + 0.2 * 2) = 0.2;
    2/1 gain, m = 2: 0.8 * 0.5 * 2 / (0.8 * 3 + 0.2 * 2) = 0.8 / 2.8."""
    data = MutationData(
        ["m1", "m2"],
        ["s"],
        alt=[[0], [0]],
        depth=[[1], [1]],
        major_cn=[[1], [2]],
        minor_cn=[[1], [1]],
        purity=0.8,
    )
    vaf = expected_vaf(data, np.array([0.5, 0.5]), np.array([1, 2]))
    np.testing.assert_allclose(vaf[:, 0], [0.2, 0.8 / 2.8])


@pytest.mark.skipif(not TRACERX.exists(), reason="PyClone-VI TRACERx example not present")
def test_reads_real_pyclone_vi_tracerx_file():
    data = read_mutations(TRACERX)
    assert (data.n_mutations, data.n_samples) == (2458, 3)
    assert data.samples == ["R1", "R2", "R3"]
    np.testing.assert_array_equal(data.purity, [0.21, 0.14, 0.11])
    # 7,356 rows: 2,440 mutations in all three regions, 18 in two: 18 unsequenced cells.
    assert int((data.depth == 0).sum()) == 18
    assert set(np.unique(data.normal_cn)) == {1, 2}
    assert int(data.major_cn.max()) == 48


@pytest.mark.skipif(not AML1.exists(), reason="ClonEvol AML1 table not present")
def test_reads_clonevol_aml1():
    data, labels = read_clonevol_table(AML1)
    assert data.n_mutations == 378
    assert data.samples == ["P", "R"]
    assert np.bincount(labels)[1:].tolist() == [305, 4, 3, 3, 63]
    assert data.genes[:2] == ["SMC3", "PTPRT"]
    assert sorted(g for g in data.genes if g) == ["ETV6", "MYO18B", "PTPRT", "SMC3"]
    # First row: SMC3, P ref 3027 var 2611, R ref 2035 var 1990.
    assert data.alt[0].tolist() == [2611, 1990]
    assert data.depth[0].tolist() == [5638, 4025]
    # Rows with an empty count have depth 0: 5 in P, 7 in R; cluster 2 has no counts at all.
    assert (data.depth == 0).sum(axis=0).tolist() == [5, 7]
    assert (data.depth[labels == 2] == 0).all()
    assert data.purity.tolist() == [1.0, 1.0]
    assert (data.total_cn == 2).all()


def test_clonevol_errors(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text("gene\tP.ref.count\tP.var.count\nA\t1\t2\n")
    with pytest.raises(InputError, match="missing column") as err:
        read_clonevol_table(path)
    assert err.value.field == "cluster"
    path.write_text("cluster\tP.vaf\n1\t3\n")
    with pytest.raises(InputError, match="no read-count columns"):
        read_clonevol_table(path)
    path.write_text("cluster\tP.ref.count\tP.var.count\n1\t10\t2\n1.5\t3\t4\n")
    with pytest.raises(InputError, match="whole cluster") as err:
        read_clonevol_table(path)
    assert (err.value.record, err.value.field) == (3, "cluster")
    path.write_text("cluster\tP.ref.count\tP.var.count\n1\t10\t2\n2\t3\t-4\n")
    with pytest.raises(InputError, match="'-4'") as err:
        read_clonevol_table(path)
    assert (err.value.record, err.value.field) == (3, "P.var.count")

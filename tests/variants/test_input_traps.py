"""Input traps of issue 18: what used to be misread in silence is now read right or refused."""

import pytest

from oncoresist.errors import InputError
from oncoresist.variants import parse_alteration, read_table


# ------------------------------------------------------------ header-only tables
def test_header_only_table_is_refused_naming_the_file(write_text):
    path = write_text("empty.csv", "gene,alteration,vaf\n\n")
    with pytest.raises(InputError) as exc:
        list(read_table(path))
    assert "no records" in str(exc.value)
    assert (exc.value.file, exc.value.record, exc.value.field) == (str(path), 1, "rows")


def test_header_only_parquet_is_refused(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"gene": pd.Series([], dtype=str), "alteration": pd.Series([], dtype=str)}
                 ).to_parquet(path)  # fmt: skip
    with pytest.raises(InputError, match="no records"):
        list(read_table(path))


# ------------------------------------------------- decimal commas with ';' separators
def test_european_file_reads_thousands_points_and_decimal_commas(write_text):
    text = "gene;alteration;depth;alt_reads;vaf\nEGFR;L858R;1.000;250;0,25\nEGFR;T790M;2.500;100;\n"
    found = list(read_table(write_text("eu.csv", text)))
    assert [(a.depth, a.alt_reads) for a in found] == [(1000, 250), (2500, 100)]
    assert found[0].vaf == 0.25 and found[1].vaf == pytest.approx(0.04)


def test_thousands_point_with_a_decimal_comma(write_text):
    text = "gene;alteration;vaf_pct;depth\nEGFR;L858R;12,5;1.200\n"
    [found] = read_table(write_text("eu.csv", text))
    assert found.depth == 1200 and found.vaf == pytest.approx(0.125)


def test_point_decimal_file_with_semicolons_keeps_points(write_text):
    text = "gene;alteration;vaf;depth\nEGFR;L858R;0.25;1.000\n"
    [found] = read_table(write_text("pt.csv", text))
    assert found.depth == 1  # the file writes decimal points, so 1.000 is one


def test_ambiguous_number_is_refused_with_its_line_and_column(write_text):
    text = "gene;alteration;depth;alt_reads\nEGFR;L858R;200;20\nEGFR;T790M;1.000;250\n"
    path = write_text("amb.csv", text)
    with pytest.raises(InputError) as exc:
        list(read_table(path))
    assert (exc.value.file, exc.value.record, exc.value.field) == (str(path), 3, "depth")
    assert "ambiguous" in exc.value.message and "1000" in exc.value.message


def test_comma_separated_files_are_unchanged(write_text):
    [found] = read_table(write_text("c.csv", "gene,alteration,depth\nEGFR,L858R,1.000\n"))
    assert found.depth == 1


# ------------------------------------------------------------- did you mean (genes)
def test_misspelt_gene_in_an_alteration_is_suggested():
    with pytest.raises(InputError) as exc:
        parse_alteration("EGRF L858R")
    assert "did you mean EGFR" in str(exc.value)
    with pytest.raises(InputError, match="did you mean TP53"):
        parse_alteration("TP35 R273H")


def test_misspelt_gene_column_is_suggested(write_text):
    with pytest.raises(InputError) as exc:
        list(read_table(write_text("g.csv", "gene,alteration\nEGFR,L858R\nKRSA,G12C\n")))
    assert "did you mean KRAS" in str(exc.value)
    assert (exc.value.record, exc.value.field) == (3, "gene")


def test_serial_ctdna_table_reads_a_thousands_point(write_text):
    from oncoresist.monitor import read_serial

    text = (
        "patient_id;sample_id;collection_date;gene;alteration;alt_reads;depth;tumor_fraction\n"
        "P1;S1;2024-01-05;EGFR;L858R;12;1.500;0,12\n"
        "P1;S2;2024-02-05;EGFR;L858R;3;2.000;0,05\n"
    )
    frame = read_serial(write_text("serial.csv", text))
    assert sorted(frame["depth"].tolist()) == [1500, 2000]
    assert frame["tumor_fraction"].tolist() == [0.12, 0.05]

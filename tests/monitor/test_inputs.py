"""Readers of the monitoring inputs: serial ctDNA, therapy lines, events, panel of normals."""

from __future__ import annotations

import datetime as dt
import gzip
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncoresist.errors import InputError, UnknownDrugError, UnknownGeneError
from oncoresist.monitor._inputs import (
    NORMAL_COLUMNS,
    SERIAL_COLUMNS,
    read_events,
    read_normals,
    read_serial,
    read_therapy,
)

SERIAL_HEADER = "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth"
THERAPY_HEADER = "patient_id,regimen,start_date,end_date,reason_stopped"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def serial(tmp_path: Path, *rows: str, header: str = SERIAL_HEADER) -> Path:
    return write(tmp_path, "serial.csv", "\n".join([header, *rows]) + "\n")


def therapy(tmp_path: Path, *rows: str, header: str = THERAPY_HEADER) -> Path:
    return write(tmp_path, "therapy.csv", "\n".join([header, *rows]) + "\n")


def located(exc: pytest.ExceptionInfo, path: Path, record: int | str, field: str) -> str:
    """Check where an InputError points; return its message for further checks."""
    error = exc.value
    assert isinstance(error, InputError)
    assert error.file == str(path)
    assert error.record == record
    assert error.field == field
    assert str(path) in str(error)
    return error.message


# ------------------------------------------------------------------------ good paths
def test_serial_csv(tmp_path):
    path = serial(
        tmp_path,
        "P2,B1,2021-02-01,EGFR,L858R,50,1000",
        "P1,A2,2021-03-01,HER1,p.Cys797Ser,3,2000",
        "P1,A1,2021-01-01,EGFR,EGFR T790M,10,1000",
        "P1,A1,2021-01-01,EGFR,L858R,40,1000",
        "P1,A1,2021-01-01,EGFR,T790M,10,1000",  # identical repeat: merged
        header="Patient_ID,SAMPLE_ID,Collection_Date,Gene,Alteration,Alt_Reads,Depth",
    )
    table = read_serial(path)
    assert list(table.columns) == list(SERIAL_COLUMNS)
    assert table[["patient_id", "sample_id", "alteration"]].values.tolist() == [
        ["P1", "A1", "EGFR L858R"],
        ["P1", "A1", "EGFR T790M"],
        ["P1", "A2", "EGFR C797S"],
        ["P2", "B1", "EGFR L858R"],
    ]
    assert str(table["collection_date"].dtype) == "datetime64[ns]"
    assert table["collection_date"].iloc[2] == pd.Timestamp("2021-03-01")
    assert table["alt_reads"].dtype == "int64" and table["depth"].dtype == "int64"
    assert table["alt_reads"].tolist() == [40, 10, 3, 50]
    assert table["gene"].unique().tolist() == ["EGFR"]
    assert table["unique_molecules"].isna().all() and table["cfdna_ng"].isna().all()
    assert table["build"].isna().all()


def test_serial_tsv_gz_with_optional_columns_bom_and_crlf(tmp_path):
    text = (
        "\ufeffpatient_id\tsample_id\tcollection_date\tgene\talteration\talt_reads\tdepth\t"
        "unique_molecules\tcfDNA_ng\ttumor_fraction\tvaf\r\n"
        "P1\tS1\t2021-01-05\tEGFR\tT790M\t12\t3000\t1500\t20.5\t0.05\t0.004\r\n"
        "P1\tS1\t2021-01-05\tMET\tamplification\t0\t3000\t\t20.5\t\t\r\n"
    )
    table = read_serial(write(tmp_path, "serial.tsv.gz", text))
    assert table["alteration"].tolist() == ["EGFR T790M", "MET amplification"]
    assert table["unique_molecules"].tolist()[0] == 1500
    assert pd.isna(table["unique_molecules"].iloc[1])
    assert table["cfdna_ng"].tolist() == [20.5, 20.5]
    assert table["tumor_fraction"].iloc[0] == 0.05


def test_serial_parquet(tmp_path):
    path = tmp_path / "serial.parquet"
    pd.DataFrame(
        {
            "Patient_ID": ["P1", "P1"],
            "sample_id": ["S2", "S1"],
            "collection_date": [dt.date(2021, 4, 1), dt.date(2021, 1, 1)],
            "gene": ["EGFR", "EGFR"],
            "alteration": ["C797S", "T790M"],
            "alt_reads": [4, 9],
            "depth": [1000.0, 900.0],
            "tumor_fraction": [float("nan"), 0.02],
        }
    ).to_parquet(path)
    table = read_serial(path)
    assert table["sample_id"].tolist() == ["S1", "S2"]
    assert table["collection_date"].tolist() == [
        pd.Timestamp("2021-01-01"),
        pd.Timestamp("2021-04-01"),
    ]
    assert table["depth"].tolist() == [900, 1000]
    assert table["tumor_fraction"].iloc[0] == 0.02


def test_serial_chr_prefixed_coordinates_match_the_knowledge_base(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,chr7,55249071,c,t,hg19,7,700",
        header="patient_id,sample_id,collection_date,chrom,pos,ref,alt,build,alt_reads,depth",
    )
    [row] = read_serial(path).to_dict("records")
    assert (row["gene"], row["alteration"]) == ("EGFR", "EGFR T790M")
    assert (row["chrom"], row["pos"], row["ref"], row["alt"], row["build"]) == (
        "7",
        55249071,
        "C",
        "T",
        "GRCh37",
    )


def test_serial_coordinates_and_alteration_together(tmp_path):
    header = f"{SERIAL_HEADER},chrom,pos,ref,alt,build"
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10,7,55249071,C,T,GRCh37", header=header)
    assert read_serial(path)["alteration"].tolist() == ["EGFR T790M"]
    bad = serial(tmp_path, "P1,S1,2021-01-01,EGFR,C797S,1,10,7,55249071,C,T,GRCh37", header=header)
    with pytest.raises(InputError) as exc:
        read_serial(bad)
    assert "EGFR T790M" in located(exc, bad, 2, "alteration")


def test_serial_coordinates_unknown_to_the_knowledge_base(tmp_path):
    header = "patient_id,sample_id,collection_date,chrom,pos,ref,alt,build,alt_reads,depth"
    path = serial(tmp_path, "P1,S1,2021-01-01,7,55249071,C,T,GRCh38,1,10", header=header)
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 2, "pos")
    assert "GRCh37" in message and "build" in message


def test_therapy(tmp_path):
    path = therapy(
        tmp_path,
        "P1,Osimertinib+Savolitinib,2022-03-01,,",
        "P1,AZD9291,2021-01-01,2022-03-01,progression",
        "P2,erlotinib,2020-05-01,2020-09-30,toxicity",
        "P2,erlotinib,2020-05-01,2020-09-30,toxicity",  # identical repeat: merged
    )
    table = read_therapy(path)
    assert list(table.columns) == [
        "patient_id",
        "regimen",
        "start_date",
        "end_date",
        "reason_stopped",
    ]
    assert table["regimen"].tolist() == ["osimertinib", "osimertinib + savolitinib", "erlotinib"]
    assert str(table["end_date"].dtype) == "datetime64[ns]"
    assert pd.isna(table["end_date"].iloc[1])
    assert table["reason_stopped"].iloc[0] == "progression"
    assert pd.isna(table["reason_stopped"].iloc[1])


def test_therapy_without_end_date_column(tmp_path):
    path = therapy(tmp_path, "P1,osimertinib,2021-01-01", header="patient_id,regimen,start_date")
    table = read_therapy(path)
    assert pd.isna(table["end_date"].iloc[0])


def test_events(tmp_path):
    path = write(
        tmp_path,
        "events.tsv",
        "Patient_ID\tEvent\tDate\nP1\tProgression\t2022-02-20\n"
        "P1\tdeath\t2023-01-01\nP1\tProgression\t2022-02-20\n",
    )
    table = read_events(path)
    assert table.values.tolist() == [
        ["P1", "progression", pd.Timestamp("2022-02-20")],
        ["P1", "death", pd.Timestamp("2023-01-01")],
    ]
    assert str(table["date"].dtype) == "datetime64[ns]"


def test_normals(tmp_path):
    path = write(
        tmp_path,
        "pon.csv",
        "site,context,sample_id,alt_reads,depth\n"
        "EGFR p.Thr790Met,c>t@CpG,N1,1,5000\n"
        "chr7:55249071:c>t,C>T@CpG,N2,0,4000\n"
        "KRAS G12C,,N1,0,6000\n",
    )
    table = read_normals(path)
    assert list(table.columns) == list(NORMAL_COLUMNS)
    assert table[["site", "sample_id", "alt_reads", "depth"]].values.tolist() == [
        ["7:55249071:C>T", "N2", 0, 4000],
        ["EGFR T790M", "N1", 1, 5000],
        ["KRAS G12C", "N1", 0, 6000],
    ]
    assert table["context"].tolist()[:2] == ["C>T@CpG", "C>T@CpG"]
    assert pd.isna(table["context"].iloc[2])
    for column in ("alt_reads", "depth", "alt_molecules", "unique_molecules"):
        assert table[column].dtype == "Int64"
    assert table[["alt_molecules", "unique_molecules"]].isna().all().all()


def test_normals_without_context_column(tmp_path):
    path = write(tmp_path, "pon.csv", "site,sample_id,alt_reads,depth\nEGFR T790M,N1,0,10\n")
    assert read_normals(path)["context"].isna().all()


# --------------------------------------------------------------------- molecules
ALT_MOLECULE_ALIASES = (
    "alt_molecules", "unique_alt_molecules", "alt_unique_molecules", "mutant_molecules",
    "alt_umi", "umi_alt", "alt_families", "unique_alt", "Unique Alt-Molecules",
)  # fmt: skip
MOLECULE_DEPTH_ALIASES = (
    "unique_molecules", "molecules", "umi_molecules", "unique_depth", "molecule_depth",
    "depth_molecules", "total_molecules", "families", "umi_depth", "UMI Depth",
)  # fmt: skip


@pytest.mark.parametrize("alias", ALT_MOLECULE_ALIASES)
def test_alt_molecules_aliases(tmp_path, alias):
    path = serial(
        tmp_path, "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        header=f"{SERIAL_HEADER},{alias},unique_molecules",
    )  # fmt: skip
    [row] = read_serial(path).to_dict("records")
    assert (row["alt_molecules"], row["unique_molecules"]) == (5, 1500)


@pytest.mark.parametrize("alias", MOLECULE_DEPTH_ALIASES)
def test_unique_molecules_aliases(tmp_path, alias):
    path = serial(
        tmp_path, "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        header=f"{SERIAL_HEADER},alt_molecules,{alias}",
    )  # fmt: skip
    [row] = read_serial(path).to_dict("records")
    assert (row["alt_molecules"], row["unique_molecules"]) == (5, 1500)


def test_serial_with_reads_and_molecules(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        "P1,S1,2021-01-01,EGFR,L858R,40,3000,,1400",
        "P1,S2,2021-02-01,EGFR,T790M,0,2500,,",
        header=f"{SERIAL_HEADER},unique_alt_molecules,unique_molecules",
    )
    table = read_serial(path)
    assert list(table.columns) == list(SERIAL_COLUMNS)
    assert table["alt_molecules"].dtype == "Int64"
    assert table["unique_molecules"].dtype == "Int64"
    assert table["alt_molecules"].tolist() == [pd.NA, 5, pd.NA]
    assert table["unique_molecules"].tolist() == [1400, 1500, pd.NA]
    assert table["alt_reads"].tolist() == [40, 12, 0]


def test_molecule_only_serial_table(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,5,1500",
        "P1,S2,2021-02-01,EGFR,T790M,0,1400",
        header="patient_id,sample_id,collection_date,gene,alteration,mutant_molecules,families",
    )
    table = read_serial(path)
    assert list(table.columns) == list(SERIAL_COLUMNS)
    # the molecule counts stand in for the reads (docs/monitor_formats.md)
    assert table["alt_molecules"].tolist() == table["alt_reads"].tolist() == [5, 0]
    assert table["unique_molecules"].tolist() == table["depth"].tolist() == [1500, 1400]
    assert table["alt_reads"].dtype == "int64" and table["depth"].dtype == "int64"
    assert table["alt_molecules"].dtype == "Int64"


def test_molecule_only_serial_parquet(tmp_path):
    path = tmp_path / "serial.parquet"
    pd.DataFrame(
        {
            "patient_id": ["P1"],
            "sample_id": ["S1"],
            "collection_date": [dt.date(2021, 1, 1)],
            "gene": ["EGFR"],
            "alteration": ["T790M"],
            "alt_molecules": [3],
            "unique_molecules": [900.0],
        }
    ).to_parquet(path)
    [row] = read_serial(path).to_dict("records")
    assert (row["alt_reads"], row["depth"], row["alt_molecules"], row["unique_molecules"]) == (
        3, 900, 3, 900,
    )  # fmt: skip


def test_empty_alt_molecules_in_a_molecule_only_table(tmp_path):
    header = "patient_id,sample_id,collection_date,gene,alteration,alt_molecules,unique_molecules"
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,100", "P1,S2,2021-02-01,EGFR,T790M,,100",
                  header=header)  # fmt: skip
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "molecules" in located(exc, path, 3, "alt_molecules")


def test_alt_molecules_above_unique_molecules(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        "P1,S2,2021-02-01,EGFR,T790M,30,3000,21,20",
        header=f"{SERIAL_HEADER},alt_molecules,unique_molecules",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 3, "alt_molecules")
    assert "alt_molecules <= unique_molecules" in message and "21" in message


def test_alt_molecules_above_alt_reads(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,4,3000,5,1500",
        header=f"{SERIAL_HEADER},alt_molecules,unique_molecules",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "alt_molecules <= alt_reads" in located(exc, path, 2, "alt_molecules")


def test_unique_molecules_above_depth_without_alt_molecules(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,4,3000,,3001",
        header=f"{SERIAL_HEADER},alt_molecules,unique_molecules",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "unique_molecules <= depth" in located(exc, path, 2, "unique_molecules")


def test_alt_molecules_without_unique_molecules(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        "P1,S2,2021-02-01,EGFR,T790M,12,3000,5,",
        header=f"{SERIAL_HEADER},alt_molecules,unique_molecules",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 3, "unique_molecules")
    assert "alt_molecules" in message and "unique_molecules" in message
    # no unique_molecules column at all
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,12,3000,5",
                  header=f"{SERIAL_HEADER},alt_umi")  # fmt: skip
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 2, "unique_molecules")
    assert "alt_molecules" in message


def test_counts_missing_in_both_units(tmp_path):
    header = "patient_id,sample_id,collection_date,gene,alteration,alt_molecules"
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,5", header=header)
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 1, "alt_reads")
    assert "missing columns alt_reads, depth" in message
    assert "alt_molecules and unique_molecules" in message
    # one reads column is not enough, even beside both molecule columns
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,5,5,100",
                  header=f"{header},alt_reads,unique_molecules")  # fmt: skip
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 1, "depth")


def test_sample_variant_twice_with_different_molecules(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        "P1,S1,2021-01-01,EGFR,T790M,12,3000,5,1500",
        "P1,S1,2021-01-01,EGFR,T790M,12,3000,6,1500",
        header=f"{SERIAL_HEADER},alt_molecules,unique_molecules",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "alt_molecules 5 vs 6" in located(exc, path, 4, "alt_molecules")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.sampled_from(["", "0", "3", "40", "1000"])] * 4), min_size=1, max_size=5
    )
)
def test_parsed_counts_are_consistent(counts):
    rows = [f"P1,S{i},2021-01-{i + 1:02d},EGFR,T790M,{','.join(c)}" for i, c in enumerate(counts)]
    header = f"{SERIAL_HEADER},alt_molecules,unique_molecules"
    text = "\n".join([header, *rows]) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "t.csv", text)
        try:
            table = read_serial(path)
        except InputError as exc:
            assert exc.file == str(path) and exc.record is not None and exc.field is not None
            return
    given = table.dropna(subset=["alt_molecules"])
    assert (given["alt_molecules"] <= given["unique_molecules"]).all()
    assert (given["alt_molecules"] <= given["alt_reads"]).all()
    known = table.dropna(subset=["unique_molecules"])
    assert (known["unique_molecules"] <= known["depth"]).all()


def normals(tmp_path: Path, text: str) -> Path:
    return write(tmp_path, "pon.csv", text)


def test_normals_in_molecules(tmp_path):
    path = normals(
        tmp_path,
        "site,sample_id,UMI Alt,Unique Molecules\nEGFR T790M,N1,1,2000\nKRAS G12C,N1,0,2500\n",
    )
    table = read_normals(path)
    assert list(table.columns) == list(NORMAL_COLUMNS)
    assert table["alt_molecules"].tolist() == [1, 0]
    assert table["unique_molecules"].tolist() == [2000, 2500]
    assert table[["alt_reads", "depth"]].isna().all().all()
    assert table["unique_molecules"].dtype == "Int64"


def test_normals_in_reads_and_molecules(tmp_path):
    path = normals(
        tmp_path,
        "site,sample_id,alt_reads,depth,alt_molecules,unique_molecules\n"
        "EGFR T790M,N1,3,6000,1,2000\n",
    )
    [row] = read_normals(path).to_dict("records")
    assert [row[c] for c in NORMAL_COLUMNS[3:]] == [3, 6000, 1, 2000]
    bad = normals(
        tmp_path,
        "site,sample_id,alt_reads,depth,alt_molecules,unique_molecules\n"
        "EGFR T790M,N1,3,6000,4,2000\n",
    )
    with pytest.raises(InputError) as exc:
        read_normals(bad)
    assert "alt_molecules <= alt_reads" in located(exc, bad, 2, "alt_molecules")


def test_normals_with_gene_and_alteration_match_read_serial(tmp_path):
    changes = [("EGFR", "C797S"), ("EGFR", "p.C797S"), ("HER1", "p.Cys797Ser"),
               ("EGFR", "T790M"), ("KRAS", "G12C"), ("", "EGFR L858R")]  # fmt: skip
    pon = normals(
        tmp_path,
        "gene,alteration,sample_id,alt_reads,depth\n"
        + "".join(f"{g},{a},N{i},0,1000\n" for i, (g, a) in enumerate(changes)),
    )
    series = serial(tmp_path, *(f"P1,S{i},2021-01-01,{g},{a},0,1000" for i, (g, a) in
                                enumerate(changes)))  # fmt: skip
    by_sample = read_normals(pon).set_index("sample_id")["site"]
    expected = read_serial(series).set_index("sample_id")["alteration"]
    assert [by_sample[f"N{i}"] for i in range(len(changes))] == [
        expected[f"S{i}"] for i in range(len(changes))
    ]
    assert by_sample["N0"] == by_sample["N1"] == by_sample["N2"] == "EGFR C797S"


def test_normals_with_coordinates(tmp_path):
    path = normals(
        tmp_path,
        "chrom,pos,ref,alt,sample_id,alt_reads,depth\nchr7,55249071,c,t,N1,0,1000\n"
        "X,100,A,G,N1,0,1000\nchrM,5,A,G,N1,0,1000\n",
    )
    assert read_normals(path)["site"].tolist() == ["7:55249071:C>T", "MT:5:A>G", "X:100:A>G"]
    same = normals(tmp_path, "site,sample_id,alt_reads,depth\nchr7:55249071:c>t,N1,0,1000\n")
    assert read_normals(same)["site"].tolist() == ["7:55249071:C>T"]
    bad = normals(tmp_path, "chrom,pos,ref,alt,sample_id,alt_reads,depth\n7,,C,T,N1,0,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(bad)
    located(exc, bad, 2, "pos")
    bad = normals(tmp_path, "chrom,pos,ref,alt,sample_id,alt_reads,depth\nchrQ,5,C,T,N1,0,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(bad)
    located(exc, bad, 2, "chrom")


def test_normals_site_given_two_ways_or_none(tmp_path):
    header = "site,gene,alteration,chrom,pos,ref,alt,sample_id,alt_reads,depth\n"
    path = normals(tmp_path, header + "EGFR T790M,,,,,,,N1,0,10\n,EGFR,T790M,7,5,C,T,N2,0,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    message = located(exc, path, 3, "chrom")
    assert "gene and alteration" in message and "one way per row" in message
    path = normals(tmp_path, header + "EGFR T790M,,,,,,,N1,0,10\n,,,,,,,N2,0,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    assert "no site" in located(exc, path, 3, "site")
    path = normals(tmp_path, header + ",EGFR,,,,,,N1,0,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    located(exc, path, 2, "alteration")


def test_mixed_panel_is_refused(tmp_path):
    path = normals(
        tmp_path,
        "site,sample_id,alt_reads,depth,alt_molecules,unique_molecules\n"
        "EGFR T790M,N1,1,5000,,\nEGFR T790M,N2,2,5000,,\nKRAS G12C,N1,,,0,2000\n",
    )
    with pytest.raises(InputError) as exc:
        read_normals(path)
    message = located(exc, path, 4, "alt_reads")
    assert "line 2" in message and "molecules (alt_molecules, unique_molecules)" in message
    assert "reads (alt_reads, depth)" in message


def test_normals_half_a_pair_or_no_counts(tmp_path):
    header = "site,sample_id,alt_reads,depth,alt_molecules,unique_molecules\n"
    path = normals(tmp_path, header + "EGFR T790M,N1,1,5000,1,\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    message = located(exc, path, 2, "unique_molecules")
    assert "alt_molecules is given without unique_molecules" in message
    path = normals(tmp_path, header + "EGFR T790M,N1,,,,\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    assert "no counts" in located(exc, path, 2, "alt_reads")


def test_normals_twice_with_different_molecules(tmp_path):
    path = normals(
        tmp_path,
        "site,sample_id,alt_molecules,unique_molecules\nEGFR T790M,N1,1,10\nEGFR T790M,N1,2,10\n",
    )
    with pytest.raises(InputError) as exc:
        read_normals(path)
    message = located(exc, path, 3, "alt_molecules")
    assert "1/10 molecules" in message and "2/10 molecules" in message


def test_normals_missing_site_columns(tmp_path):
    cases = [
        ("sample_id,alt_reads,depth\nN1,0,10\n", "site"),
        ("gene,sample_id,alt_reads,depth\nEGFR,N1,0,10\n", "alteration"),
        ("chrom,pos,sample_id,alt_reads,depth\n7,5,N1,0,10\n", "ref"),
        ("site,sample_id,alt_molecules\nEGFR T790M,N1,0\n", "alt_reads"),
    ]
    for text, field in cases:
        path = normals(tmp_path, text)
        with pytest.raises(InputError) as exc:
            read_normals(path)
        message = located(exc, path, 1, field)
        assert "gene and alteration" in message and "alt_molecules" in message


# ------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("yesterday", "not a date"),
        ("2021-02-30", "not a date in the calendar"),
        ("2021/03/04", "ISO"),
        ("44290", "serial number"),
    ],
)
def test_date_that_does_not_parse(tmp_path, value, words):
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10", f"P1,S2,{value},EGFR,T790M,1,10")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 3, "collection_date")
    assert words in message and "YYYY-MM-DD" in message


def test_ambiguous_date_asks_for_iso(tmp_path):
    path = serial(tmp_path, "P1,S1,03/04/2021,EGFR,T790M,1,10")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 2, "collection_date")
    assert "ambiguous" in message and "ISO date YYYY-MM-DD" in message


def test_non_iso_date_in_therapy_and_events(tmp_path):
    path = therapy(tmp_path, "P1,osimertinib,2021-01-01,13/02/2021,")
    with pytest.raises(InputError) as exc:
        read_therapy(path)
    assert "ISO" in located(exc, path, 2, "end_date")
    events = write(tmp_path, "e.csv", "patient_id,event,date\nP1,progression,1 March 2022\n")
    with pytest.raises(InputError) as exc:
        read_events(events)
    assert "YYYY-MM-DD" in located(exc, events, 2, "date")


# ----------------------------------------------------------------- VAF and counts
def test_vaf_in_percent(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,1,100,1.0",
        "P1,S2,2021-02-01,EGFR,T790M,5,100,5",
        header=f"{SERIAL_HEADER},vaf",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 3, "vaf")
    assert "percentage" in message and "fraction" in message and "0.05" in message


def test_tumor_fraction_in_percent(tmp_path):
    path = serial(
        tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,100,35", header=f"{SERIAL_HEADER},tumor_fraction"
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "fraction between 0 and 1" in located(exc, path, 2, "tumor_fraction")


def test_alt_reads_above_depth(tmp_path):
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,101,100")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "alt_reads <= depth" in located(exc, path, 2, "alt_reads")


@pytest.mark.parametrize(
    ("alt", "depth", "field"), [("-1", "100", "alt_reads"), ("1", "-100", "depth")]
)
def test_negative_counts(tmp_path, alt, depth, field):
    path = serial(tmp_path, f"P1,S1,2021-01-01,EGFR,T790M,{alt},{depth}")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "negative" in located(exc, path, 2, field)


@pytest.mark.parametrize(
    ("alt", "field"),
    [("2.5", "alt_reads"), ('"1,000"', "alt_reads"), ("many", "alt_reads"), ("", "alt_reads")],
)
def test_non_integer_counts(tmp_path, alt, field):
    path = serial(tmp_path, f"P1,S1,2021-01-01,EGFR,T790M,{alt},5000")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, field)


def test_negative_cfdna_and_unique_molecules_above_depth(tmp_path):
    header = f"{SERIAL_HEADER},unique_molecules,cfdna_ng"
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10,,-2", header=header)
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, "cfdna_ng")
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10,11,", header=header)
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, "unique_molecules")


def test_counts_in_normals(tmp_path):
    header = "site,sample_id,alt_reads,depth\n"
    path = write(tmp_path, "pon.csv", header + "EGFR T790M,N1,11,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    located(exc, path, 2, "alt_reads")
    path = write(tmp_path, "pon.csv", header + "EGFR T790M,N1,1,10.5\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    located(exc, path, 2, "depth")


# -------------------------------------------------------------------- duplicates
def test_sample_variant_twice_with_different_values(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,10,1000",
        "P1,S1,2021-01-01,EGFR,L858R,10,1000",
        "P1,S1,2021-01-01,EGFR,p.Thr790Met,11,1000",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 4, "alt_reads")
    assert "line 2" in message and "line 4" in message and "EGFR T790M" in message


def test_sample_with_two_collection_dates(tmp_path):
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10", "P1,S1,2021-01-02,EGFR,L858R,1,10")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 3, "collection_date")
    assert "2021-01-01 (line 2)" in message and "2021-01-02 (line 3)" in message


def test_sample_with_two_patients(tmp_path):
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10", "P2,S1,2021-01-01,EGFR,L858R,1,10")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 3, "patient_id")
    assert "P1" in message and "P2" in message


def test_sample_with_two_cfdna_inputs(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,1,10,5",
        "P1,S1,2021-01-01,EGFR,L858R,1,10,",
        "P1,S1,2021-01-01,EGFR,C797S,1,10,6",
        header=f"{SERIAL_HEADER},cfdna_ng",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 4, "cfdna_ng")


def test_normals_site_twice_with_different_counts(tmp_path):
    path = write(
        tmp_path,
        "pon.csv",
        "site,sample_id,alt_reads,depth\nEGFR T790M,N1,1,10\n"
        "EGFR T790M,N1,1,10\nEGFR p.T790M,N1,2,10\n",
    )
    with pytest.raises(InputError) as exc:
        read_normals(path)
    message = located(exc, path, 4, "alt_reads")
    assert "line 2" in message


# ------------------------------------------------------------------------- genes
def test_unknown_gene(tmp_path):
    path = serial(
        tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10", "P1,S1,2021-01-01,NOTAGENE,V1A,1,10"
    )
    with pytest.raises(UnknownGeneError) as exc:
        read_serial(path)
    assert "unknown gene 'NOTAGENE'" in located(exc, path, 3, "gene")


def test_spreadsheet_mangled_gene(tmp_path):
    path = serial(tmp_path, "P1,S1,2021-01-01,2-Sep,amplification,1,10")
    with pytest.raises(UnknownGeneError) as exc:
        read_serial(path)
    assert "spreadsheet" in located(exc, path, 2, "gene")


def test_unreadable_change_and_empty_variant(tmp_path):
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790MM,1,10")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, "alteration")
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,,1,10")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, "alteration")


def test_bad_site_in_normals(tmp_path):
    path = write(tmp_path, "pon.csv", "site,sample_id,alt_reads,depth\n7:55249071:C-T,N1,1,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    assert "CHROM:POS:REF>ALT" in located(exc, path, 2, "site")
    path = write(tmp_path, "pon.csv", "site,sample_id,alt_reads,depth\n2-Sep T1A,N1,1,10\n")
    with pytest.raises(InputError) as exc:
        read_normals(path)
    located(exc, path, 2, "site")


# ----------------------------------------------------------------------- therapy
def test_unknown_drug_in_regimen(tmp_path):
    path = therapy(tmp_path, "P1,osimertinib + wonderdrug,2021-01-01,,")
    with pytest.raises(UnknownDrugError) as exc:
        read_therapy(path)
    assert "wonderdrug" in located(exc, path, 2, "regimen")


def test_regimen_joined_by_slash_gets_a_hint(tmp_path):
    path = therapy(tmp_path, "P1,osimertinib/savolitinib,2021-01-01,,")
    with pytest.raises(UnknownDrugError) as exc:
        read_therapy(path)
    assert "'+'" in located(exc, path, 2, "regimen")


def test_overlapping_lines_name_both(tmp_path):
    path = therapy(
        tmp_path,
        "P1,osimertinib,2021-01-01,2021-12-31,progression",
        "P2,erlotinib,2021-01-01,,",
        "P1,savolitinib,2021-06-01,,",
    )
    with pytest.raises(InputError) as exc:
        read_therapy(path)
    message = located(exc, path, 4, "start_date")
    assert "line 2" in message and "line 4" in message
    assert "osimertinib" in message and "savolitinib" in message


def test_ongoing_line_followed_by_another(tmp_path):
    path = therapy(tmp_path, "P1,osimertinib,2021-01-01,,", "P1,erlotinib,2022-01-01,2022-06-01,")
    with pytest.raises(InputError) as exc:
        read_therapy(path)
    message = located(exc, path, 3, "start_date")
    assert "ongoing" in message and "line 2" in message


def test_end_date_before_start_date(tmp_path):
    path = therapy(tmp_path, "P1,osimertinib,2021-06-01,2021-05-01,")
    with pytest.raises(InputError) as exc:
        read_therapy(path)
    assert "before start_date" in located(exc, path, 2, "end_date")


# --------------------------------------------------------------------- structure
def test_missing_required_column(tmp_path):
    path = serial(
        tmp_path,
        "P1,S1,2021-01-01,EGFR,T790M,1",
        header="patient_id,sample_id,collection_date,gene,alteration,alt_reads",
    )
    with pytest.raises(InputError) as exc:
        read_serial(path)
    message = located(exc, path, 1, "depth")
    assert "found columns: patient_id, sample_id" in message
    assert "expected columns:" in message and "depth" in message


def test_missing_column_in_every_reader(tmp_path):
    cases = [
        (read_therapy, "patient_id,drug,start_date\nP1,osimertinib,2021-01-01\n", "regimen"),
        (read_events, "patient_id,event\nP1,progression\n", "date"),
        (read_normals, "site,sample_id,depth\nEGFR T790M,N1,10\n", "alt_reads"),
        (
            read_serial,
            "patient_id,sample_id,collection_date,gene,alt_reads,depth\nP,S,2021-01-01,EGFR,1,10\n",
            "alteration",
        ),
        (
            read_serial,
            "patient_id,sample_id,collection_date,chrom,pos,ref,alt,alt_reads,depth\n"
            "P,S,2021-01-01,7,1,C,T,1,10\n",
            "build",
        ),
    ]
    for reader, text, field in cases:
        path = write(tmp_path, "t.csv", text)
        with pytest.raises(InputError) as exc:
            reader(path)
        assert "found columns" in located(exc, path, 1, field)


def test_missing_column_in_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"patient_id": ["P1"], "event": ["progression"]}).to_parquet(path)
    with pytest.raises(InputError) as exc:
        read_events(path)
    located(exc, path, "schema", "date")


@pytest.mark.parametrize("reader", [read_serial, read_therapy, read_events, read_normals])
def test_empty_file(tmp_path, reader):
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(InputError) as exc:
        reader(path)
    assert "empty" in located(exc, path, 1, "header")


def test_header_only_and_comments_only(tmp_path):
    path = write(tmp_path, "t.csv.gz", SERIAL_HEADER + "\n\n")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "no data rows" in located(exc, path, 1, "rows")
    path = write(tmp_path, "t.csv", "# nothing yet\n\n")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, "header")


def test_error_in_parquet_names_the_row(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "event": ["progression", "death"],
            "date": ["2021-01-01", "2021-31-01"],
        }
    ).to_parquet(path)
    with pytest.raises(InputError) as exc:
        read_events(path)
    located(exc, path, "row 2", "date")


def test_not_utf8(tmp_path):
    path = write(
        tmp_path,
        "t.csv",
        (THERAPY_HEADER + "\nP1,osimertinib,2021-01-01,,r\xe9sistance\n").encode("latin-1"),
    )
    with pytest.raises(InputError) as exc:
        read_therapy(path)
    assert "UTF-8" in located(exc, path, 2, "encoding")


def test_vcf_given_as_serial_results(tmp_path):
    path = write(tmp_path, "t.vcf", "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    assert "VCF" in located(exc, path, 1, "format")


def test_too_many_values_on_a_line(tmp_path):
    path = serial(tmp_path, "P1,S1,2021-01-01,EGFR,T790M,1,10,extra")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 2, "row")


def test_problem_on_the_last_line_returns_nothing(tmp_path):
    rows = [f"P1,S{i},2021-01-{i:02d},EGFR,T790M,1,100" for i in range(1, 20)]
    path = serial(tmp_path, *rows, "P1,S99,2021-02-01,EGFR,T790M,1,-1")
    with pytest.raises(InputError) as exc:
        read_serial(path)
    located(exc, path, 21, "depth")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(
                [
                    "P1",
                    "S1",
                    "2021-01-01",
                    "03/04/2021",
                    "EGFR",
                    "T790M",
                    "2-Sep",
                    "-1",
                    "5",
                    "1.5",
                    "",
                    "x",
                    "100",
                ]
            ),
            min_size=5,
            max_size=8,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_serial_table_parses_or_raises_input_error(rows):
    text = "\n".join([SERIAL_HEADER, *(",".join(r) for r in rows)]) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "t.csv", text)
        try:
            table = read_serial(path)
        except InputError as exc:
            assert exc.file == str(path) and exc.record is not None and exc.field is not None
        else:
            assert list(table.columns) == list(SERIAL_COLUMNS)
            assert (table["alt_reads"] <= table["depth"]).all()

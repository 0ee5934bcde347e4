"""RawCSVDataset on real files: values as text, records indexed by the CSV line they start on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from future_skills_kedro.contract import RAW_LINE_INDEX
from future_skills_kedro.datasets import raw_csv
from future_skills_kedro.datasets.raw_csv import RawCSVDataset

HEADER = "skill_id,skill_name,skill_category"


def _load(tmp_path: Path, content: bytes | str, **kwargs):
    path = tmp_path / "skills.csv"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return RawCSVDataset(filepath=str(path), **kwargs).load()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_records_are_indexed_by_the_line_they_start_on(tmp_path, newline):
    lines = [
        HEADER,  # 1
        'S1,"Python',  # 2
        '(the language)",programming',  # 3
        "S2,SQL,data",  # 4
        "",  # 5: a blank line is a record
        'S3,"12"" rule',  # 6: escaped quote, then a value over three lines
        "",  # 7
        'of thumb",x',  # 8
        'S4,5" pipe,y',  # 9: a quote inside an unquoted value is text
        "S5,Go,z",  # 10, no line break at the end of the file
    ]
    raw = _load(tmp_path, newline.join(lines))
    assert raw.index.name == RAW_LINE_INDEX
    assert raw.index.tolist() == [2, 4, 5, 6, 9, 10]
    assert raw["skill_id"].tolist() == ["S1", "S2", "", "S3", "S4", "S5"]
    assert raw.loc[6, "skill_name"] == f'12" rule{newline}{newline}of thumb'
    assert raw.loc[9, "skill_name"] == '5" pipe'


def test_one_line_per_record_after_a_header_that_spans_two_lines(tmp_path):
    raw = _load(tmp_path, 'skill_id,"skill\nname",skill_category\nS1,a,b\nS2,c,d\n\n')
    assert raw.index.tolist() == [3, 4, 5]
    assert raw.iloc[2].tolist() == ["", "", ""]


def test_values_are_text_as_written_and_a_byte_order_mark_is_dropped(tmp_path):
    raw = _load(tmp_path, f"\ufeff{HEADER}\nNA,null,001\nS2,,\n")
    assert list(raw.columns) == HEADER.split(",")
    assert raw.values.tolist() == [["NA", "null", "001"], ["S2", "", ""]]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            f"{HEADER}\nS1,Python,programming\nS2,Café,data\n".encode("latin-1"),
            'skills.csv: line 3 is not valid UTF-8 text (byte 0xe9 in "S2,Caf\\xe9,data")',
        ),
        (
            # A line after a value spanning two lines: the line of the file, not the record.
            f'{HEADER}\nS1,"Python\nthe language",programming\nS2,Café,data\n'.encode("latin-1"),
            "skills.csv: line 4 is not valid UTF-8 text (byte 0xe9",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#",  # a spreadsheet (zip)
            'skills.csv: line 1 is not valid UTF-8 text (byte 0xb5 in "PK\\x03\\x04\\x14',
        ),
    ],
    ids=["latin-1 line", "after a two-line value", "binary"],
)
def test_bytes_that_are_not_utf8_fail_naming_file_and_line(tmp_path, content, expected):
    with pytest.raises(DatasetError) as error:
        _load(tmp_path, content)
    assert expected in str(error.value)
    assert "The raw files are UTF-8 CSV" in str(error.value)


def test_a_declared_encoding_is_used(tmp_path):
    raw = _load(
        tmp_path,
        f"{HEADER}\nS2,Café,data\n".encode("latin-1"),
        load_args={"encoding": "latin-1"},
    )
    assert raw["skill_name"].tolist() == ["Café"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # pandas says "Expected 3 fields in line 5": it counts records, not lines.
        (f'{HEADER}\nS1,"Python\nthe language",programming\n\nS2,SQL,data,x\n', "line 5 has 4"),
        # pandas would turn the first column into row labels and shift the others.
        (f"{HEADER}\nS1,Python,programming,x\nS2,SQL,data\n", "line 2 has 4"),
    ],
    ids=["later record", "first record"],
)
def test_record_with_more_fields_than_the_header_fails_naming_its_line(tmp_path, content, expected):
    with pytest.raises(DatasetError, match=rf"skills\.csv: {expected} fields, the header has 3"):
        _load(tmp_path, content)


@pytest.mark.parametrize(
    "load_args", [{"skiprows": [2]}, {"comment": "#"}, {"skip_blank_lines": True}]
)
def test_load_args_that_skip_lines_are_refused(load_args):
    with pytest.raises(ValueError, match=f"load_args {next(iter(load_args))} would skip lines"):
        RawCSVDataset(filepath="skills.csv", load_args=load_args)


PLAIN_FILES = {
    "LF": f"{HEADER}\nS1,Python,programming\nS2,SQL,data\n",
    "CRLF, no final line break": f"{HEADER}\r\nS1,Python,programming\r\nS2,SQL,data",
    "blank lines, one of them last": f"{HEADER}\nS1,Python,programming\n\nS2,SQL,data\n\n",
    "byte order mark, text as written": f"\ufeff{HEADER}\nNA,null,001\nS2,,\n S3 ,Ünïcode,x y\n",
}
NOT_PLAIN_FILES = {
    "a quoted value": f'{HEADER}\nS1,"Python, the language",programming\n',
    "a short record": f"{HEADER}\nS1,Python\n",
    "a long record": f"{HEADER}\nS1,Python,programming,extra\n",
    "a repeated column": "skill_id,skill_id,skill_category\nS1,S1,x\n",
    "CR line breaks": f"{HEADER}\rS1,Python,programming\r",
    "no record": f"{HEADER}\n",
}


@pytest.mark.parametrize("content", PLAIN_FILES.values(), ids=PLAIN_FILES)
def test_a_plain_file_read_by_arrow_is_the_frame_pandas_reads(tmp_path, content, monkeypatch):
    by_arrow = _load(tmp_path, content)
    monkeypatch.setattr(raw_csv, "_read_plain_csv", lambda data, text: None)
    by_pandas = _load(tmp_path, content)
    monkeypatch.undo()
    monkeypatch.setattr(pd, "read_csv", lambda *args, **kwargs: pytest.fail("pandas parsed"))

    pd.testing.assert_frame_equal(_load(tmp_path, content), by_pandas)
    pd.testing.assert_frame_equal(by_arrow, by_pandas)


@pytest.mark.parametrize("content", NOT_PLAIN_FILES.values(), ids=NOT_PLAIN_FILES)
def test_anything_but_a_plain_file_is_left_to_pandas(content):
    assert raw_csv._read_plain_csv(content.encode(), content) is None


def test_load_args_other_than_the_defaults_are_left_to_pandas(tmp_path, monkeypatch):
    monkeypatch.setattr(raw_csv, "_read_plain_csv", lambda data, text: pytest.fail("arrow"))
    raw = _load(tmp_path, "skill_id;skill_name\nS1;Python\n", load_args={"sep": ";"})
    assert raw.values.tolist() == [["S1", "Python"]]

"""The raw CSV files as text, each record labelled with the CSV line it starts on.

``pandas.CSVDataset`` numbers records, not lines: after a quoted value that spans two lines,
record n is no longer on line n + 1, and users would be sent to the wrong line. This dataset
keeps pandas' parser (building the frame from Python's csv module, which counts lines, is
about 8 times slower: ``benchmarks/bench_raw_csv.py``) and reads the file once: its bytes
are decoded strictly, so a file that is not text fails naming its line, and the line each
record starts on follows from the line breaks pandas keeps inside quoted values. Python's csv
module only serves error messages (pandas' count records, not lines).

A plain file (no quote character, every line a record with the header's fields, default load
arguments) is parsed by Arrow's CSV reader instead, on every core and straight into the Arrow
strings pandas keeps text in: 0.2 s instead of 0.9-1.2 s for 1.3M records here, the same
frame (a blank line is a record of empty values for both). Anything else (a quote, a short or
long record, a repeated column name) falls back to pandas, whose result and error messages
are the reference.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import PurePosixPath
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from kedro.io.core import get_filepath_str
from kedro_datasets.pandas import CSVDataset

from future_skills_kedro.contract import RAW_LINE_INDEX

# \r\n, \r and \n each end a line, for pandas' parser as for Python's csv module.
_LINE_BREAK = r"\r\n|\r|\n"
# Options that would hide lines from the parser (or rows from validation): refused.
_UNNUMBERABLE_LOAD_ARGS = (
    "chunksize",
    "comment",
    "header",
    "index_col",
    "iterator",
    "lineterminator",
    "nrows",
    "skip_blank_lines",
    "skipfooter",
    "skiprows",
)
_SHOWN_CHARACTERS = 80


class RawFileError(ValueError):
    """A raw file cannot be read as CSV text; the message names the file and the line."""


def count_line_breaks(text: str) -> int:
    """Line breaks in ``text``: \\r\\n, \\r and \\n count one each."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def count_lines(text: str) -> int:
    """Lines of a file's text: a last line without a line break counts, an empty one not."""
    ends_with_break = text.endswith(("\n", "\r"))
    return count_line_breaks(text) + (0 if ends_with_break or not text else 1)


def decode_text(data: bytes, encoding: str, file_name: str) -> str:
    """``data`` as text (a UTF-8 byte order mark dropped), or an error naming the line."""
    is_utf8 = codecs.lookup(encoding).name == "utf-8"
    try:
        return data.decode("utf-8-sig" if is_utf8 else encoding)
    except UnicodeDecodeError as error:
        before = data[: error.start].decode(encoding, errors="replace")
        line = count_line_breaks(before) + 1
        # The offending line, its undecodable bytes shown as \xNN.
        after = data[error.start :].decode(encoding, errors="backslashreplace")
        shown = re.split(_LINE_BREAK, before)[-1] + re.split(_LINE_BREAK, after)[0]
        shown = "".join(
            char if char.isprintable() else char.encode("unicode_escape").decode() for char in shown
        )
        if len(shown) > _SHOWN_CHARACTERS:
            shown = shown[:_SHOWN_CHARACTERS] + "..."
        raise RawFileError(
            f"{file_name}: line {line} is not valid {encoding} text "
            f'(byte 0x{data[error.start]:02x} in "{shown}"). The raw files are {encoding} CSV: '
            "save the file as such (it may be a binary file, e.g. a spreadsheet)."
        ) from None


def record_start_lines(frame: pd.DataFrame, text: str, may_span_lines: bool = True) -> np.ndarray:
    """The CSV line each record of ``frame`` (parsed from ``text``) starts on.

    Every line of the text is a record or part of one (blank lines included), so a record
    spans one line plus the line breaks kept inside its values; the header is line 1.
    ``may_span_lines=False`` (no quote character in the text) skips the counting.
    """
    header_lines = 1 + sum(count_line_breaks(str(column)) for column in frame.columns)
    first = header_lines + 1
    one_line_each = np.arange(first, first + len(frame), dtype="int64")
    if not may_span_lines:
        return one_line_each
    total_lines = count_lines(text)
    if total_lines == header_lines + len(frame):
        return one_line_each
    spans = np.ones(len(frame), dtype="int64")
    for column in frame.columns:
        values = frame[column].astype("str")
        spans += values.str.count(_LINE_BREAK).fillna(0).to_numpy(dtype="int64")
    if header_lines + int(spans.sum()) != total_lines:
        raise RuntimeError(
            f"{total_lines} lines but {len(frame)} records spanning {int(spans.sum())} lines "
            f"after a {header_lines}-line header: the lines cannot be numbered."
        )
    return first + np.concatenate(([0], np.cumsum(spans)[:-1]))


def first_record_with_extra_fields(text: str, header_fields: int) -> tuple[int, int] | None:
    """(line, fields) of the first record with more fields than the header, if any."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        if len(record) > header_fields:
            return start, len(record)
        start = reader.line_num + 1
    return None


def _extra_fields_error(text: str, file_name: str) -> RawFileError | None:
    header_fields = len(next(csv.reader(io.StringIO(text, newline="")), []))
    found = first_record_with_extra_fields(text, header_fields)
    if found is None:
        return None
    line, fields = found
    return RawFileError(
        f"{file_name}: line {line} has {fields} fields, the header has {header_fields}."
    )


def _read_plain_csv(data: bytes, text: str) -> pd.DataFrame | None:
    """``text`` parsed by Arrow when it is plain CSV (see the module docstring), else None."""
    header, _, rest = text.partition("\n")
    names = header.rstrip("\r").split(",")
    if '"' in text or not rest or "" in names or len(set(names)) < len(names):
        return None
    options = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.large_string()),
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data.removeprefix(codecs.BOM_UTF8)),
            parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=options,
        )
    except pa.ArrowInvalid:  # a record with fewer or more fields than the header
        return None
    if table.column_names != names:
        return None
    return pd.DataFrame({name: pd.array(table.column(name), dtype="str") for name in names})


class RawCSVDataset(CSVDataset):
    """A raw CSV file as text, indexed by the CSV line each record starts on.

    ``pandas.CSVDataset`` with every value read as a string (empty cells as ``""``, blank
    lines as rows) and a frame index named ``csv_line``: the line of the file each record
    starts on, header = line 1, also after quoted values that span lines. Errors name the
    file and the line: a file that is not valid text in ``load_args.encoding`` (UTF-8 by
    default, with or without a byte order mark) and a record with more fields than the
    header. Load arguments that would skip lines (``skiprows``, ``comment``, ...) are refused.

    Example ``conf/base/catalog.yml`` entry::

        skills:
          type: future_skills_kedro.datasets.raw_csv.RawCSVDataset
          filepath: data/01_raw/skills.csv
    """

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {
        "dtype": "str",
        "keep_default_na": False,
        "skip_blank_lines": False,
    }

    def __init__(self, *, load_args: dict[str, Any] | None = None, **kwargs: Any) -> None:
        refused = sorted(
            key
            for key, value in (load_args or {}).items()
            if key in _UNNUMBERABLE_LOAD_ARGS and value != self.DEFAULT_LOAD_ARGS.get(key)
        )
        if refused:
            raise ValueError(
                f"RawCSVDataset numbers every line of the file: load_args {', '.join(refused)} "
                "would skip lines and are not supported."
            )
        super().__init__(load_args=load_args, **kwargs)

    def load(self) -> pd.DataFrame:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        file_name = PurePosixPath(load_path).name
        load_args = dict(self._load_args)
        encoding = load_args.pop("encoding", None) or "UTF-8"
        with self._fs.open(load_path, **{**self._fs_open_args_load, "mode": "rb"}) as handle:
            data = handle.read()
        text = decode_text(data, encoding, file_name)
        is_utf8 = codecs.lookup(encoding).name == "utf-8"
        plain = (
            _read_plain_csv(data, text) if is_utf8 and load_args == self.DEFAULT_LOAD_ARGS else None
        )
        if plain is not None:
            plain.index = pd.Index(record_start_lines(plain, text, False), name=RAW_LINE_INDEX)
            return plain
        try:
            # From the bytes: pandas decodes in C, a StringIO would first copy the text as
            # 4 bytes per character.
            frame = pd.read_csv(io.BytesIO(data), encoding=encoding, **load_args)
        except pd.errors.ParserError as error:
            # pandas counts records in its message ("Expected 3 fields in line 5"): name the line.
            extra_fields = _extra_fields_error(text, file_name)
            if extra_fields is None:
                raise
            raise extra_fields from error
        if not isinstance(frame.index, pd.RangeIndex):
            # pandas silently turns the first column(s) into row labels when the first
            # record has more fields than the header.
            raise _extra_fields_error(text, file_name) or RawFileError(
                f"{file_name}: the first record has more fields than the header."
            )
        # Only a quoted (or escaped) line break makes a record span lines.
        may_span_lines = (
            load_args.get("quotechar", '"') in text or load_args.get("escapechar") is not None
        )
        frame.index = pd.Index(record_start_lines(frame, text, may_span_lines), name=RAW_LINE_INDEX)
        return frame

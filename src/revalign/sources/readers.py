"""① Reading export files into Arrow, every cell as text, with clear errors when a file cannot be read at all.

Cells are read as text on purpose: the raw copy keeps exactly what the user gave (nothing is lost to a type
guess), and typing happens later, column by column, under named rules that quarantine rows instead of failing a
whole file. A file that cannot be read as a table at all (empty, not in its encoding, wrong delimiter, missing
column) raises :class:`~revalign.errors.SchemaError` naming the file, row, column and rule, before anything is
written. A row with the wrong number of fields is not a file error: it is returned in ``bad_rows`` and ends in
quarantine (rule ``field_count``).

Quoting is strict: unless a target says ``multiline: true``, every record is one physical line, and a line whose
quotes do not pair up (an unterminated ``"``, text after a closing quote) is returned in ``bad_rows`` under rule
``quoting`` and parsed no further, so it cannot swallow the lines after it (Arrow's parser, like most, would
read on to the next quote and silently merge lines). Row numbers are physical: data row ``n`` is line ``n + 1``
of the file (the header is row 0), blank lines included, so a row number always points at the line to fix.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revalign.errors import SchemaError

DELIMITERS = (",", ";", "\t", "|")
BOM = b"\xef\xbb\xbf"


class BadLine(NamedTuple):
    """A line that could not be read as a row: its data row number, its text, why, and the rule it broke."""

    row: int
    text: str
    message: str
    rule: str = "field_count"


@dataclass
class SourceFile:
    """One export file as read: text cells, the 1-based data row of each, and rows that could not be split."""

    path: Path
    sha256: str
    exported_at: datetime  # the file's modification time (naive UTC): the export time when nothing better is known
    table: pa.Table  # all string columns, header names as written
    rows: np.ndarray  # data row number (header excluded) of each row of ``table``
    bad_rows: list[BadLine] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.bad_rows)


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes: the identity of an export (same bytes = same load)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_source(
    path: Path,
    *,
    required: list[str],
    format: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    multiline: bool = False,
) -> SourceFile:
    """Read a CSV or Parquet file (or a folder of Parquet parts) as text columns; check ``required`` columns.

    ``multiline``: quoted CSV values may span lines (else each line is one record; see the module docstring).
    """
    fmt = format or ("parquet" if path.is_dir() or path.suffix.lower() in (".parquet", ".pq") else "csv")
    exported_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
    if fmt == "parquet":
        return _read_parquet(path, required, exported_at)
    csv_file = CsvFile(path, delimiter, encoding, multiline)
    return csv_file.read(required, exported_at)


def _read_parquet(path: Path, required: list[str], exported_at: datetime) -> SourceFile:
    import pyarrow.dataset as ds

    if path.is_dir():
        parts = sorted(path.glob("*.parquet"))
        if not parts:
            raise SchemaError("The folder holds no Parquet parts", file=str(path), rule="empty_file")
        h = hashlib.sha256()
        for p in parts:
            h.update(file_digest(p).encode())
        digest = h.hexdigest()
        table = ds.dataset([str(p) for p in parts], format="parquet").to_table()
    else:
        digest = file_digest(path)
        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise SchemaError(f"Not a readable Parquet file: {exc}", file=str(path), rule="parquet") from exc
    check_columns(path, table.column_names, required, delimiter=None, header_line=None)
    table = pa.table({name: as_text(table.column(name)) for name in table.column_names})
    return SourceFile(path, digest, exported_at, table, np.arange(1, table.num_rows + 1))


def as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A typed column (Parquet, a warehouse table) as text, like a CSV cell: zoned times as naive UTC."""
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = column.cast(pa.timestamp(column.type.unit))
    if pa.types.is_string(column.type):
        return column
    return column.cast(pa.string())


@dataclass
class CsvFile:
    """How one CSV export is read: its path, delimiter, encoding and whether quoted values may span lines."""

    path: Path
    delimiter: str
    encoding: str
    multiline: bool

    def read(self, required: list[str], exported_at: datetime) -> SourceFile:
        """The file's rows as text, its quoting and field-count failures as bad lines."""
        path, delimiter = self.path, self.delimiter
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if not data.removeprefix(BOM) or data.removeprefix(BOM).isspace():
            raise SchemaError(
                "The file is empty: an export needs at least a header line. Re-export it, or remove it from the folder",
                file=str(path),
                rule="empty_file",
            )
        payload, header = self._header(data, required)
        if not payload.endswith(b"\n"):  # a header-only file without a final newline is still a header
            payload += b"\n"
        if self.multiline:
            self._check_closed_quotes(payload)
            table, bad = self._parse(payload, header)
            return _by_record(path, digest, exported_at, table, bad)
        lines = Lines(payload)
        quoting = lines.quoting_errors(delimiter) if b'"' in payload else {}
        if quoting:
            payload = lines.without(sorted(quoting))
            lines = Lines(payload)
        table, bad = self._parse(payload, header)
        bad_rows = [BadLine(n - 1, text, message, "quoting") for n, (text, message) in quoting.items()]
        rows = lines.data_rows()  # physical line - 1 of every non-blank data line, in order
        skipped = {lines.nonblank[n - 1] for n, _, _ in bad}  # Arrow numbers non-blank lines (header = 1)
        bad_rows += [BadLine(lines.nonblank[n - 1] - 1, text, message) for n, text, message in bad]
        rows = rows[~np.isin(rows + 1, np.array(sorted(skipped), dtype=np.int64))] if skipped else rows
        return SourceFile(path, digest, exported_at, table, rows[: table.num_rows], sorted(bad_rows))

    def _header(self, data: bytes, required: list[str]) -> tuple[bytes, list[str]]:
        """The payload as UTF-8 bytes and the header's names, checked (columns present, none repeated)."""
        path, delimiter, encoding = self.path, self.delimiter, self.encoding
        utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
        if utf8:  # Arrow parses UTF-8 bytes itself; they are checked first (its bad-row callback would crash on them)
            payload = data
            if not _is_utf8(data):
                _decode(path, data, encoding, delimiter)  # raises the error that names the row and column
            header_line = _decode(path, data[: data.find(b"\n")] if b"\n" in data else data, encoding, delimiter)
        else:
            payload = _decode(path, data, encoding, delimiter).encode("utf-8")
            header_line = payload.split(b"\n", 1)[0].decode("utf-8")
        header_line = header_line.lstrip("\ufeff").rstrip("\r")
        header = next(csv.reader([header_line], delimiter=delimiter))
        check_columns(path, header, required, delimiter=delimiter, header_line=header_line)
        if len(set(header)) != len(header):
            dup = sorted({h for h in header if header.count(h) > 1})
            raise SchemaError(
                f"The header repeats column(s) {', '.join(map(repr, dup))}; each column needs a distinct name",
                file=str(path),
                row=0,
                column=dup[0],
                rule="duplicate_column",
            )
        return payload, header

    def _parse(self, payload: bytes, header: list[str]) -> tuple[pa.Table, list]:
        """Arrow's parse, with the lines of the wrong field count as (line number, text, message)."""
        try:
            table, bad = _parse(payload, header, self.delimiter, use_threads=True)
            if bad and any(b[0] is None for b in bad):  # line numbers are only known when parsing on one thread
                table, bad = _parse(payload, header, self.delimiter, use_threads=False)
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc):
                _decode(self.path, payload, "utf-8", self.delimiter)  # raises the error naming the row and column
            raise SchemaError(
                f"The file cannot be parsed as CSV: {exc}", file=str(self.path), rule="field_count"
            ) from exc
        return table, bad

    def _check_closed_quotes(self, payload: bytes) -> None:
        """With ``multiline``, a quote still open at the end of the file refuses it, naming where it opened."""
        text = payload.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True)
        start = 0
        try:
            for _ in reader:
                start = reader.line_num
        except csv.Error as exc:
            raise SchemaError(
                f"A quote is not closed properly ({exc}); the record starting on line {start + 1} runs on to line "
                f"{reader.line_num}. Fix the quoting in the export",
                file=str(self.path),
                row=start,
                rule="quoting",
            ) from None


def _by_record(path: Path, digest: str, exported_at: datetime, table: pa.Table, bad: list) -> SourceFile:
    """Rows numbered by record (multi-line values make physical line numbers meaningless)."""
    bad_rows = [BadLine(int(n) - 1, t, m) for n, t, m in bad]  # record n (header = 1) → data row n - 1
    total = table.num_rows + len(bad_rows)
    rows = np.arange(1, total + 1)
    if bad_rows:
        rows = np.setdiff1d(rows, np.array([b.row for b in bad_rows]))[: table.num_rows]
    return SourceFile(path, digest, exported_at, table, rows, sorted(bad_rows))


class Lines:
    """The physical lines of a CSV payload, found with numpy (a million-line export costs milliseconds)."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        codes = np.frombuffer(payload, dtype=np.uint8)
        ends = np.flatnonzero(codes == 10)
        if not payload.endswith(b"\n"):
            ends = np.append(ends, len(payload))
        self.starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
        self.ends = ends.astype(np.int64)
        length = self.ends - self.starts
        cr_only = np.zeros(len(length), dtype=bool)
        one = np.flatnonzero(length == 1)
        cr_only[one] = codes[self.starts[one]] == 13
        blank = (length == 0) | cr_only
        self.nonblank = np.flatnonzero(~blank) + 1  # 1-based physical line numbers (the header is line 1)

    def data_rows(self) -> np.ndarray:
        """Data row number (line - 1) of every non-blank line after the header."""
        return self.nonblank[self.nonblank > 1] - 1

    def text(self, number: int) -> str:
        """Physical line ``number`` (1-based) as text, without its line break."""
        raw = self.payload[self.starts[number - 1] : self.ends[number - 1]]
        return raw.rstrip(b"\r").decode("utf-8", errors="replace")

    def quoting_errors(self, delimiter: str) -> dict[int, tuple[str, str]]:
        """Data lines (1-based numbers) whose quotes do not pair up on the line, with their text and why.

        Every line is matched at once (Arrow's RE2, no Python loop) against the grammar of one strict CSV record:
        fields split by the delimiter, each either quoted (``"…"`` with ``""`` for a quote) or unquoted and not
        starting with a quote. Only the few lines that fail are parsed again, by Python's strict ``csv`` reader,
        for the message.
        """
        offsets = pa.py_buffer(np.append(self.starts, len(self.payload)).astype(np.int64).tobytes())
        lines = pa.LargeStringArray.from_buffers(len(self.starts), offsets, pa.py_buffer(self.payload))
        d = re.escape(delimiter)
        field_ = f'(?:"(?:[^"]|"")*"|[^"{d}\\r\\n][^{d}\\r\\n]*|)'
        record = f"^{field_}(?:{d}{field_})*\\r?\\n?$"
        ok = pc.match_substring_regex(lines, record).to_numpy(zero_copy_only=False)
        ok[0] = True  # the header was read already
        return {int(n) + 1: _quoting_message(self.text(int(n) + 1), delimiter) for n in np.flatnonzero(~ok)}

    def without(self, numbers: list[int]) -> bytes:
        """The payload with lines ``numbers`` emptied (their line breaks kept, so later lines keep their number)."""
        out = bytearray()
        at = 0
        for n in numbers:
            out += self.payload[at : self.starts[n - 1]]
            at = self.ends[n - 1]
        out += self.payload[at:]
        return bytes(out)


def _quoting_message(line: str, delimiter: str) -> tuple[str, str]:
    """The line and why its quotes do not pair up, in the words of Python's strict ``csv`` reader."""
    if line.count('"') % 2:
        return line, "an unterminated quote: the line has an odd number of '\"'"
    if len(line) > csv.field_size_limit():  # a long cell is not the problem (the default limit is 128 kB)
        csv.field_size_limit(len(line))
    try:
        list(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return line, f"a quoting error: {exc}"
    return line, "a quote opens a value that does not close on this line"


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8, checked by Arrow in C without building a Python string."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    whole = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        whole.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _parse(payload: bytes, header: list[str], delimiter: str, *, use_threads: bool) -> tuple[pa.Table, list]:
    bad: list[tuple[int | None, str, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(
            (
                row.number,
                row.text,
                f"expected {row.expected_columns} fields, found {row.actual_columns}",
            )
        )
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(payload),
        read_options=pacsv.ReadOptions(use_threads=use_threads, block_size=16 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, bad


def _decode(path: Path, data: bytes, encoding: str, delimiter: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise SchemaError(
            f"Unknown encoding {encoding!r}; use a Python codec name such as utf-8, latin-1 or cp1252",
            file=str(path),
            rule="encoding",
        ) from None
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line_end = data.find(b"\n", exc.start)
        line = data[line_start : line_end if line_end >= 0 else len(data)]
        row = data.count(b"\n", 0, exc.start)  # header is line 0 → data row numbers start at 1
        column = None
        header = data.split(b"\n", 1)[0].decode(encoding, errors="replace").rstrip("\r").split(delimiter)
        fields = line.decode(encoding, errors="replace").split(delimiter)
        for i, f in enumerate(fields):
            if "\ufffd" in f and i < len(header):
                column = header[i]
                break
        raise SchemaError(
            f"The file is not {encoding}: byte(s) {data[exc.start : exc.end]!r} cannot be decoded. Export it as "
            f"UTF-8, or set encoding: latin-1 (or the file's real encoding) on this target in the mapping",
            file=str(path),
            row=row,
            column=column,
            rule="encoding",
            value=data[exc.start : exc.end],
        ) from None


def check_columns(
    path: Path, found: list[str], required: list[str], *, delimiter: str | None, header_line: str | None
) -> None:
    """Refuse a source that lacks a column the mapping reads, naming close matches (and a likely delimiter)."""
    missing = [c for c in required if c not in found]
    if not missing:
        return
    if header_line is not None and delimiter is not None:
        for other in DELIMITERS:
            if other == delimiter:
                continue
            alt = next(csv.reader([header_line], delimiter=other))
            if len(alt) > len(found) and all(c in alt for c in required):
                raise SchemaError(
                    f"The file looks {_delimiter_name(other)}-separated, but the mapping reads it as "
                    f"{_delimiter_name(delimiter)}-separated. Set delimiter: {other!r} on this target in the mapping",
                    file=str(path),
                    row=0,
                    rule="delimiter",
                    value=header_line[:80],
                )
    hints = []
    for m in missing:
        close = difflib.get_close_matches(m, found, n=1)
        hints.append(f"{m!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    listing = ", ".join(repr(c) for c in found[:30]) + (" …" if len(found) > 30 else "")
    raise SchemaError(
        f"Missing column(s) {', '.join(hints)} that the mapping reads. The file has: {listing}. Fix the export or "
        "the mapping's from: names",
        file=str(path),
        row=0,
        column=missing[0],
        rule="missing_column",
    )


def _delimiter_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(d, repr(d))

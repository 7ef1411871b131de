"""① Reading export files into Arrow, every cell as text, with clear errors when a file cannot be read at all.

Cells are read as text on purpose: the raw copy keeps exactly what the user gave (nothing is lost to a type
guess), and typing happens later, column by column, under named rules that quarantine rows instead of failing a
whole file. A file that cannot be read as a table at all (empty, not in its encoding, wrong delimiter, missing
column) raises :class:`~revalign.errors.SchemaError` naming the file, row, column and rule, before anything is
written. A row with the wrong number of fields is not a file error: it is returned in ``bad_rows`` and ends in
quarantine (rule ``field_count``).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from revalign.errors import SchemaError

DELIMITERS = (",", ";", "\t", "|")


@dataclass
class SourceFile:
    """One export file as read: text cells, the 1-based data row of each, and rows that could not be split."""

    path: Path
    sha256: str
    exported_at: datetime  # the file's modification time (naive UTC): the export time when nothing better is known
    table: pa.Table  # all string columns, header names as written
    rows: np.ndarray  # data row number (header excluded) of each row of ``table``
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)  # (row, text, message)

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
) -> SourceFile:
    """Read a CSV or Parquet file (or a folder of Parquet parts) as text columns; check ``required`` columns."""
    fmt = format or ("parquet" if path.is_dir() or path.suffix.lower() in (".parquet", ".pq") else "csv")
    exported_at = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
    if fmt == "parquet":
        return _read_parquet(path, required, exported_at)
    return _read_csv(path, required, delimiter, encoding, exported_at)


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
    _check_columns(path, table.column_names, required, delimiter=None, header_line=None)
    table = pa.table({name: _as_text(table.column(name)) for name in table.column_names})
    return SourceFile(path, digest, exported_at, table, np.arange(1, table.num_rows + 1))


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = column.cast(pa.timestamp(column.type.unit))
    if pa.types.is_string(column.type):
        return column
    return column.cast(pa.string())


def _read_csv(path: Path, required: list[str], delimiter: str, encoding: str, exported_at: datetime) -> SourceFile:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise SchemaError(
            "The file is empty: an export needs at least a header line. Re-export it, or remove it from the folder",
            file=str(path),
            rule="empty_file",
        )
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
    if utf8:  # Arrow parses UTF-8 bytes itself and checks them; only the header is decoded here
        payload = data
        header_line = _decode(path, data.split(b"\n", 1)[0], encoding, delimiter)
    else:
        payload = _decode(path, data, encoding, delimiter).encode("utf-8")
        header_line = payload.split(b"\n", 1)[0].decode("utf-8")
    header_line = header_line.lstrip("\ufeff").rstrip("\r")
    header = next(csv.reader([header_line], delimiter=delimiter))
    _check_columns(path, header, required, delimiter=delimiter, header_line=header_line)
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise SchemaError(
            f"The header repeats column(s) {', '.join(map(repr, dup))}; each column needs a distinct name",
            file=str(path),
            row=0,
            column=dup[0],
            rule="duplicate_column",
        )
    try:
        table, bad = _parse(payload, header, delimiter, use_threads=True)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            _decode(path, data, encoding, delimiter)  # raises the error that names the row and column
        raise SchemaError(f"The file cannot be parsed as CSV: {exc}", file=str(path), rule="field_count") from exc
    if bad and any(b[0] is None for b in bad):  # line numbers are only known when parsing on one thread
        table, bad = _parse(payload, header, delimiter, use_threads=False)
    bad_rows = [(int(n) - 1, t, m) for n, t, m in bad]  # physical line n (header = 1) → data row n - 1
    total = table.num_rows + len(bad_rows)
    rows = np.arange(1, total + 1)
    if bad_rows:
        rows = np.setdiff1d(rows, np.array([b[0] for b in bad_rows]))[: table.num_rows]
    return SourceFile(path, digest, exported_at, table, rows, sorted(bad_rows))


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


def _check_columns(
    path: Path, found: list[str], required: list[str], *, delimiter: str | None, header_line: str | None
) -> None:
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

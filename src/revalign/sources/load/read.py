"""① The Reader seam: how a planned source becomes Arrow batches of text cells with their provenance.

Everything after reading (casts, rules, quarantine, merge, ledger diffs, writes) works on
:class:`~revalign.sources.readers.SourceFile` batches and never on a file, so a new kind of source (a warehouse
table synced by Fivetran, a CRM API) needs only a :class:`Reader`: given a :class:`~.plan.PlannedSource`, yield
batches whose ``table`` holds every cell as text under the source's column names, with ``rows`` (the 1-based
row number of each, which quarantine entries cite), ``sha256`` (a digest of the content, so an unchanged source
is skipped), ``exported_at`` (when the source was taken) and ``bad_rows`` (lines that could not be split). A
source that cannot be read at all raises :class:`~revalign.errors.SchemaError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from revalign.sources.load.plan import PlannedSource
from revalign.sources.readers import SourceFile, read_source


class Reader(Protocol):
    """Reads one planned source as one or more batches of text cells with provenance."""

    def read(self, source: PlannedSource) -> Iterator[SourceFile]: ...


class FileReader:
    """CSV and Parquet exports (a file, or a folder of Parquet parts), read whole, as one batch each."""

    def read(self, source: PlannedSource) -> Iterator[SourceFile]:
        first = source.targets[0]  # format, delimiter and encoding belong to the file: its first target says
        yield read_source(
            source.path,
            required=source.required,
            format=first.format,
            delimiter=first.delimiter,
            encoding=first.encoding,
            multiline=first.multiline,
        )

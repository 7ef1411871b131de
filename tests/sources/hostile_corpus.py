"""A corpus of hostile exports: each case is a few small files, the mapping that reads them, and what must happen.

Every expectation is written by hand from the literal text of the case: the rules its quarantine must hold (no
more, no fewer), or the file rule it must be refused under. The test (``test_hostile_input.py``) counts the rows
of every file on its own and checks ``read = loaded + quarantined + de-duplicated`` for each.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

LEADS = "Lead ID,Email,Created Date,Lead Source\n"
OPPS = "Opportunity ID,Created Date,Stage,Amount,Close Date,Closed Date\n"
ACCOUNTS = "Account ID,Account Name,Employees\n"
SPEND = "Date,Amount,Channel\n"


@dataclass(frozen=True)
class Case:
    """One hostile export: ``files`` (name → bytes) read through ``mapping`` (a shipped name or YAML text)."""

    name: str
    files: dict[str, bytes]
    rules: frozenset[str] = frozenset()  # exactly the rules its quarantine holds
    refused: str | None = None  # the file rule of a refusal (exit 3), else the load runs (exit 0)
    mapping: str = "generic_crm"
    encoding: str = "utf-8"
    delimiter: str = ","
    multiline: bool = False
    notes: list[str] = field(default_factory=list)


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def _leads_mapping(*, delimiter: str = ",", encoding: str = "utf-8", extra: str = "") -> str:
    """A one-target mapping for leads files with another delimiter, encoding or target option."""
    return f"""
name: hostile_leads
null_values: ["", "NULL"]
targets:
  - name: leads
    files: ["leads*.csv"]
    table: leads
    delimiter: {json.dumps(delimiter)}
    encoding: {encoding}
{extra}
    columns:
      lead_id: Lead ID
      created_at: Created Date
      email: {{from: Email, optional: true}}
"""


SPEND_CREDITS = """
name: spend_with_credits
targets:
  - name: spend
    files: ["spend*.csv"]
    table: spend
    mode: append
    allow_negative: [amount]
    columns:
      date: Date
      amount: Amount
"""

NARROW_WINDOW = """
name: narrow_window
date_window: {earliest: 2020-01-01, latest: 2024-12-31}
targets:
  - name: leads
    files: ["leads*.csv"]
    table: leads
    columns:
      lead_id: Lead ID
      created_at: Created Date
"""

DEDUPE = """
name: dedupe_users
targets:
  - name: users
    files: ["users*.csv"]
    table: users
    dedupe: true
    columns:
      user_id: User ID
      name: {from: Name, optional: true}
"""


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _cases_numbers() -> list[Case]:
    return [
        Case(
            "inf_amounts",
            {"spend.csv": _b(SPEND + "2024-01-01,inf,Email\n2024-01-02,-inf,Email\n2024-01-03,Infinity,Email\n")},
            frozenset({"non_finite"}),
        ),
        Case(
            "overflow_1e309",
            {"spend.csv": _b(SPEND + "2024-01-01,1e309,Email\n2024-01-02,10.5,Email\n")},
            frozenset({"non_finite"}),
        ),
        Case(
            "nan_amount",
            {"spend.csv": _b(SPEND + "2024-01-01,NaN,Email\n2024-01-02,-nan,Email\n")},
            frozenset({"non_finite"}),
        ),
        Case(
            "mixed_sign_inf_deals",
            {
                "opportunities.csv": _b(
                    OPPS + "O1,2024-01-01,Won,inf,,\nO2,2024-01-01,Won,-inf,,\nO3,2024-01-01,Won,5,,\n"
                )
            },
            frozenset({"non_finite"}),
        ),
        Case(
            "employees_1e20", {"accounts.csv": _b(ACCOUNTS + "A1,Acme,1e20\nA2,Beta,12\n")}, frozenset({"out_of_range"})
        ),
        Case(
            "employees_2_63",
            {"accounts.csv": _b(ACCOUNTS + "A1,Acme,9223372036854775808\nA2,Beta,9223372036854775807\n")},
            frozenset({"out_of_range"}),
        ),
        Case(
            "employees_below_int64",
            {"accounts.csv": _b(ACCOUNTS + "A1,Acme,-9223372036854775809\n")},
            frozenset({"out_of_range"}),
        ),
        Case(
            "employees_huge_text",
            {"accounts.csv": _b(ACCOUNTS + "A1,Acme," + "9" * 400 + "\n")},
            frozenset({"non_finite"}),
        ),  # 400 digits do not fit a float: parsed as inf
        Case(
            "employees_fraction_and_text",
            {"accounts.csv": _b(ACCOUNTS + "A1,Acme,12.5\nA2,Beta,0x10\nA3,Gamma,12.0\n")},
            frozenset({"type_cast"}),
        ),
        Case(
            "employees_negative",
            {"accounts.csv": _b(ACCOUNTS + "A1,Acme,-3\nA2,Beta,0\n")},
            frozenset({"non_negative"}),
        ),
        Case(
            "negative_deal_amount",
            {"opportunities.csv": _b(OPPS + "O1,2024-01-01,Won,-100,,\nO2,2024-01-01,Won,0,,\n")},
            frozenset({"non_negative"}),
        ),
        Case(
            "negative_spend_refused",
            {"spend.csv": _b(SPEND + "2024-01-01,-20,Email\n2024-01-02,20,Email\n")},
            frozenset({"non_negative"}),
        ),
        Case(
            "negative_spend_as_credit",
            {"spend.csv": _b("Date,Amount\n2024-01-01,-20\n2024-01-02,20\n")},
            mapping=SPEND_CREDITS,
        ),
        Case(
            "thousands_separator",
            {"spend.csv": _b(SPEND + '2024-01-01,"1,000",Email\n2024-01-02,1000,Email\n')},
            frozenset({"type_cast"}),
        ),
        Case(
            "tiny_and_signed_numbers",
            {"spend.csv": _b(SPEND + "2024-01-01,1e-400,Email\n2024-01-02,+7,Email\n2024-01-03,-0,Email\n")},
        ),
    ]


def _cases_dates() -> list[Case]:
    return [
        Case(
            "date_9999",
            {"opportunities.csv": _b(OPPS + "O1,2024-01-01,Won,1,9999-12-31,\nO2,2024-01-01,Won,1,2024-02-01,\n")},
            frozenset({"date_range"}),
        ),
        Case(
            "date_before_1970",
            {"leads.csv": _b(LEADS + "L1,a@x,1969-12-31,Email\nL2,b@x,1970-01-01,Email\n")},
            frozenset({"date_range"}),
        ),
        Case("date_year_one", {"leads.csv": _b(LEADS + "L1,a@x,0001-01-01,Email\n")}, frozenset({"date_range"})),
        Case(
            "date_impossible",
            {"leads.csv": _b(LEADS + "L1,a@x,2024-02-30,Email\nL2,a@x,2024-13-01,Email\nL3,c@x,10000-01-01,Email\n")},
            frozenset({"date_format"}),
        ),
        Case(
            "date_not_a_date",
            {"leads.csv": _b(LEADS + "L1,a@x,1e10,Email\nL2,b@x,2024-01-01T25:00:00,Email\n")},
            frozenset({"date_format"}),
        ),
        Case(
            "date_with_offsets",
            {"leads.csv": _b(LEADS + "L1,a@x,2024-06-30T23:00:00+14:00,Email\nL2,b@x,2024-06-30T23:00:00Z,Email\n")},
        ),
        Case(
            "close_before_creation",
            {
                "opportunities.csv": _b(
                    OPPS + "O1,2024-05-01,Closed Lost,10,2024-01-01,\n"
                    "O2,2024-05-01 14:00:00,Closed Lost,10,2024-05-01,\n"
                )
            },
            frozenset({"order_of_dates"}),
        ),  # O2 closes on the day it was created: fine
        Case(
            "closed_at_before_creation",
            {"opportunities.csv": _b(OPPS + "O1,2024-05-01,Closed Won,10,,2024-04-30 10:00:00\n")},
            frozenset({"order_of_dates"}),
        ),
        Case(
            "narrow_window",
            {
                "leads.csv": _b(
                    "Lead ID,Created Date\nL1,2019-12-31\nL2,2020-01-01\nL3,2024-12-31 23:59:59\nL4,2025-01-01\n"
                )
            },
            frozenset({"date_range"}),
            mapping=NARROW_WINDOW,
        ),
    ]


def _cases_quoting() -> list[Case]:
    return [
        Case(
            "unterminated_quote_mid_file",
            {"leads.csv": _b(LEADS + 'L1,"a@x,2024-01-01,Email\nL2,b@x,2024-01-02,Email\nL3,c@x,2024-01-03,Email\n')},
            frozenset({"quoting"}),
        ),
        Case(
            "unterminated_quote_last_line",
            {"leads.csv": _b(LEADS + 'L1,a@x,2024-01-01,Email\nL2,"b@x,2024-01-02,Email')},
            frozenset({"quoting"}),
        ),
        Case(
            "quote_would_merge_lines",  # lenient parsers read L1 and L2 as one 4-field record and lose L2
            {
                "leads.csv": _b(
                    LEADS + 'L1,"Acme, Inc,2024-01-01,Email\nL2,Acme Inc",2024-01-02,Email\nL3,c@x,2024-01-03,Email\n'
                )
            },
            frozenset({"quoting"}),
        ),
        Case(
            "text_after_closing_quote",
            {"leads.csv": _b(LEADS + 'L1,"a@x"y,2024-01-01,Email\nL2,b@x,2024-01-02,Email\n')},
            frozenset({"quoting"}),
        ),
        Case(
            "valid_quotes",
            {"leads.csv": _b(LEADS + 'L1,"a, b@x",2024-01-01,Email\n"L2","say ""hi""@x",2024-01-02,"Email"\n')},
        ),
        # without multiline: true, line 1 opens a quote it does not close (quoting); line 2 is read on its own, its
        # mid-field quote is a literal character (as in Python's csv), and it has 3 fields for 4 (field_count)
        Case(
            "quoted_newline_strict",
            {"leads.csv": _b(LEADS + 'L1,"line one\nline two",2024-01-01,Email\nL2,b@x,2024-01-02,Email\n')},
            frozenset({"quoting", "field_count"}),
        ),
        Case(
            "quoted_newline_multiline",
            {
                "leads.csv": _b(LEADS + 'L1,"line one\nline two",2024-01-01\nL2,b@x,2024-01-02\n').replace(
                    b",Lead Source", b""
                )
            },
            mapping=_leads_mapping(extra="    multiline: true"),
            multiline=True,
        ),
        Case(
            "multiline_open_at_eof",
            {"leads.csv": _b('Lead ID,Email,Created Date\nL1,b@x,2024-01-02\nL2,"never closed,2024-01-01\n')},
            refused="quoting",
            mapping=_leads_mapping(extra="    multiline: true"),
            multiline=True,
        ),
        Case(
            "too_many_and_too_few_fields",
            {"leads.csv": _b(LEADS + "L1,a@x,2024-01-01,Email,extra\nL2,b@x\nL3,c@x,2024-01-03,Email\n")},
            frozenset({"field_count"}),
        ),
        Case(
            "whitespace_line",
            {"leads.csv": _b(LEADS + "L1,a@x,2024-01-01,Email\n   \nL2,b@x,2024-01-02,Email\n")},
            frozenset({"field_count"}),
        ),
        Case(
            "blank_lines_keep_numbers",
            {"leads.csv": _b(LEADS + "\nL1,a@x,2024-01-01,Email\n\r\n\nL2,b@x,not a date,Email\n")},
            frozenset({"date_format"}),
        ),
    ]


def _cases_encodings() -> list[Case]:
    latin = _leads_mapping(encoding="latin-1")
    return [
        Case("utf8_bom", {"leads.csv": b"\xef\xbb\xbf" + _b(LEADS + "L1,jos\u00e9@x,2024-01-01,Email\n")}),
        Case("utf8_bom_only", {"leads.csv": b"\xef\xbb\xbf"}, refused="empty_file"),
        Case(
            "latin1_declared",
            {"leads.csv": LEADS.encode() + b"L1,jos\xe9@x,2024-01-01,Email\n"},
            mapping=latin,
            encoding="latin-1",
        ),
        Case(
            "latin1_undeclared", {"leads.csv": LEADS.encode() + b"L1,jos\xe9@x,2024-01-01,Email\n"}, refused="encoding"
        ),
        Case(
            "utf16_declared",
            {"leads.csv": (LEADS + "L1,jos\u00e9@x,2024-01-01,Email\n").encode("utf-16")},
            mapping=_leads_mapping(encoding="utf-16"),
            encoding="utf-16",
        ),
        Case("binary_garbage", {"leads.csv": _b(LEADS) + bytes(range(128, 256)) + b"\n"}, refused="encoding"),
        Case(
            "utf16_undeclared",
            {"leads.csv": (LEADS + "L1,a@x,2024-01-01,Email\n").encode("utf-16")},
            refused="encoding",
        ),
        Case("nul_bytes", {"leads.csv": _b(LEADS + "L1,a\x00b@x,2024-01-01,Email\n")}),
        Case(
            "crlf",
            {"leads.csv": _b((LEADS + "L1,a@x,2024-01-01,Email\nL2,b@x,2024-01-02,Email\n").replace("\n", "\r\n"))},
        ),
        Case(
            "mixed_line_endings",
            {"leads.csv": _b(LEADS.replace("\n", "\r\n") + "L1,a@x,2024-01-01,Email\nL2,b@x,2024-01-02,Email\r\n")},
        ),
    ]


def _cases_layout() -> list[Case]:
    semi = _leads_mapping(delimiter=";")
    return [
        Case(
            "semicolon_declared",
            {"leads.csv": _b("Lead ID;Email;Created Date\nL1;a,b@x;2024-01-01\n")},
            mapping=semi,
            delimiter=";",
        ),
        Case(
            "tab_declared",
            {"leads.csv": _b("Lead ID\tEmail\tCreated Date\nL1\ta@x\t2024-01-01\n")},
            mapping=_leads_mapping(delimiter="\t"),
            delimiter="\t",
        ),
        Case(
            "pipe_declared",
            {"leads.csv": _b('Lead ID|Email|Created Date\nL1|a@x|2024-01-01\nL2|"b|c@x"|2024-01-02\n')},
            mapping=_leads_mapping(delimiter="|"),
            delimiter="|",
        ),
        Case(
            "semicolon_undeclared",
            {"leads.csv": _b("Lead ID;Email;Created Date;Lead Source\nL1;a@x;2024-01-01;Email\n")},
            refused="delimiter",
        ),
        Case("empty_file", {"leads.csv": b""}, refused="empty_file"),
        Case("whitespace_file", {"leads.csv": b"\n\n  \r\n"}, refused="empty_file"),
        Case("header_only_newline", {"leads.csv": _b(LEADS)}),
        Case("header_only_no_newline", {"leads.csv": _b(LEADS.rstrip("\n"))}),
        Case("header_only_crlf", {"leads.csv": _b(LEADS.replace("\n", "\r\n"))}),
        Case("missing_column", {"leads.csv": _b("Lead ID,Email\nL1,a@x\n")}, refused="missing_column"),
        Case(
            "duplicate_column",
            {"leads.csv": _b("Lead ID,Email,Created Date,Email\nL1,a@x,2024-01-01,b@x\n")},
            refused="duplicate_column",
        ),
        Case(
            "corrupt_parquet",
            {"spend.parquet": b"PAR1 this is not parquet PAR1"},
            refused="parquet",
            mapping="canonical",
        ),
        Case(
            "parquet_non_finite",
            {
                "spend.parquet": _parquet(
                    pa.table(
                        {
                            "date": pa.array(["2024-01-01", "2024-01-02", "2024-01-03"]),
                            "amount": pa.array([float("inf"), float("nan"), 3.0]),
                        }
                    )
                )
            },
            frozenset({"non_finite"}),
            mapping="canonical",
        ),
    ]


def _cases_keys() -> list[Case]:
    return [
        Case(
            "duplicate_keys",
            {"leads.csv": _b(LEADS + "L1,a@x,2024-01-01,Email\nL1,b@x,2024-01-02,Email\n")},
            frozenset({"unique"}),
        ),
        Case("duplicates_deduplicated", {"users.csv": _b("User ID,Name\nU1,Ann\nU1,Ann\nU2,Bob\n")}, mapping=DEDUPE),
        Case(
            "dangling_account",
            {
                "accounts.csv": _b(ACCOUNTS + "A1,Acme,10\n"),
                "opportunities.csv": _b(
                    "Opportunity ID,Created Date,Stage,Account ID\nO1,2024-01-01,Won,A1\nO2,2024-01-01,Won,A9\n"
                ),
            },
            frozenset({"foreign_key"}),
        ),
        Case(
            "missing_keys",
            {"leads.csv": _b(LEADS + ",a@x,2024-01-01,Email\nNULL,b@x,2024-01-02,Email\n")},
            frozenset({"not_null"}),
        ),
        Case(
            "formula_strings",
            {
                "leads.csv": _b(
                    LEADS + 'L1,"=HYPERLINK(""http://evil"",""x"")",2024-01-01,Email\n'
                    "L2,@SUM(1+1),2024-01-02,Email\n"
                    "L3,+cmd|' /C calc'!A0,2024-01-03,Email\n"
                    "L4,b@x,2024-01-04,=1+2\n"
                )
            },
            frozenset({"enum"}),
        ),  # formulas load as text; =1+2 is no channel
        Case("long_field", {"leads.csv": _b(LEADS + "L1," + "x" * 200_000 + "@x,2024-01-01,Email\n")}),
        Case("long_quoted_field", {"leads.csv": _b(LEADS + 'L1,"' + "x, " * 100_000 + '@x",2024-01-01,Email\n')}),
    ]


CASES: list[Case] = [
    *_cases_numbers(),
    *_cases_dates(),
    *_cases_quoting(),
    *_cases_encodings(),
    *_cases_layout(),
    *_cases_keys(),
]

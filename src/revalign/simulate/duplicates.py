"""Duplicate leads (the same person typed again, days later) and, for some, a duplicate account too.

A duplicate's email is a variant of the original's (capitals, a ``+crm`` tag, or identical) and a duplicate
account's name a variant of the original's (capitals, a comma, a missing suffix), so the audit has something
realistic to match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from revalign.simulate.chunk import Chunk
from revalign.simulate.company import HOUR
from revalign.simulate.gaming import variant_email, variant_name
from revalign.simulate.journeys import campaign_for
from revalign.simulate.writer import ids


@dataclass
class Duplicates:
    """Duplicate lead rows (after the original and re-created leads) and the duplicate accounts."""

    lead: np.ndarray  # position of the duplicated original lead
    t: np.ndarray  # created at
    ids: pa.Array
    source: np.ndarray  # channel index
    campaign: np.ndarray  # campaign index (−1 none)
    emails: list[str]
    account_ids: list[str]  # account of each duplicate lead (a duplicate account for some)
    lead_emails: np.ndarray  # object array: email of every original lead of the chunk
    new_account: np.ndarray  # which duplicate leads came with a duplicate account
    acc_ids: pa.Array  # the duplicate accounts …
    acc_of: np.ndarray  # … the account each duplicates (index into the chunk's accounts)
    acc_names: list[str]
    acc_t: np.ndarray

    @property
    def n(self) -> int:
        return len(self.lead)


def duplicate_leads(ch: Chunk, first_row: int) -> Duplicates:
    """Duplicates of random leads of the chunk (rows from ``first_row`` on), their touches and labels."""
    cfg, jr, acc, rng = ch.cfg, ch.jr, ch.acc, ch.rng
    dup = np.flatnonzero(rng.random(jr.n) < cfg.duplicate_lead_rate)
    t_dup = jr.t0[dup] + rng.uniform(1.0, 90.0, len(dup))
    dup = dup[t_dup <= ch.as_of]
    t_dup = t_dup[t_dup <= ch.as_of]
    n_dup = len(dup)
    dup_ids = ids("L", ch.counters.take("lead", n_dup), 9)
    dup_source = rng.choice(len(cfg.channels), n_dup)
    dup_acc_new = rng.random(n_dup) < cfg.duplicate_account_share
    dacc_ids = ids("A", ch.counters.take("account", int(dup_acc_new.sum())), 9)
    dacc_src = jr.account[dup[dup_acc_new]]
    lead_emails = np.array(
        [f"p{num}@{acc.domain[a]}" for num, a in zip(jr.number, jr.account, strict=True)], dtype=object
    )
    variant_k = rng.integers(0, 3, n_dup)
    account_ids = acc.ids.take(pa.array(jr.account[dup])).to_pylist()
    for j, a in zip(np.flatnonzero(dup_acc_new), dacc_ids.to_pylist(), strict=True):
        account_ids[j] = a
    ch.ledger.lifecycle(dup_ids, t_dup, "lead")
    d = Duplicates(
        lead=dup,
        t=t_dup,
        ids=dup_ids,
        source=dup_source,
        campaign=campaign_for(ch.mkt, ch.cal, dup_source, t_dup, rng),
        emails=[variant_email(lead_emails[row], int(k)) for row, k in zip(dup, variant_k, strict=True)],
        account_ids=account_ids,
        lead_emails=lead_emails,
        new_account=dup_acc_new,
        acc_ids=dacc_ids,
        acc_of=dacc_src,
        acc_names=[variant_name(acc.name[a], int(k)) for a, k in zip(dacc_src, variant_k[dup_acc_new], strict=True)],
        acc_t=t_dup[dup_acc_new] - HOUR,
    )
    first_interaction = np.array([c.first_interaction for c in cfg.channels], dtype=object)
    ch.touches.add(first_row + np.arange(n_dup), t_dup, dup_source, d.campaign, first_interaction[dup_source])
    _label(ch, d)
    return d


def _label(ch: Chunk, d: Duplicates) -> None:
    acc = ch.acc
    ch.labels.add(
        "duplicate_lead",
        "lead",
        d.ids,
        d.t,
        related_id=ch.lead_ids(d.lead),
        field_name="email",
        original=pa.array(d.lead_emails[d.lead].tolist(), pa.string()),
        new=pa.array(d.emails, pa.string()),
    )
    ch.labels.add(
        "duplicate_account",
        "account",
        d.acc_ids,
        d.acc_t,
        related_id=acc.ids.take(pa.array(d.acc_of)),
        field_name="name",
        original=pa.array([acc.name[a] for a in d.acc_of], pa.string()),
        new=pa.array(d.acc_names, pa.string()),
    )

"""``duplicate_account``: the same company entered twice, with the record that survives.

Rules:

1. Blocking, in Ibis on the engine: two accounts are candidates when leads of both have emails at the same
   domain (normalised, as for duplicate leads). Free-mail domains (``free_email_domains``) say nothing about
   the company and are skipped, and so is any domain shared by more than ``max_accounts_per_domain`` accounts
   (a reseller's or an agency's domain, not one company). With ``match_names_without_domain`` accounts whose
   normalised names are equal once legal suffixes are dropped are candidates too.
2. Matching, in pandas on the candidates only (a few per thousand accounts): RapidFuzz's token-set similarity
   of the normalised names (lower case, punctuation dropped), which forgives a missing suffix (``Acme`` vs
   ``Acme Inc``), capitals and commas. A domain-blocked pair needs ``name_threshold``; a name-only pair
   ``name_only_threshold``. Confidence: the similarity / 100, capped at 0.95 for domain pairs and 0.6 for
   name-only pairs (distinct companies share names).
3. The survivor is the account created first (then the smallest id); each other account of the group is
   reported against it.

The finding: ``entity`` the duplicate account, ``related_id`` the survivor; no credit moves by itself
(``revenue_at_stake`` 0); ``evidence`` is empty (accounts' creation is not a ledger event).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd
from rapidfuzz import fuzz

from revalign.analytics.audit.common import email_domain, normalised_email
from revalign.analytics.audit.findings import FINDING_COLUMNS
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables

KIND = "duplicate_account"
_SUFFIXES = r"\b(inc|llc|ltd|gmbh|sa|ag|bv|plc|corp|co|company|group|limited)\b"


def _name_key(name: ir.StringValue) -> ir.StringValue:
    """Lower case, punctuation dropped, spaces collapsed: what a person would call the same name."""
    return name.lower().re_replace(r"[^a-z0-9 ]", " ").re_replace(r"\s+", " ").strip()


def _domain_blocks(tables: Tables, settings: AuditSettings) -> ir.Table:
    """``(account_id, block)``: the company domains each account's leads write from."""
    cfg = settings.duplicate_account
    leads = tables.table("leads").filter(lambda t: t.email.notnull() & t.account_id.notnull())
    d = leads.select(account_id=leads.account_id, block=email_domain(normalised_email(leads.email)))
    d = d.filter(d.block.notnull() & ~d.block.isin(list(cfg.free_email_domains))).distinct()
    size = d.group_by("block").aggregate(n=d.account_id.count())
    size = size.filter((size.n > 1) & (size.n <= cfg.max_accounts_per_domain))
    return d.semi_join(size, d.block == size.block)


def _name_blocks(tables: Tables) -> ir.Table:
    a = tables.table("accounts").filter(lambda t: t.name.notnull())
    key = _name_key(a.name).re_replace(_SUFFIXES, " ").re_replace(r"\s+", " ").strip()
    d = a.select(account_id=a.account_id, block="name:" + key).filter(lambda t: t.block != "name:")
    size = d.group_by("block").aggregate(n=d.account_id.count()).filter(lambda t: t.n > 1)
    return d.semi_join(size, d.block == size.block)


def candidates(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Candidate pairs (``account_id``, ``survivor``, names, ``by_domain``): every account of a block paired with
    the block's first-created account. Small by construction, so the caller pulls it into pandas."""
    blocks = _domain_blocks(tables, settings).mutate(by_domain=ibis.literal(True))
    if settings.duplicate_account.match_names_without_domain:
        blocks = ibis.union(blocks, _name_blocks(tables).mutate(by_domain=ibis.literal(False)))
    a = tables.table("accounts").select("account_id", "name", "created_at")
    b = blocks.inner_join(a, "account_id")
    rank = ibis.row_number().over(group_by=b.block, order_by=[b.created_at, b.account_id])
    b = b.mutate(_rn=rank)
    first = b.filter(b._rn == 0).select(f_block="block", survivor="account_id", survivor_name="name")
    rest = b.filter(b._rn > 0)
    j = rest.inner_join(first, rest.block == first.f_block)
    return j.select(
        "account_id", "name", "created_at", "survivor", "survivor_name", "by_domain", name_key=_name_key(j.name)
    ).mutate(survivor_key=lambda t: _name_key(t.survivor_name))


def _score(pairs: pd.DataFrame, settings: AuditSettings) -> pd.DataFrame:
    cfg = settings.duplicate_account
    similarity = [
        fuzz.token_set_ratio(str(x), str(y)) for x, y in zip(pairs["name_key"], pairs["survivor_key"], strict=True)
    ]
    pairs = pairs.assign(similarity=pd.Series(similarity, index=pairs.index, dtype="float64"))
    by_domain = pairs["by_domain"].astype(bool)
    keep = (by_domain & (pairs["similarity"] >= cfg.name_threshold)) | (
        ~by_domain & (pairs["similarity"] >= cfg.name_only_threshold)
    )
    pairs = pairs[keep].copy()
    cap = by_domain[keep].map({True: 0.95, False: 0.6})
    pairs["confidence"] = (pairs["similarity"] / 100.0).clip(upper=cap)
    # an account in a domain block and a name block: keep its strongest pair
    pairs = pairs.sort_values(["account_id", "confidence", "survivor"], ascending=[True, False, True])
    return pairs.drop_duplicates("account_id")


def duplicate_account(tables: Tables, settings: AuditSettings) -> pd.DataFrame:
    """Every duplicate account against its survivor (findings columns, ``finding_id`` null)."""
    pairs = _score(tables.to_pandas(candidates(tables, settings)), settings)
    n = len(pairs)
    detail = [
        f"same company as {r.survivor} ({r.survivor_name!r} vs {r.name!r}, name similarity {r.similarity:.0f})"
        for r in pairs.itertuples()
    ]
    data = {
        "finding_id": [None] * n,
        "kind": [KIND] * n,
        "entity_type": ["account"] * n,
        "entity_id": pairs["account_id"].tolist(),
        "related_id": pairs["survivor"].tolist(),
        "actor_id": [None] * n,
        "occurred_at": pairs["created_at"].tolist(),
        "recorded_at": pairs["created_at"].tolist(),
        "confidence": pairs["confidence"].tolist(),
        "channel_from": [None] * n,
        "channel_to": [None] * n,
        "opportunity_id": [None] * n,
        "revenue_at_stake": [0.0] * n,
        "evidence": [None] * n,
        "detail": detail,
    }
    return pd.DataFrame({c: data[c] for c in FINDING_COLUMNS})

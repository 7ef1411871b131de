"""One chunk of leads while its lifecycle is generated: the inputs, the random stream and the rows that grow.

The lifecycle stages (:mod:`~revalign.simulate.handoff`, :mod:`~revalign.simulate.deals`,
:mod:`~revalign.simulate.duplicates`, then the tables in :mod:`~revalign.simulate.lifecycle`) run in a fixed
order on one :class:`Chunk`. Each stage draws from ``chunk.rng`` in its turn, so the order of the stages is the
order of the random draws: same seed, same bytes. Stages write ledger events, labels and touches into the
chunk and return the per-lead or per-deal arrays the later stages need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from revalign.simulate.company import Calendar, Marketing, Org
from revalign.simulate.config import SimulationConfig
from revalign.simulate.gaming import Labels
from revalign.simulate.journeys import Accounts, Journeys
from revalign.simulate.ledger import LedgerBuilder


class Counters:
    """Running id numbers shared by all chunks, so ids stay unique and generation stays sequential."""

    def __init__(self, scale_leads: int) -> None:
        self.next = {"lead": scale_leads, "account": scale_leads, "opportunity": 0, "touch": 0, "subscription": 0}

    def take(self, kind: str, n: int) -> np.ndarray:
        first = self.next[kind]
        self.next[kind] = first + n
        return np.arange(first, first + n, dtype=np.int64)


@dataclass
class Touches:
    """Touch rows gathered from several stages (``lead`` indexes the chunk's lead rows).

    The order of ``add`` calls matters: touches are sorted by (lead, time) at the end with a stable sort, so
    ties keep the order they were added in.
    """

    lead: list[np.ndarray] = field(default_factory=list)
    t: list[np.ndarray] = field(default_factory=list)
    channel: list[np.ndarray] = field(default_factory=list)
    campaign: list[np.ndarray] = field(default_factory=list)
    interaction: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        lead: np.ndarray,
        t: np.ndarray,
        channel: int | np.ndarray,
        campaign: int | np.ndarray,
        interaction: str | np.ndarray,
    ) -> None:
        """Touches of leads ``lead`` at ``t``; a scalar channel, campaign or interaction applies to all."""
        n = len(lead)
        self.lead.append(np.asarray(lead, dtype=np.int64))
        self.t.append(np.asarray(t, dtype=np.float64))
        self.channel.append(np.broadcast_to(np.asarray(channel, dtype=np.int64), (n,)))
        self.campaign.append(np.broadcast_to(np.asarray(campaign, dtype=np.int64), (n,)))
        self.interaction.append(np.broadcast_to(np.asarray(interaction, dtype=object), (n,)))


@dataclass
class Chunk:
    """What every lifecycle stage of one chunk reads (config, company, leads, random stream) and writes to."""

    cfg: SimulationConfig
    cal: Calendar
    org: Org
    mkt: Marketing
    acc: Accounts
    jr: Journeys
    counters: Counters
    rng: np.random.Generator
    ledger: LedgerBuilder
    labels: Labels
    touches: Touches

    @classmethod
    def open(
        cls,
        cfg: SimulationConfig,
        cal: Calendar,
        org: Org,
        mkt: Marketing,
        acc: Accounts,
        jr: Journeys,
        counters: Counters,
        rng: np.random.Generator,
    ) -> Chunk:
        """A chunk with empty ledger and labels and the journeys' touches as its first touches."""
        as_of = float(cal.days)
        touches = Touches()
        touches.add(jr.touch_lead, jr.touch_t, jr.touch_channel, jr.touch_campaign, jr.touch_interaction)
        return cls(
            cfg,
            cal,
            org,
            mkt,
            acc,
            jr,
            counters,
            rng,
            LedgerBuilder(cfg.start, as_of, rng),
            Labels(cfg.start, as_of),
            touches,
        )

    @property
    def as_of(self) -> float:
        """The simulation end (float days): events after it are cut, as in a CRM exported then."""
        return float(self.cal.days)

    @property
    def outbound(self) -> int:
        """Index of the ``outbound_sales`` channel (sales' own calls, and what gamed sources are set to)."""
        return self.cfg.channel_names.index("outbound_sales")

    @property
    def email(self) -> int:
        """Index of the ``email`` channel (nurture emails after conversion)."""
        return self.cfg.channel_names.index("email")

    def users(self, idx: np.ndarray) -> pa.Array:
        """User ids of user indices (−1 → null)."""
        return self.org.user_ids_at(idx)

    def lead_ids(self, idx: np.ndarray) -> pa.Array:
        """Ids of the chunk's original leads at positions ``idx``."""
        return self.jr.ids.take(pa.array(idx))


def pick_other(pool: np.ndarray, avoid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random member of ``pool`` different from ``avoid`` (when the pool has more than one)."""
    k = rng.integers(0, len(pool), len(avoid))
    out = pool[k]
    clash = out == avoid
    if len(pool) > 1:
        out[clash] = pool[(k[clash] + 1 + rng.integers(0, len(pool) - 1, int(clash.sum()))) % len(pool)]
    return out

"""The ground truth of a simulated company: what really happened, to score models and audits against.

``GroundTruth.to_dict()`` is the JSON file (``ground_truth.json``): the configuration, the conversion model
and its per-channel incremental effects, spend and response curves, realised per-channel counts, per-rep
follow-up delay parameters, and every injected fault label. Two tables travel with it as Parquet:

- ``labels``: one row per injected fault / SLA breach (``kind``, entity, related entity, field, original
  and new value, when, who) — see :mod:`revalign.simulate.gaming` for the kinds;
- ``leads``: per original lead, the latent truth: true source, propensity (= ``account_effect`` +
  ``lead_effect``), conversion probability, whether it converted (even when the CRM hides it), its journey's
  channels (``x_<channel>``), follow-up delay and SLA.

The propensity is latent but not invisible: the CRM records noisy views of its two parts, as real CRMs record
firmographics and roles (:mod:`revalign.simulate.profiles`). ``accounts.employee_growth`` and
``accounts.tech_fit`` follow ``account_effect``; ``leads.job_level`` and ``leads.job_function`` follow
``lead_effect``. Together they explain about 90 % of the propensity's variance; the rest stays latent.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

MAX_JSON_LABELS = 500_000
"""Beyond this many labels (scale xl) the JSON names the Parquet file instead of inlining them."""

CONVERSION_MODEL = (
    "P(lead i becomes an opportunity) = 1 / (1 + exp(-(intercept[segment_i] + propensity_i + "
    "sum_c effect_c * x_ic))), x_ic = 1 when channel c appears among the lead's journey touches "
    "(touchpoints at or before its conversion time = its MQL time; for leads that never convert, all of its "
    "journey touches). incremental_conversions_c = sum_i x_ic * (p_i - p_i with effect_c removed). "
    "propensity_i = account_effect + lead_effect (truth/leads); recorded noisy views: accounts.employee_growth "
    "and accounts.tech_fit (account effect), leads.job_level and leads.job_function (lead effect)."
)


@dataclass
class GroundTruth:
    """Everything the simulator knows and the data does not say outright."""

    scale: str
    seed: int
    start: dt.date
    end: dt.date  # exclusive: the moment the CRM was exported
    config: dict[str, Any]
    channels: dict[str, dict[str, Any]]
    reps: dict[str, Any]
    counts: dict[str, int]
    totals: dict[str, float]
    labels: pa.Table
    leads: pa.Table | None = None  # per-lead truth (None when it was written to Parquet in chunks)
    notes: dict[str, str] = field(default_factory=lambda: {"conversion_model": CONVERSION_MODEL})

    def labels_of(self, kind: str) -> pa.Table:
        return self.labels.filter(pc.equal(self.labels.column("kind"), kind))

    @property
    def true_sources(self) -> dict[str, str]:
        """True lead source of every lead whose CRM source is false (lead id → channel): overwritten leads, and
        leads re-created as outbound after a "no opportunity" close (they carry the original lead's source)."""
        out: dict[str, str] = {}
        for kind in ("lead_source_overwrite", "no_opportunity_recreate"):
            t = self.labels_of(kind)
            out.update(zip(t.column("entity_id").to_pylist(), t.column("original_value").to_pylist(), strict=True))
        return out

    def to_dict(self, max_labels: int = MAX_JSON_LABELS) -> dict[str, Any]:
        """The JSON form; labels are inlined up to ``max_labels`` rows (beyond: only in ``truth/labels.parquet``)."""
        kinds = self.labels.column("kind").value_counts().to_pylist()
        counts_by_kind = {k["values"]: k["counts"] for k in kinds}
        inline = self.labels.num_rows <= max_labels
        labels = (
            [
                {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}
                for row in self.labels.to_pylist()
            ]
            if inline
            else None
        )
        return {
            "scale": self.scale,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "notes": self.notes,
            "config": self.config,
            "channels": self.channels,
            "reps": self.reps,
            "counts": self.counts,
            "totals": self.totals,
            "label_counts": dict(sorted(counts_by_kind.items())),
            "true_lead_sources": self.true_sources,
            "labels_file": "truth/labels.parquet",
            "labels": labels,
        }

    @classmethod
    def read(cls, folder: str | Path) -> GroundTruth:
        """The ground truth written beside a simulated company (``ground_truth.json`` + ``truth/`` tables).

        Works for both layouts: ``simulate_to_parquet`` (``truth/leads/part-*.parquet``) and
        ``SimulatedCompany.to_parquet`` (``truth/leads.parquet``).
        """
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        folder = Path(folder)
        d = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
        leads_path = folder / "truth" / "leads"
        if not leads_path.is_dir():
            leads_path = folder / "truth" / "leads.parquet"
        leads = ds.dataset(leads_path, format="parquet").to_table() if leads_path.exists() else None
        return cls(
            scale=d["scale"],
            seed=d["seed"],
            start=dt.date.fromisoformat(d["start"]),
            end=dt.date.fromisoformat(d["end"]),
            config=d["config"],
            channels=d["channels"],
            reps=d["reps"],
            counts=d["counts"],
            totals=d["totals"],
            labels=pq.read_table(folder / d.get("labels_file", "truth/labels.parquet")),
            leads=leads,
            notes=d["notes"],
        )

    def write(self, folder: Path) -> Path:
        path = Path(folder) / "ground_truth.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=False), encoding="utf-8")
        return path

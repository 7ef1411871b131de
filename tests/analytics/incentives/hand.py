"""A small company written by hand, and the plan the payout tests work through by hand (tests in test_payout.py).

Team T1: AEs A1 and A2, SDR S1, all reporting to manager M1; M1 reports to C1 (the CRO). Four won new-business
deals: O4 (A1, lead of S1, email, 10,000, Q1), O3 (A2, own lead, paid search, 30,000, Q1; its account churns on
2025-04-30, 100 days after the close), O1 (A1, lead of S1, webinar, 80,000, enterprise, Q2), O2 (A1, own lead,
outbound_sales, 60,000, Q2).
"""

from __future__ import annotations

from typing import Any

from revalign.definitions.comp import CompPlan, parse_comp_plans
from tests.analytics.funnel.builders import write

PLAN_YAML = """\
name: team_plan
version: 1
roles: [ae, sdr, manager]
period: quarter
target_variable_pay: 20000
measures:
  - name: new_revenue
    kind: credited_new_revenue
    north_star: true
    weight: 1.0
    quota: quotas
    tiers:
      - {upto: 0.5, rate: 0.05}
      - {upto: 1.0, rate: 0.10}
      - {rate: 0.15}
    cap: 12000
credit:
  splits: {opportunity_owner: 0.8, lead_owner: 0.2}
  overlays: [{relation: manager, share: 0.5}]
  sourced_multipliers: {sales: 1.25}
spifs:
  - {name: big_logo, amount: 500, min_amount: 50000, segments: [enterprise]}
clawback: {within_days: 180}
draw: {amount: 3000, recoverable: true}
"""


def plan(text: str = PLAN_YAML) -> CompPlan:
    return parse_comp_plans((text, "team_plan.yaml"))["team_plan"]


def _deal(oid: str, owner: str, lead: str, amount: float, source: str, closed: str, **extra: Any) -> dict[str, Any]:
    return {
        "opportunity_id": oid,
        "owner_id": owner,
        "lead_id": lead,
        "account_id": "AC" + oid[1:],
        "amount": amount,
        "lead_source": source,
        "closed_at": closed,
        "close_date": closed[:10],
        "created_at": "2024-12-01",
        "is_closed": True,
        "is_won": True,
        "stage": "closed_won",
        "deal_type": "new_business",
        "segment": extra.get("segment", "smb"),
    }


def write_company(engine: Any) -> None:
    write(
        engine,
        users=[
            {"user_id": "C1", "role": "executive", "team_id": "T0"},
            {"user_id": "M1", "role": "manager", "team_id": "T1", "manager_id": "C1"},
            {"user_id": "A1", "role": "ae", "team_id": "T1", "manager_id": "M1"},
            {"user_id": "A2", "role": "ae", "team_id": "T1", "manager_id": "M1"},
            {"user_id": "S1", "role": "sdr", "team_id": "T1", "manager_id": "M1"},
        ],
        quotas=[
            {"user_id": "A1", "period_start": "2025-01-01", "period_end": "2025-03-31", "amount": 100_000.0},
            {"user_id": "A1", "period_start": "2025-04-01", "period_end": "2025-06-30", "amount": 100_000.0},
            {"user_id": "A2", "period_start": "2025-01-01", "period_end": "2025-03-31", "amount": 50_000.0},
        ],
        leads=[
            {"lead_id": "L1", "owner_id": "S1", "lead_source": "webinar"},
            {"lead_id": "L2", "owner_id": "A1", "lead_source": "outbound_sales"},
            {"lead_id": "L3", "owner_id": "A2", "lead_source": "paid_search"},
            {"lead_id": "L4", "owner_id": "S1", "lead_source": "email"},
        ],
        opportunities=[
            _deal("O4", "A1", "L4", 10_000.0, "email", "2025-01-15 10:00"),
            _deal("O3", "A2", "L3", 30_000.0, "paid_search", "2025-01-20 10:00"),
            _deal("O1", "A1", "L1", 80_000.0, "webinar", "2025-05-10 10:00", segment="enterprise"),
            _deal("O2", "A1", "L2", 60_000.0, "outbound_sales", "2025-06-05 10:00"),
        ],
        subscriptions=[
            {
                "subscription_id": "S3",
                "account_id": "AC3",
                "opportunity_id": "O3",
                "start_date": "2025-01-21",
                "end_date": "2025-04-30",
                "mrr": 2500.0,
            },
            {
                "subscription_id": "S1",
                "account_id": "AC1",
                "opportunity_id": "O1",
                "start_date": "2025-05-11",
                "end_date": None,
                "mrr": 6000.0,
            },
        ],
    )

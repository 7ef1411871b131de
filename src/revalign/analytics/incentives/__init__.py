"""Incentives: comp plans' credit lines, payouts with line-item statements, and the perverse-incentive check
(docs/incentives.md). Each module takes canonical tables (or records read from them) and a plan, never a Project."""

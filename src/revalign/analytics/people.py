"""The people behind ids: every user's name and team, for roll-ups and sentences that name who did what."""

from __future__ import annotations

import pandas as pd

from revalign.model.access import Tables


def people(tables: Tables) -> pd.DataFrame:
    """``actor_id, name, team_id, team`` for every user (team names from ``teams``); small, so pulled whole."""
    users, teams = tables.table("users"), tables.table("teams")
    u = tables.to_pandas(users.select("user_id", "name", "team_id"))
    t = tables.to_pandas(teams.select("team_id", team=teams.name))
    staff = u.merge(t, on="team_id", how="left").rename(columns={"user_id": "actor_id"})
    staff["team"] = staff["team"].fillna(staff["team_id"])
    return staff.drop_duplicates("actor_id")


def names_of(tables: Tables, ids: pd.Series) -> pd.Series:
    """Display names for user ids ("Ana Ruiz (U0030)"); an id the users table lacks stays as it is."""
    known = people(tables).set_index("actor_id")["name"]
    named = ids.map(known)
    labelled = named.astype("object") + " (" + ids.astype("object") + ")"
    return labelled.where(named.notna(), ids)


__all__ = ["names_of", "people"]

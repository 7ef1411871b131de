"""``revalign score versions|propose|approve|apply|explain|feedback|drift|export``: lead scoring both teams agree on.

A scoring model is YAML in the project (``scoring/*.yaml``; docs/scoring.md). ``propose`` records a version for
approval; the marketing and sales leaders each ``approve`` it (here with their login's password, or with the
button on the /scoring page); only then does ``apply`` write its scores to the ``scores`` table (``--unapproved``
scores a draft anyway, for a trial). ``explain`` shows one lead's points rule by rule, ``feedback`` sales'
rejections by band, reason and rule with backtested point changes, ``drift`` the PSI between two windows, and
``export`` the applied scores as a CSV the CRM imports. Numbers come from :mod:`revalign.analytics.scoring`.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from revalign.definitions.scoring import DEFAULT_DIR, ScoringModel
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, emit, print_json, print_table
from revalign.interfaces.cli.usage import usage_error
from revalign.interfaces.cli.users import open_store
from revalign.interfaces.spreadsheet import safe_frame
from revalign.project import Project, open_project

if TYPE_CHECKING:
    from revalign.interfaces.server.state.approvals import Approvals

score_app = typer.Typer(
    help="Lead scoring: rule versions (propose, approve, apply, explain, feedback, drift, export) and a "
    "predictive model (fit, backtest, explain-model).",
    no_args_is_help=True,
)
app.add_typer(score_app, name="score")

ProjectOpt = Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ModelOpt = Annotated[str | None, typer.Option(help="Scoring model name (default: the project's first).")]
VersionOpt = Annotated[int | None, typer.Option(help="Model version (default: the approved one in force).")]
AsOfOpt = Annotated[
    str | None, typer.Option(help="Score as of this date or time (ISO; default: now). Nothing later is used.")
]
StateOpt = Annotated[str | None, typer.Option(help="App state database URL (default: SQLite in the project).")]


def _approvals(project: Path, state_url: str | None) -> Approvals:
    # imported here, as in `revalign users`: the server's state store (SQLAlchemy, Alembic) takes a while to
    # import and only the approval commands need it
    from revalign.interfaces.server.state.approvals import Approvals

    return Approvals(open_store(project, state_url))


def _as_of(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        usage_error(f"--as-of must be an ISO date or time such as 2025-12-31 or 2025-12-31T18:00; got {text!r}")
    if len(text) <= 10:  # a date: its end, everything that happened that day is known
        parsed = dt.datetime.combine(parsed.date(), dt.time(23, 59, 59, 999999))
    return parsed


def _model(
    proj: Project, name: str | None, version: int | None, project: Path, state_url: str | None, *, strict: bool
) -> ScoringModel:
    """Version ``version``, else the approved one in force (else, unless ``strict``, the newest).

    ``strict`` (``apply``): only the approved version in force, with the content that was approved.
    """
    newest = proj.scoring_model(name)
    record = _approvals(project, state_url).in_force("scoring", newest.name)
    if version is None:
        if record is None:
            if strict:
                usage_error(
                    f"no version of {newest.name} is approved yet: `revalign score propose`, then the marketing and "
                    "sales leaders approve it (`revalign score approve` or the /scoring page); --unapproved scores "
                    "a draft."
                )
            return newest
        version = int(record.version)
    model = proj.scoring_model(newest.name, version)
    if strict and (
        record is None or int(record.version) != model.version or record.content_hash != model.content_hash()
    ):
        usage_error(
            f"{model.key} is not the approved version in force (or its file changed since it was approved); "
            "pass --unapproved to score it anyway as a trial."
        )
    return model


def install_demo_scoring(project: Project, state_url: str | None = None) -> str:
    """The simulated company's scoring rule for a demo project: copied to ``scoring/lead_score.yaml`` (kept when
    it exists) and proposed, so the marketing and sales logins find a version to approve on /scoring."""
    target = project.folder / "scoring" / "lead_score.yaml"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEFAULT_DIR / "simulator.yaml", target)
    model = project.scoring_model("lead_score")
    required = tuple(sorted({o.department for o in model.owners}))
    rec = _approvals(project.folder, state_url).propose(
        "scoring", model.name, model.version, model.content_hash(), required, by="revops"
    )
    return f"Scoring model {model.key} in scoring/lead_score.yaml: {rec.status} (approve it on /scoring)"


@score_app.command("versions")
def versions(project: ProjectOpt = Path("."), state_url: StateOpt = None, as_json: JsonOpt = False) -> None:
    """Every scoring model version in the project and its approval status (who signed, when)."""
    proj = open_project(project)
    records = {(r.name, r.version): r for r in _approvals(project, state_url).proposals("scoring")}
    rows = []
    for (name, version), model in sorted(proj.scoring_models().items()):
        rec = records.get((name, str(version)))
        signed = (
            ", ".join(f"{s.department}: {s.username} {s.signed_at:%Y-%m-%d %H:%M}" for s in rec.signatures)
            if rec
            else ""
        )
        rows.append(
            {
                "model": name,
                "version": version,
                "mql_threshold": model.mql_threshold,
                "status": rec.status if rec else "draft",
                "approval_id": rec.id if rec else None,
                "signed": signed,
                "missing": ", ".join(rec.missing) if rec else "",
            }
        )
    emit(pd.DataFrame(rows), as_json=as_json, title="Scoring model versions")


@score_app.command("propose")
def propose(
    model: ModelOpt = None,
    version: Annotated[int | None, typer.Option(help="Version to propose (default: the newest).")] = None,
    by: Annotated[str, typer.Option(help="Who proposes it (a name or login).")] = "revops",
    note: Annotated[str, typer.Option(help="Why this version (shown to the signatories).")] = "",
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a version for approval by its owners' departments (marketing and sales at least)."""
    chosen = open_project(project).scoring_model(model, version)
    required = tuple(sorted({o.department for o in chosen.owners}))
    rec = _approvals(project, state_url).propose(
        "scoring", chosen.name, chosen.version, chosen.content_hash(), required, by=by, note=note
    )
    if as_json:
        print_json(rec.to_dict())
        return
    waiting = ", ".join(rec.missing) or "—"
    console.print(f"Proposed {chosen.key} (approval {rec.id}, status {rec.status}); waiting for: {waiting}.")


@score_app.command("approve")
def approve(
    approval_id: Annotated[int, typer.Argument(help="Approval id (see `revalign score versions`).")],
    user: Annotated[str, typer.Option(help="Your login (a marketing or sales leader).")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a proposed version for your department; it takes effect when every required department signed."""
    store = open_store(project, state_url)
    who = store.authenticate(user, password)
    if who is None:
        usage_error(f"wrong user name or password for {user!r}.")
    approvals = _approvals(project, state_url)
    rec = approvals.get(approval_id)
    current = open_project(project).scoring_model(rec.name, int(rec.version))
    rec = approvals.sign(approval_id, who, current.content_hash())
    if as_json:
        print_json(rec.to_dict())
        return
    state = "in force" if rec.status == "approved" else f"waiting for {', '.join(rec.missing)}"
    console.print(f"{who.username} signed {rec.name} v{rec.version}: {state}.", highlight=False)


@score_app.command("apply")
def apply(
    model: ModelOpt = None,
    version: VersionOpt = None,
    as_of: AsOfOpt = None,
    unapproved: Annotated[bool, typer.Option("--unapproved", help="Score a version nobody approved (trial).")] = False,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write every lead's score as of --as-of to the ``scores`` table (once per version and moment)."""
    proj = open_project(project)
    try:
        chosen = _model(proj, model, version, project, state_url, strict=not unapproved)
        result = proj.apply_scores(chosen, _as_of(as_of))
    finally:
        proj.close()
    if as_json:
        print_json(result.to_dict())
        return
    if result.already_applied:
        console.print(f"{chosen.key} as of {result.scored_at:%Y-%m-%d %H:%M} was already applied: nothing added.")
    else:
        console.print(f"Wrote {result.rows_added} scores of {chosen.key} as of {result.scored_at:%Y-%m-%d %H:%M}.")


@score_app.command("explain")
def explain(
    lead_id: Annotated[str, typer.Argument(help="The lead to explain.")],
    model: ModelOpt = None,
    version: VersionOpt = None,
    as_of: AsOfOpt = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One lead's points rule by rule, its score, band and MQL decision."""
    proj = open_project(project)
    chosen = _model(proj, model, version, project, state_url, strict=False)
    frame = proj.score_leads(chosen, _as_of(as_of))
    row = frame[frame["lead_id"] == lead_id]
    if row.empty:
        usage_error(f"no lead {lead_id!r} was known as of that time.")
    r = row.iloc[0]
    rules = [{"rule": c.removeprefix("rule__"), "points": float(r[c])} for c in frame.columns if c.startswith("rule__")]
    if as_json:
        print_json(
            {
                "lead_id": lead_id,
                "model": chosen.key,
                "score": float(r["score"]),
                "band": r["band"],
                "is_mql": bool(r["is_mql"]),
                "rules": rules,
            }
        )
        return
    print_table(pd.DataFrame(rules), title=f"{lead_id} under {chosen.key}")
    mql = "an MQL" if r["is_mql"] else "not an MQL"
    console.print(f"Score {r['score']:g} (caps applied), band {r['band']}: {mql} (threshold {chosen.mql_threshold:g}).")


@score_app.command("feedback")
def feedback(
    model: ModelOpt = None,
    version: VersionOpt = None,
    as_of: AsOfOpt = None,
    suggest: Annotated[bool, typer.Option("--suggest", help="Also backtest point changes per rule.")] = False,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sales' accepted and rejected MQLs by band, reason and rule (and suggested point changes)."""
    proj = open_project(project)
    chosen = _model(proj, model, version, project, state_url, strict=False)
    moment = _as_of(as_of)
    summary = proj.scoring_summary(chosen, moment)
    suggestions = proj.scoring_suggestions(chosen, moment) if suggest else None
    if as_json:
        payload = summary.to_dict()
        payload["suggestions"] = suggestions.to_dict("records") if suggestions is not None else None
        print_json(payload)
        return
    context = display_context(proj)
    print_table(summary.bands, title=f"Bands of {chosen.key}: leads, MQLs, conversion", context=context)
    print_table(summary.rejections_by_band, title="Rejected MQLs by band and reason", context=context)
    print_table(summary.rejections_by_rule, title="Rejections by rule", context=context)
    if suggestions is not None:
        print_table(suggestions, title="Point changes, backtested on the same leads", context=context)


def _window(text: str, option: str) -> tuple[dt.date, dt.date]:
    try:
        start, end = (dt.date.fromisoformat(p) for p in text.split(":"))
    except ValueError:
        usage_error(f"{option} must be START:END dates, e.g. 2025-01-01:2025-06-30; got {text!r}")
    return start, end


@score_app.command("drift")
def drift(
    baseline: Annotated[str, typer.Option(help="Baseline window START:END (leads created then).")],
    current: Annotated[str, typer.Option(help="Current window START:END.")],
    model: ModelOpt = None,
    version: VersionOpt = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """PSI of the score, of each rule's points and of each fit field between two windows' leads."""
    proj = open_project(project)
    chosen = _model(proj, model, version, project, state_url, strict=False)
    frame = proj.scoring_drift(chosen, baseline=_window(baseline, "--baseline"), current=_window(current, "--current"))
    emit(frame, as_json=as_json, title=f"Drift of {chosen.key} (PSI)")


@score_app.command("export")
def export(
    model: ModelOpt = None,
    version: Annotated[int | None, typer.Option(help="Version (default: the newest applied).")] = None,
    crm: Annotated[str, typer.Option(help="Import format: generic, salesforce or hubspot.")] = "generic",
    out: Annotated[Path | None, typer.Option(help="CSV file to write (default: print to stdout).")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """The latest applied scores as a CSV with the CRM importer's headers (cells spreadsheet-safe)."""
    proj = open_project(project)
    frame = safe_frame(proj.score_export(model or proj.scoring_model().name, version, crm))
    if out is None:
        print(frame.to_csv(index=False), end="")
        return
    frame.to_csv(out, index=False)
    console.print(f"Wrote {len(frame)} scores to {out}", highlight=False)

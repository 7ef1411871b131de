"""``revalign simulate``: generate a simulated B2B company (Parquet + ground truth), optionally into an engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from revalign.engine import connect
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit
from revalign.project import open_project


@app.command("simulate")
def simulate_command(
    scale: Annotated[str, typer.Option(help="Size: xs, s (seconds), m, l (≈1M leads), xl (≈100M touches).")] = "s",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives byte-identical files.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for <table>/part-*.parquet and ground_truth.json (default ./simulation-SCALE-SEED)."),
    ] = None,
    engine: Annotated[str | None, typer.Option(help="Also load the tables into this engine URL.")] = None,
    project: Annotated[Path | None, typer.Option(help="Also load the tables into this project's engine.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows per table as JSON.")] = False,
) -> None:
    """Simulate a company with known ground truth; print rows per table."""
    # imported here: the simulator (scipy) takes a second to import, and only this command
    # needs it (not every `revalign` run)
    from revalign.simulate import simulate_to_parquet
    from revalign.simulate.config import get_scale

    get_scale(scale)  # unknown scale → exit code 6 before any work
    folder = out or Path(f"simulation-{scale}-{seed}")
    if as_json:
        truth = simulate_to_parquet(folder, scale=scale, seed=seed)
    else:
        with console.status(f"Simulating scale {scale} (seed {seed}) into {folder} …"):
            truth = simulate_to_parquet(folder, scale=scale, seed=seed)
    loaded: dict[str, int] = {}
    target = None
    if project is not None:
        target = open_project(project, engine=engine).engine
    elif engine is not None:
        target = connect(engine)
    if target is not None:
        for name in truth.counts:
            loaded[name] = target.load_parquet(name, folder / name)
    frame = pd.DataFrame(
        {
            "table": list(truth.counts),
            "rows": list(truth.counts.values()),
            **({"loaded": [loaded.get(n) for n in truth.counts]} if loaded else {}),
        }
    )
    emit(frame, as_json=as_json, title=f"Simulated company (scale {scale}, seed {seed}) in {folder}")
    if not as_json:
        console.print(f"Ground truth: {folder / 'ground_truth.json'}")

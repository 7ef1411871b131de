"""A simulated B2B company with known ground truth, at any scale (demo data, tests, benchmarks).

``simulate(scale="s", seed=0)`` returns every canonical table plus a :class:`GroundTruth`;
``simulate_to_parquet(folder, scale="l")`` writes the same in bounded-memory chunks. Same seed, same bytes.
The conversion model that attribution is scored against is documented in :mod:`revalign.simulate.journeys`,
the injected faults in :mod:`revalign.simulate.gaming`, the truth file in :mod:`revalign.simulate.truth`.
"""

from revalign.simulate.config import DEMO_CONFIG, SCALES, ChannelConfig, Scale, SimulationConfig, demo_scale
from revalign.simulate.gaming import FAULT_KINDS
from revalign.simulate.generator import SimulatedCompany, simulate, simulate_to_parquet
from revalign.simulate.truth import GroundTruth

__all__ = [
    "DEMO_CONFIG",
    "FAULT_KINDS",
    "SCALES",
    "ChannelConfig",
    "GroundTruth",
    "Scale",
    "SimulatedCompany",
    "SimulationConfig",
    "demo_scale",
    "simulate",
    "simulate_to_parquet",
]

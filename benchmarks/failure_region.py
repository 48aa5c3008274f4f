"""Does the default strategy learn where experiments fail? The simulated lab, instantly, over several seeds.

Runs ``examples/simulated-lab.yaml`` (P3HT/CNT pool; every film with 20 % or more D2 fails, about 10 % of the
candidates) with its three instruments made instant (``time_scale: 0``) and 4 experiments in flight, once with
the failure classifier (the default) and once without, and reports the share of proposals after the first 30
experiments that fall inside the failing region.

    .venv/bin/python benchmarks/failure_region.py [--seeds 5] [--budget 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import yaml

from kiln import Campaign
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.spec import spec_from_dict
from kiln.lab.stopping import StopRules

SPEC = Path(__file__).resolve().parents[1] / "examples" / "simulated-lab.yaml"
AFTER = 30


def share_inside(seed: int, budget: int, feasibility: bool) -> float:
    """One run; the share of experiments after the first ``AFTER`` that lie in a failure region."""
    document = yaml.safe_load(SPEC.read_text())
    document["seed"] = seed
    document["strategy"] = {"kind": "bayes", "acquisition": "ucb", "transform": "power", "feasibility": feasibility}
    for instrument in document["instruments"]:
        instrument["time_scale"] = 0
    spec = spec_from_dict(document, base=SPEC.parent, source=SPEC)
    built = spec.build_instruments(seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        campaign, _ = Campaign.open_or_create(spec.name, spec.config, store=f"sqlite:///{Path(folder) / 'lab.db'}")
        orchestrator = Orchestrator(
            campaign, [i for i, _, _ in built], in_flight=spec.in_flight, stop=StopRules(budget=budget)
        )
        orchestrator.run_sync()
        later = campaign.experiments()[AFTER:]
        campaign.store.close()
    region = built[0][0]
    return sum(region.in_failure_region(e.params) for e in later) / max(len(later), 1)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=60)
    args = parser.parse_args()
    print(
        f"| failure classifier | runs | share of proposals {AFTER + 1}-{args.budget} in the failing region (median) |"
    )
    print("|---|---|---|")
    for feasibility in (True, False):
        shares = [share_inside(seed, args.budget, feasibility) for seed in range(args.seeds)]
        print(
            f"| {'on (default)' if feasibility else 'off'} | {args.seeds} | {statistics.median(shares):.3f} "
            f"(max {max(shares):.3f}) |"
        )


if __name__ == "__main__":
    main()

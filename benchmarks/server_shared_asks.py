"""Many clients of one campaign with a model-based strategy: do their asks share fits?

Starts ``kiln serve`` on loopback over a fresh SQLite store (or ``--store URL``) and makes two campaigns on the
Crossed-barrel pool (600 geometries, Gongora et al. 2020) with the default strategy. One client does
``clients x pairs`` ask/tell pairs in sequence on the first; then ``--clients`` threads do ``--pairs`` pairs each on
the second. Each tell is the dataset's measured toughness. Prints the wall time of each, their ratio, p50/p99 ask
latency and how many asks the strategy answered (one per round: asks that arrive together share one fit and one
batch acquisition). Both parts run in the same run, one after the other, so the ratio is fair on a busy machine.

    .venv/bin/python benchmarks/server_shared_asks.py [--clients 16] [--pairs 30] [--store URL]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from local_server import admin_token, load_arguments, local_server, run_clients

from kiln.client import Client, RemoteCampaign
from kiln.lab.emulator import DatasetEmulator

SPEC = {
    "pool": {"dataset": "crossed-barrel"},
    "objective": {"target": "toughness", "direction": "max"},
    "strategy": {"kind": "default"},
    "seed": 0,
}


def pairs(campaign: RemoteCampaign, count: int, emulator: DatasetEmulator, latencies: list[float]) -> None:
    """``count`` ask/tell pairs; appends each ask's seconds to ``latencies``."""
    for _ in range(count):
        start = time.perf_counter()
        (experiment,) = campaign.ask(1)
        latencies.append(time.perf_counter() - start)
        campaign.tell(experiment.id, emulator.measure(experiment.params)["toughness"])


def main() -> None:
    args = load_arguments(__doc__, pairs=30, port=8766)
    emulator = DatasetEmulator.builtin("crossed-barrel")
    total = args.clients * args.pairs
    with tempfile.TemporaryDirectory() as folder:
        url = args.store or f"sqlite:///{Path(folder) / 'shared.db'}"
        admin = admin_token(url, "shared")
        with local_server(url, args.port) as (base, _):
            stamp = time.time_ns()
            rows = []
            for label, clients, each in (("1 client", 1, total), (f"{args.clients} clients", args.clients, args.pairs)):
                name = f"shared-{clients}-{stamp}"
                Client(base, admin).create({**SPEC, "name": name})
                latencies: list[float] = []  # list.extend is atomic: the threads need no lock

                def worker(campaign_name: str = name, count: int = each, into: list[float] = latencies) -> None:
                    mine: list[float] = []
                    pairs(Client(base, admin, timeout=600).open(campaign_name), count, emulator, mine)
                    into.extend(mine)

                elapsed = run_clients(worker, clients)
                experiments = Client(base, admin).open(name).experiments()
                asks = len({e.batch for e in experiments})
                told = sum(1 for e in experiments if e.status.value == "completed")
                latencies.sort()
                p99 = latencies[int(0.99 * (len(latencies) - 1))]
                rows.append((label, each, elapsed, statistics.median(latencies), p99, asks, told))
    print("| clients x pairs | wall (s) | ratio | ask p50 (ms) | ask p99 (ms) | strategy asks | told |")
    print("|---|---|---|---|---|---|---|")
    single = rows[0][2]
    for label, each, elapsed, p50, p99, asks, told in rows:
        print(
            f"| {label} x {each} | {elapsed:.0f} | {elapsed / single:.2f} | {1000 * p50:.0f} | {1000 * p99:.0f} "
            f"| {asks} | {told} of {total} |"
        )


if __name__ == "__main__":
    main()

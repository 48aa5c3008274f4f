"""Many clients on one campaign through the REST API: requests per second, p50/p99 latency, and integrity.

Starts ``kiln serve`` on loopback over a fresh store (SQLite by default, or ``--store URL``), creates a campaign on
a 10,000-row candidate pool with the random strategy, then runs ``--clients`` threads that each do ``--pairs``
ask/tell pairs through ``kiln.client.Client``. Afterwards it checks that no suggestion was lost or duplicated
(every experiment told exactly once, every pool row suggested at most once) and counts 5xx answers and "database is
locked" errors.

    .venv/bin/python benchmarks/server_load.py [--clients 16] [--pairs 500] [--store postgresql+psycopg://...]
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from local_server import admin_token, load_arguments, local_server, run_clients

from kiln.client import Client


def main() -> None:
    args = load_arguments(__doc__, pairs=500, port=8765)
    with tempfile.TemporaryDirectory() as folder:
        url = args.store or f"sqlite:///{Path(folder) / 'load.db'}"
        pool = Path(folder) / "pool.csv"
        pool.write_text("x,y\n" + "".join(f"{i},0\n" for i in range(10_000)))
        admin = admin_token(url, "load")
        with local_server(url, args.port) as (base, log):
            name = f"load-{time.time_ns()}"
            spec = {
                "name": name,
                "pool": {"csv": str(pool), "inputs": ["x"]},
                "objective": {"target": "y", "direction": "max"},
                "strategy": {"kind": "random"},
            }
            Client(base, admin).create(spec)
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()

            def worker() -> None:
                campaign = Client(base, admin, timeout=120).open(name)
                for _ in range(args.pairs):
                    try:
                        start = time.perf_counter()
                        (experiment,) = campaign.ask(1)
                        middle = time.perf_counter()
                        campaign.tell(experiment.id, float(experiment.params["x"]))
                        end = time.perf_counter()
                        with lock:
                            latencies.extend([middle - start, end - middle])
                    except Exception as error:  # counted and reported, the load goes on
                        with lock:
                            errors.append(f"{type(error).__name__}: {error}")

            elapsed = run_clients(worker, args.clients)
            experiments = Client(base, admin).open(name).experiments()
    expected = args.clients * args.pairs
    candidates = [e.candidate for e in experiments]
    told = sum(1 for e in experiments if e.status.value == "completed")
    latencies.sort()
    print("| store | clients x pairs | requests/s | p50 (ms) | p99 (ms) | experiments | told | duplicates | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    print(
        f"| {url.split(':')[0]} | {args.clients} x {args.pairs} | {len(latencies) / elapsed:.0f} | "
        f"{1000 * statistics.median(latencies):.0f} | {1000 * p99:.0f} | {len(experiments)} of {expected} | {told} | "
        f"{len(candidates) - len(set(candidates))} | {len(errors)} |"
    )
    text = "\n".join(log)
    server_errors = text.count(" 500 ") + text.count("Internal Server Error")
    locked = text.count("database is locked") + sum("database is locked" in e for e in errors)
    print(f"\n5xx answers: {server_errors}; 'database is locked': {locked}")
    for error in sorted(set(errors))[:5]:
        print("error:", error)


if __name__ == "__main__":
    main()

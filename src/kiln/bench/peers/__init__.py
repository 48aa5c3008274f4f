"""Other BO libraries behind Kiln's Strategy protocol, to run them on Kiln's benchmarks.

Each adapter rebuilds its library's optimiser from the history on every ``propose`` call, tells it every completed
experiment, then asks it; see docs/peers.md. Importing this package imports neither torch nor any peer library:
the factories in ``PEERS`` import them when called. Install the peers with ``pip install .[peers]``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from kiln.strategies.base import Strategy


def _skopt_gp() -> Strategy:
    from kiln.bench.peers.skopt_gp import SkoptGP

    return SkoptGP()


def _optuna_tpe() -> Strategy:
    from kiln.bench.peers.optuna_samplers import OptunaTPE

    return OptunaTPE()


def _optuna_gp() -> Strategy:
    from kiln.bench.peers.optuna_samplers import OptunaGP

    return OptunaGP()


def _optuna_nsga2() -> Strategy:
    from kiln.bench.peers.optuna_samplers import OptunaNSGA2

    return OptunaNSGA2()


def _baybe(encoding: str = "onehot") -> Callable[[], Strategy]:
    def factory() -> Strategy:
        from kiln.bench.peers.baybe_default import BayBEDefault

        return BayBEDefault(encoding)

    return factory


def _ax() -> Strategy:
    from kiln.bench.peers.ax_client import AxDefault

    return AxDefault()


def _botorch_defaults() -> Strategy:
    from kiln.bench.peers.botorch_defaults import BotorchDefaults

    return BotorchDefaults()


PEERS: dict[str, Callable[[], Strategy]] = {
    "botorch-defaults": _botorch_defaults,
    "skopt-gp": _skopt_gp,
    "optuna-tpe": _optuna_tpe,
    "optuna-gp": _optuna_gp,
    "optuna-nsga2": _optuna_nsga2,
    "baybe": _baybe(),
    "baybe-mordred": _baybe("MORDRED"),
    "baybe-ecfp": _baybe("ECFP"),
    "baybe-rdkit2d": _baybe("RDKIT2DDESCRIPTORS"),
    "ax": _ax,
}
"""Peer name -> factory of its adapter (with the library's default settings)."""

LIBRARIES: dict[str, str] = {
    "botorch-defaults": "botorch",
    "skopt-gp": "skopt",
    "optuna-tpe": "optuna",
    "optuna-gp": "optuna",
    "optuna-nsga2": "optuna",
    "baybe": "baybe",
    "baybe-mordred": "baybe",
    "baybe-ecfp": "baybe",
    "baybe-rdkit2d": "baybe",
    "ax": "ax",
}
"""Peer name -> the top-level module its library installs."""


def available_peers() -> list[str]:
    """Names of the peers whose library is installed (found without importing it), in ``PEERS`` order."""
    return [name for name in PEERS if name == "botorch-defaults" or importlib.util.find_spec(LIBRARIES[name])]

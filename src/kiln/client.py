"""A Python client of the Kiln server with the surface of a local campaign.

    from kiln.client import Client

    campaign = Client("http://lab-server:8000", token="kiln_...").open("films")   # was: Campaign.open("films")
    for experiment in campaign.ask(3):
        campaign.tell(experiment.id, run_my_experiment(experiment.params))

``ask`` waits for suggestions the server computes as a job (polling every ``poll_interval`` seconds). Errors of
the server come back as the same KilnError classes a local campaign raises (ValidationError names the field).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ConflictError, KilnError, NotFoundError, StateError, ValidationError
from kiln.core.pool_file import inline_pool
from kiln.core.records import Experiment, ExperimentStatus, Imported, Origin, Revision
from kiln.core.revision_json import revision_from_json

if TYPE_CHECKING:
    import pandas as pd

API = "/api/v1"
CONFLICTS: dict[str, type[KilnError]] = {
    "StateError": StateError,
    "ConflictError": ConflictError,
    "StaleHistoryError": ConflictError,
    "LeaseHeldError": ConflictError,
}
"""The classes of a 409 answer's ``detail.type`` (``kiln.server.errors``) -> the class raised here."""


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def experiment_from_json(data: Mapping[str, Any]) -> Experiment:
    """An Experiment record from the server's JSON."""
    created = _when(data["created_at"])
    assert created is not None
    return Experiment(
        id=data["id"],
        seq=data["seq"],
        params=dict(data["params"]),
        status=ExperimentStatus(data["status"]),
        origin=Origin(data["origin"]),
        results={k: float(v) for k, v in data["results"].items()},
        reason=data["reason"],
        strategy=data["strategy"],
        batch=data["batch"],
        candidate=data["candidate"],
        created_at=created,
        finished_at=_when(data["finished_at"]),
        instrument=data.get("instrument", ""),
        handle=data.get("handle", ""),
        dispatched_at=_when(data.get("dispatched_at")),
        attention=data.get("attention", ""),
        outputs=dict(data.get("outputs") or {}),
        note=data.get("note", ""),
        amended=int(data.get("amended", 0)),
        retracted=bool(data.get("retracted", False)),
    )


class Client:
    """Connection to a Kiln server. ``token``: an API token (``kiln token create``); None for a public-read
    server, read only."""

    def __init__(
        self, url: str, token: str | None = None, *, timeout: float = 60.0, poll_interval: float = 0.5, http: Any = None
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http if http is not None else httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self.http.headers.update(headers)
        self.poll_interval = poll_interval

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; the JSON answer, or the server's error raised as a KilnError."""
        return self._answer(self.send(method, path, **kwargs))

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; the HTTP response (with its headers), or the server's error raised as a KilnError.

        A ``json`` body with NaN or infinity raises ValidationError naming the field, as a local campaign does,
        and nothing is sent (JSON has no such numbers)."""
        if "json" in kwargs:
            body = kwargs.pop("json")
            _check_finite(body, ())
            kwargs["content"] = json.dumps(body, allow_nan=False)
            kwargs["headers"] = {**kwargs.get("headers", {}), "Content-Type": "application/json"}
        response = self.http.request(method, API + path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response

    @staticmethod
    def _answer(response: Any) -> Any:
        if response.headers.get("content-type", "").startswith("text/"):
            return response.text
        return response.json()

    def __repr__(self) -> str:
        signed = "with a token" if "Authorization" in self.http.headers else "without a token"
        return f"Client({str(self.http.base_url)!r}, {signed})"

    def campaigns(self) -> list[str]:
        """Names of the campaigns this token can see."""
        return [c["name"] for c in self.request("GET", "/campaigns")]

    def create(self, spec: Mapping[str, Any], *, folder: str | os.PathLike[str] = ".") -> RemoteCampaign:
        """Create a campaign from a spec (the YAML document as a dict); needs an admin token.

        A pool given as ``pool: {csv: FILE}`` is read here, on the client (``FILE`` relative to ``folder``, as a
        spec file's folder), and uploaded inline: the server never reads files on a client's say.
        """
        made = self.request("POST", "/campaigns", json=inline_pool(spec, folder))
        return RemoteCampaign(self, made["name"])

    def open(self, name: str) -> RemoteCampaign:
        """The campaign called ``name`` (NotFoundError if the server has none)."""
        self.request("GET", f"/campaigns/{name}")
        return RemoteCampaign(self, name)

    def close(self) -> None:
        self.http.close()


class RemoteCampaign:
    """A campaign on a server: ask, tell, fail, the corrections (amend, retract, unretract, discard, history,
    delete), add_data, experiments, pending, best, pareto, to_dataframe."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name

    def __repr__(self) -> str:
        return f"RemoteCampaign({self.name!r}, server={str(self.client.http.base_url)!r})"

    def ask(self, n: int = 1) -> list[Experiment]:
        """``n`` suggestions, stored as pending on the server; waits while the server computes them."""
        answer = self.client.request("POST", f"/campaigns/{self.name}/ask", json={"n": n})
        while answer["status"] == "running":
            time.sleep(self.client.poll_interval)
            answer = self.client.request("GET", f"/jobs/{answer['job']}")
        if answer["status"] == "failed":
            raise KilnError(f"the server could not suggest experiments: {answer['error']}")
        return [experiment_from_json(e) for e in answer["experiments"]]

    def tell(
        self,
        experiment_id: str,
        value: float | Mapping[str, float],
        *,
        outputs: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> Experiment:
        """Record the results of a pending experiment (as ``Campaign.tell``: a number with one quantity, or a map
        with some or all of the quantities; outputs and a note kept with it)."""
        body: dict[str, Any] = {"results": dict(value)} if isinstance(value, Mapping) else {"value": value}
        if outputs is not None:
            body["outputs"] = dict(outputs)
        if note:
            body["note"] = note
        return experiment_from_json(
            self.client.request("POST", f"/campaigns/{self.name}/experiments/{experiment_id}/tell", json=body)
        )

    def fail(self, experiment_id: str, reason: str) -> Experiment:
        return experiment_from_json(
            self.client.request(
                "POST", f"/campaigns/{self.name}/experiments/{experiment_id}/fail", json={"reason": reason}
            )
        )

    def _change(self, experiment_id: str, action: str, body: Mapping[str, Any]) -> Experiment:
        path = f"/campaigns/{self.name}/experiments/{experiment_id}/{action}"
        return experiment_from_json(self.client.request("POST", path, json=dict(body)))

    def amend(
        self,
        experiment_id: str,
        value: float | Mapping[str, float] | None = None,
        *,
        reason: str,
        failure: str | None = None,
        expect: int | None = None,
    ) -> Experiment:
        """Correct a finished experiment (as ``Campaign.amend``); the server records the token's name."""
        body: dict[str, Any] = {"reason": reason}
        if isinstance(value, Mapping):
            body["results"] = dict(value)
        elif value is not None:
            body["value"] = value
        if failure is not None:
            body["failure"] = failure
        if expect is not None:
            body["expect"] = expect
        return self._change(experiment_id, "amend", body)

    def retract(self, experiment_id: str, *, reason: str) -> Experiment:
        """Retract a finished experiment (as ``Campaign.retract``)."""
        return self._change(experiment_id, "retract", {"reason": reason})

    def unretract(self, experiment_id: str, *, reason: str) -> Experiment:
        """Take a retraction back (as ``Campaign.unretract``)."""
        return self._change(experiment_id, "retract", {"reason": reason, "undo": True})

    def discard(self, experiment_id: str, *, reason: str = "") -> Experiment:
        """Discard a pending suggestion (as ``Campaign.discard``)."""
        return self._change(experiment_id, "discard", {"reason": reason})

    def history(self, experiment_id: str) -> list[Revision]:
        """Every version of an experiment's outcome, oldest first (as ``Campaign.history``)."""
        answer = self.client.request("GET", f"/campaigns/{self.name}/experiments/{experiment_id}/history")
        return [revision_from_json(r, experiment_id) for r in answer]

    def delete(self) -> None:
        """Delete the campaign on the server (an admin token that reaches it)."""
        self.client.request("DELETE", f"/campaigns/{self.name}")

    def add_data(self, data: pd.DataFrame | str | os.PathLike[str] | Sequence[Mapping[str, Any]]) -> Imported:
        """Measurements as a DataFrame, a CSV path (sent as it is, so it is read as a local campaign reads it)
        or row dicts (columns as for a local campaign). Returns the experiments completed or added, with
        ``skipped``: the rows the server left alone."""
        import pandas as pd

        if isinstance(data, str | os.PathLike):
            with open(data, "rb") as file:
                content = file.read()
            response = self.client.send(
                "POST", f"/campaigns/{self.name}/import/csv", content=content, headers={"Content-Type": "text/csv"}
            )
        else:
            if isinstance(data, pd.DataFrame):
                records = data.astype(object).where(data.notna(), None).to_dict(orient="records")
                rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in records]
            else:
                rows = [dict(row) for row in data]
            response = self.client.send("POST", f"/campaigns/{self.name}/import", json={"rows": rows})
        made = [experiment_from_json(e) for e in response.json()]
        return Imported(made, skipped=int(response.headers.get("Kiln-Skipped", "0")))

    def experiments(self) -> list[Experiment]:
        return [experiment_from_json(e) for e in self.client.request("GET", f"/campaigns/{self.name}/experiments")]

    def pending(self) -> list[Experiment]:
        return [experiment_from_json(e) for e in self.client.request("GET", f"/campaigns/{self.name}/pending")]

    def best(self) -> Experiment | None:
        """The best experiment (as ``Campaign.best``: None with several targets, whose best are ``pareto``)."""
        best = self.client.request("GET", f"/campaigns/{self.name}")["best"]
        return None if best is None else experiment_from_json(best)

    def pareto(self) -> list[Experiment]:
        """The Pareto front (as ``Campaign.pareto``): the completed experiments within every constraint that no
        other beats in every target, in creation order."""
        ids = self.client.request("GET", f"/campaigns/{self.name}/front")["front"]
        on_front = set(ids)
        return [e for e in self.experiments() if e.id in on_front]

    def to_dataframe(self, *, history: bool = False) -> pd.DataFrame:
        """The export (as ``Campaign.to_dataframe``; ``history`` adds every earlier value)."""
        import io

        import pandas as pd

        params = {"history": "true"} if history else {}
        return pd.read_csv(io.StringIO(self.client.request("GET", f"/campaigns/{self.name}/export", params=params)))


def _check_finite(value: Any, path: tuple[str, ...]) -> None:
    """ValidationError for the first NaN or infinity in a request body, named as a local campaign names it."""
    if isinstance(value, float) and not math.isfinite(value):
        if path in (("value",), ("results",)) or (len(path) == 2 and path[0] == "results"):
            field = f"result {path[1]!r}" if len(path) == 2 else "result"
        else:
            field = ".".join(path) or "body"
        raise ValidationError(field, value, "NaN and infinite values are not allowed", "give a finite number")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_finite(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, (*path, str(index)))


def _error(response: Any) -> KilnError:
    """The server's error answer as the KilnError a local campaign would raise."""
    try:
        detail = response.json().get("detail", {})
    except ValueError:
        detail = {"message": response.text[:500]}
    if isinstance(detail, list):  # FastAPI's request validation: name the first field at fault
        first = detail[0] if detail else {}
        field = ".".join(str(p) for p in first.get("loc", []) if p != "body") or "request"
        return ValidationError(field, first.get("input"), str(first.get("msg", "invalid")), "see the API document")
    message = str(detail.get("message", detail)) if isinstance(detail, dict) else str(detail)
    status = response.status_code
    kind = detail.get("type") if isinstance(detail, dict) else None
    if status == 422 and isinstance(detail, dict) and "field" in detail:
        field, value, allowed, fix = detail["field"], detail.get("value"), detail.get("allowed", ""), detail.get("fix")
        error = ValidationError(field, value, allowed, fix)
        if isinstance(value, str):  # the server sends the value's repr: the message shows it once, as a local one
            error.args = (f"{field}: got {value}; {allowed}" + (f"; {fix}" if fix else ""),)
        return error
    if status == 404:
        return NotFoundError(message)
    if status == 409 and kind in CONFLICTS:
        return CONFLICTS[kind](message)
    if status == 409:  # a server that does not name the error's class: tell them apart by the words
        conflict = ("exists already", "appears twice", "configuration", "changed while")
        return ConflictError(message) if any(c in message for c in conflict) else StateError(message)
    return KilnError(f"HTTP {status}: {message}")

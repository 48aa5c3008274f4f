"""An HTTP service as an instrument: POST the parameters, poll a status URL.

The protocol, kept small so that any lab server can speak it:

- ``POST {submit_url}`` with the parameters as a JSON object and the header ``Idempotency-Key: <experiment id>``
  (the same on retries); the answer is a JSON object with the experiment's handle under ``"id"``.
- ``GET {status_url}`` (``{id}`` in it is replaced by the handle) answers ``{"status": "running" | "done" |
  "failed" | "cancelled", "results": {name: number, ...}, "reason": "..."}``; ``results`` when done, ``reason``
  when failed.
- ``DELETE {status_url}`` asks the service to cancel (optional; errors are ignored).

A POST repeated with a key the service has seen should answer with the existing ``{"id"}`` (Kiln retries a POST
whose answer it did not get). While waiting, network errors and answers 429 and 5xx are retried at the next poll.

The service keeps its experiments, so Kiln can ask about them after a restart (``resumable``). An unknown handle
(HTTP 404) is status "unknown". Requests run in worker threads (urllib), with ``request_timeout`` seconds each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kiln.core.errors import ValidationError
from kiln.lab.adapters.command import parse_values
from kiln.lab.protocol import Failure, Outcome, RunStatus


class ServiceError(Exception):
    """The service answered, but not as the protocol says (bad status code or body)."""


class HttpInstrument:
    """See the module docstring. ``poll_interval``: seconds between status requests while waiting."""

    resumable = True

    def __init__(
        self,
        submit_url: str,
        status_url: str,
        *,
        name: str = "http",
        poll_interval: float = 1.0,
        request_timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        for field, url in (("submit_url", submit_url), ("status_url", status_url)):
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValidationError(
                    f"instrument: {field}", url, "an http:// or https:// URL", "e.g. http://robot:8080/run"
                )
        if "{id}" not in status_url:
            raise ValidationError(
                "instrument: status_url",
                status_url,
                "a URL with {id} where the handle goes",
                "e.g. http://robot/run/{id}",
            )
        for field, value in (("poll_interval", poll_interval), ("request_timeout", request_timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValidationError(f"instrument: {field}", value, "a number of seconds > 0", "e.g. 1")
        self.name = name
        self.submit_url = submit_url
        self.status_url = status_url
        self.poll_interval = float(poll_interval)
        self.request_timeout = float(request_timeout)
        if headers is not None and (
            not isinstance(headers, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise ValidationError(
                "instrument: headers", headers, "a map of header name -> text", 'e.g. {Authorization: "Bearer T"}'
            )
        self.headers = dict(headers or {})

    def _request(self, method: str, url: str, body: Any = None, key: str = "") -> tuple[int, Any]:
        """(HTTP status, decoded JSON body or None); raises OSError on a network failure."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json", **self.headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                text = response.read().decode(errors="replace") or "null"
                try:
                    return response.status, json.loads(text)
                except json.JSONDecodeError:
                    return response.status, text[:200]  # callers see a body that is not a JSON object
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                return error.code, json.loads(text or "null")
            except json.JSONDecodeError:
                return error.code, text[:200]

    def _status_url(self, handle: str) -> str:
        return self.status_url.replace("{id}", quote(handle, safe=""))

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        code, body = await asyncio.to_thread(self._request, "POST", self.submit_url, dict(params), key)
        if not 200 <= code < 300 or not isinstance(body, Mapping) or not isinstance(body.get("id"), str | int):
            raise ServiceError(f"{self.submit_url} answered HTTP {code} {body!r}; expected 2xx with an id")
        return str(body["id"])

    async def _state(self, handle: str) -> tuple[RunStatus, Mapping[str, Any]]:
        code, body = await asyncio.to_thread(self._request, "GET", self._status_url(handle))
        if code == 404:
            return RunStatus.UNKNOWN, {}
        if code == 429 or code >= 500:
            raise ConnectionError(f"{self._status_url(handle)} answered HTTP {code}; will ask again")
        if not 200 <= code < 300 or not isinstance(body, Mapping):
            raise ServiceError(f"{self._status_url(handle)} answered HTTP {code} {body!r}")
        try:
            return RunStatus(str(body.get("status"))), body
        except ValueError:
            raise ServiceError(f"{self._status_url(handle)}: unknown status {body.get('status')!r}") from None

    async def status(self, handle: str) -> RunStatus:
        return (await self._state(handle))[0]

    async def outcome(self, handle: str) -> Outcome:
        while True:
            try:
                status, body = await self._state(handle)
            except ServiceError as error:
                return Failure(str(error))
            except OSError:  # the service is unreachable for a moment: keep polling
                status, body = RunStatus.RUNNING, {}
            if status is RunStatus.DONE:
                return parse_values(json.dumps(body.get("results", {})))
            if status is RunStatus.FAILED:
                return Failure(str(body.get("reason") or "the service reported a failure"))
            if status in (RunStatus.CANCELLED, RunStatus.UNKNOWN):
                return Failure(f"{self.name}: the service reports {status.value} for experiment {handle!r}")
            await asyncio.sleep(self.poll_interval)

    async def cancel(self, handle: str) -> None:
        with contextlib.suppress(OSError, ServiceError, ValueError):
            await asyncio.to_thread(self._request, "DELETE", self._status_url(handle))

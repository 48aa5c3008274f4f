"""The REST API (FastAPI) under /api/v1: campaigns, ask, tell, fail, import, export, pending, events, jobs, report.

Every request carries ``Authorization: Bearer <token>`` (``kiln token create``): a read token for reading (not
needed when the server runs with ``public_read``), a write token for every write, an admin token to create
campaigns. A token limited to some campaigns reaches no other campaign's data, nor learns their names. The token
is checked before the body is read (``kiln.server.guard``); bodies, queued asks and model fits are bounded
(``kiln.server.limits``).

Every error is JSON ``{"detail": {"message", "field", "value", "allowed", "fix"}}`` whose ``field`` names the part
of the request at fault: 401/403 (``Authorization``), 404 (the unknown campaign, experiment or job), 409 (state or
name conflicts) or 422 (bad input: the body, query or path field).

Asking never blocks a request for long: ``POST .../ask`` answers with the suggestions when they are ready within
``ask_wait`` seconds, otherwise with 202 and a job to poll at ``GET /api/v1/jobs/{id}``.
"""

import asyncio
import concurrent.futures
import csv
import io
import reprlib
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from kiln.campaign import Campaign
from kiln.campaign.config import CampaignConfig
from kiln.campaign.export_text import table_to_csv, table_to_records
from kiln.core.counts import status_counts
from kiln.core.errors import (
    CampaignNotFoundError,
    ConflictError,
    KilnError,
    NotFoundError,
    StateError,
    ValidationError,
)
from kiln.core.records import Experiment, TokenRecord, utc_now
from kiln.core.revision_json import revision_json
from kiln.lab.lease import lease_json
from kiln.report.front import pareto_front
from kiln.server.auth import AuthError, require, token_of
from kiln.server.bodies import (
    RESULT_NAME_MAX,
    AmendBody,
    AskBody,
    DiscardBody,
    FailBody,
    ImportBody,
    RetractBody,
    TellBody,
)
from kiln.server.dashboard import add_dashboard
from kiln.server.errors import error_response
from kiln.server.front_cache import FrontCache
from kiln.server.guard import TOKEN_STATE, RequestGuard
from kiln.server.jobs import Busy, Jobs
from kiln.server.json_body import JsonRoute
from kiln.server.limits import IMPORT_ROWS, ServerLimits
from kiln.server.model_cache import ModelCache
from kiln.server.report_cache import ReportCache, etag_matches, report_etag
from kiln.store import open_store
from kiln.store.base import Store
from kiln.store.schema import NAME_MAX
from kiln.strategies.profile import MAX_POINTS

API = "/api/v1"
SKIPPED_HEADER = "Kiln-Skipped"
"""Header of an import's answer: how many rows it left alone (stored already, or without a result)."""
CURSOR_MAX = 2**63 - 1
"""The largest event cursor a store can hold (a 64-bit integer)."""
ASK_WAIT = 5.0
"""Seconds an ask may take inside the request before it becomes a job."""
PROBLEMS_LISTED = 20
"""Most problems of one request listed in its 422 answer (the first names the field)."""
SEED_MAX = 2**32 - 1
"""The largest seed of a report (numpy's seeds are 32-bit)."""
IF_NONE_MATCH_MAX = 1024
"""Characters at most of an If-None-Match header (a report's tag is about 30)."""

REPORT_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts allow-downloads allow-popups",
    "X-Content-Type-Options": "nosniff",
}
"""Headers of a report page: opened from this server, its scripts (plotly) run in an origin of their own, away
from the dashboard's token."""


def experiment_json(e: Experiment) -> dict[str, Any]:
    """An experiment as JSON."""
    return {
        "id": e.id,
        "seq": e.seq,
        "params": dict(e.params),
        "status": e.status.value,
        "origin": e.origin.value,
        "results": dict(e.results),
        "reason": e.reason,
        "strategy": e.strategy,
        "batch": e.batch,
        "candidate": e.candidate,
        "created_at": e.created_at.isoformat(),
        "finished_at": None if e.finished_at is None else e.finished_at.isoformat(),
        "instrument": e.instrument,
        "handle": e.handle,
        "dispatched_at": None if e.dispatched_at is None else e.dispatched_at.isoformat(),
        "attention": e.attention,
        "outputs": dict(e.outputs),
        "note": e.note,
        "amended": e.amended,
        "retracted": e.retracted,
    }


class ErrorDetail(BaseModel):
    message: str
    field: str = Field(..., description="The part of the request at fault: a body, query or path field, or a header.")
    type: str | None = Field(None, description="The kiln.core.errors class raised, e.g. StateError.")
    value: str | None = None
    allowed: str | None = None
    fix: str | None = None


class ErrorBody(BaseModel):
    detail: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in [
        (401, "no token, or an unknown or revoked one"),
        (403, "the token's scope or campaigns do not allow this"),
        (404, "unknown campaign, experiment or job"),
        (409, "the experiment is finished already, or the name is taken"),
        (422, "bad input; `field` names it"),
    ]
}


def _error(status: int, error: KilnError, field: str) -> JSONResponse:
    return error_response(status, error, field)


def _request_error(error: RequestValidationError) -> JSONResponse:
    """FastAPI's validation of the request, in Kiln's error form; the first PROBLEMS_LISTED problems are listed
    under ``errors``, each input shown short (an answer never echoes a large body back)."""
    found = error.errors()
    problems = [
        {k: (_shown(v) if k == "input" else v) for k, v in problem.items() if k != "ctx"}
        for problem in found[:PROBLEMS_LISTED]
    ]
    first = problems[0] if problems else {}
    located = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = "body" if first.get("type") == "json_invalid" or not located else ".".join(located)
    allowed = str(first.get("msg", "the request does not match the API document"))
    detail = {
        "message": f"{field}: {allowed}",
        "field": field,
        "type": "ValidationError",
        "value": SHOWN.repr(found[0].get("input")) if found else "None",
        "allowed": allowed,
        "fix": "see the API document at /openapi.json",
        "errors": jsonable_encoder(problems, custom_encoder={bytes: lambda b: b.decode(errors="replace")}),
    }
    return JSONResponse(status_code=422, content={"detail": detail})


SHOWN = reprlib.Repr()
"""How a rejected input is shown in an error answer: a few items of each container, the start of long text."""
SHOWN.maxlevel, SHOWN.maxdict, SHOWN.maxlist, SHOWN.maxstring, SHOWN.maxother = 3, 6, 6, 200, 200


def _shown(value: Any) -> Any:
    """A problem's input for the answer: short numbers, true/false and null as they are; anything else as short
    text (``reprlib``: it never walks a whole large value)."""
    if value is None or isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 200):
        return value
    if isinstance(value, bytes):
        return SHOWN.repr(value.decode(errors="replace"))
    return SHOWN.repr(value)


def csv_rows(body: bytes) -> int:
    """Data rows of a CSV table (quoted line breaks stay in their row); 0 for text that is not UTF-8 (the import
    itself reports it)."""
    try:
        text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", newline="")
        return max(0, sum(1 for record in csv.reader(text) if record) - 1)
    except (UnicodeDecodeError, csv.Error):
        return 0


def create_app(
    store: Store | str,
    *,
    public_read: bool = False,
    ask_wait: float = ASK_WAIT,
    limits: ServerLimits | None = None,
) -> FastAPI:
    """The API over ``store`` (a Store or its URL), within ``limits`` (default: ``ServerLimits()``)."""
    backend = open_store(store) if isinstance(store, str) else store
    bounds = limits if limits is not None else ServerLimits()
    jobs = Jobs(bounds)
    models = ModelCache(bounds.model_cache, bounds.model_points)
    fronts = FrontCache(bounds.model_cache)
    reports = ReportCache(bounds.report_cache, bounds.open_reports, bounds.retry_after)
    app = FastAPI(title="Kiln", version="1", description=__doc__, responses=ERRORS)
    app.router.route_class = JsonRoute
    app.add_middleware(
        RequestGuard,
        authenticate=lambda header: token_of(backend, header),
        public_read=public_read,
        max_body=bounds.max_body,
    )
    app.state.jobs = jobs
    app.state.models = models
    app.state.reports = reports

    def field_at_fault(request: Request, error: KilnError) -> str:
        """The request field a 401/403/404/409 is about (a ValidationError names its own)."""
        if isinstance(error, AuthError):
            return "Authorization"
        params = request.path_params
        if "job" in params:
            return "job"
        if "name" not in params or isinstance(error, CampaignNotFoundError):
            return "name"  # creating a campaign (the spec's name), or an unknown campaign
        if request.url.path.endswith("/import"):
            return "rows"
        if request.url.path.endswith("/import/csv"):
            return "csv"
        return "experiment_id" if "experiment_id" in params else "name"

    @app.exception_handler(KilnError)
    async def kiln_error(request: Request, error: KilnError) -> JSONResponse:
        if isinstance(error, CampaignNotFoundError):  # the store's message lists other campaigns: not for clients
            error = CampaignNotFoundError(
                f"campaign {error.name!r} not found; GET {API}/campaigns lists the campaigns your token reaches",
                error.name,
            )
        if isinstance(error, Busy):  # too many asks (their body), or too many reports (of the campaign named)
            response = _error(429, error, "name" if request.url.path.endswith("/report") else "body")
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        if isinstance(error, AuthError):
            status = error.status
        elif isinstance(error, NotFoundError):
            status = 404
        elif isinstance(error, ConflictError | StateError):
            status = 409
        else:
            status = 422
        field = "" if isinstance(error, ValidationError) else field_at_fault(request, error)
        return _error(status, error, field)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return _request_error(error)

    @app.exception_handler(HTTPException)
    async def no_such_route(request: Request, error: HTTPException) -> JSONResponse:
        field = "method" if error.status_code == 405 else "path"
        detail = {"message": f"{request.method} {request.url.path}: {error.detail}", "field": field}
        return JSONResponse(status_code=error.status_code, content={"detail": detail}, headers=error.headers)

    def token(request: Request, authorization: Annotated[str | None, Header()] = None) -> TokenRecord | None:
        """The token RequestGuard checked already, before the body was read."""
        state = request.scope.get("state", {})
        if TOKEN_STATE in state:
            return state[TOKEN_STATE]  # type: ignore[no-any-return]
        return token_of(backend, authorization)

    Token = Annotated[TokenRecord | None, Depends(token)]

    def need(found: TokenRecord | None, scope: str, campaign: str | None = None) -> None:
        require(found, scope, campaign, public_read=public_read)

    opened: dict[str, tuple[int, Campaign]] = {}  # a configuration never changes: build each once (pools are large)

    def campaign_of(name: str) -> Campaign:
        """The campaign, built once per campaign id (a name deleted and made again gets a new id)."""
        record = backend.get_campaign(name)
        known = opened.get(name)
        if known is None or known[0] != record.id:
            known = opened[name] = (record.id, Campaign(record.name, CampaignConfig.from_json(record.config), backend))
        return known[1]

    def visible(found: TokenRecord | None, name: str) -> bool:
        return found is None or found.campaigns is None or name in found.campaigns

    @app.get(f"{API}/campaigns")
    def list_campaigns(found: Token) -> list[dict[str, Any]]:
        need(found, "read")
        return [
            {"name": c.name, "created_at": c.created_at.isoformat()}
            for c in backend.list_campaigns()
            if visible(found, c.name)
        ]

    @app.post(f"{API}/campaigns", status_code=201)
    def create_campaign(spec: dict[str, Any], found: Token) -> dict[str, Any]:
        """Create a campaign (admin); see ``kiln.server.campaign_spec`` for the fields of ``spec``."""
        from kiln.server.campaign_spec import campaign_spec

        need(found, "admin")
        parsed = campaign_spec(spec, bounds.encoded_choices)
        need(found, "admin", parsed.name)  # a token limited to some campaigns creates no other
        Campaign.open_or_create(parsed.name, parsed.config, store=backend)
        return show(parsed.name, found)

    @app.get(f"{API}/campaigns/{{name}}")
    def show(
        name: str,
        found: Token,
        config: Annotated[
            bool,
            Query(
                description="Include the campaign's whole configuration (a pool's every row, an overview image): "
                "false for a page that polls the campaign and needs its state only."
            ),
        ] = True,
    ) -> dict[str, Any]:
        """The campaign's state: parameters, units, targets and constraints, counts, best or front, the run's
        lease and the event cursor; and its configuration unless ``config`` is false."""
        need(found, "read", name)
        campaign = campaign_of(name)
        experiments, cursor = campaign.snapshot()
        objective = campaign.objective
        several = len(objective.targets) > 1
        best = None if objective.is_multi else campaign.best(experiments)
        first = objective.targets[0]
        return {
            "name": name,
            **({"config": campaign.config.to_json()} if config else {}),
            "parameters": campaign.domain.names,
            "encodings": campaign.domain.describe_encodings(),
            "image": getattr(campaign.domain, "image", None) is not None,
            "units": {**campaign.domain.units, **objective.units},
            "target": first.name,
            "direction": first.direction.value,
            "targets": [t.to_config() for t in objective.targets],
            "constraints": [c.to_config() for c in objective.constraints],
            "quantities": objective.quantities,
            "goal": objective.goal,
            "counts": status_counts(experiments),
            "best": None if best is None else experiment_json(best),
            "front": [e.id for e in pareto_front(objective, experiments)] if several else None,
            "run": lease_json(backend.get_lease(name), utc_now()),
            "cursor": cursor,
        }

    @app.get(f"{API}/campaigns/{{name}}/front")
    def front(name: str, found: Token) -> dict[str, Any]:
        """The Pareto front (ids), the hypervolume after each completed experiment (``[{seq, value}]``, in score
        units above ``reference``), and the targets and constraints (for drawing the limits); see
        ``kiln.report.front``."""
        need(found, "read", name)
        return fronts.front(campaign_of(name))

    @app.get(f"{API}/campaigns/{{name}}/model")
    def model(
        name: str,
        found: Token,
        parameter: Annotated[str, Query(min_length=1, max_length=NAME_MAX)],
        points: Annotated[int, Query(ge=2, le=MAX_POINTS)] = 60,
        quantity: Annotated[str | None, Query(min_length=1, max_length=RESULT_NAME_MAX)] = None,
    ) -> dict[str, Any]:
        """The model along ``parameter``: of the single target, or of ``quantity`` (any measured quantity, in its
        own units: a target or a constrained quantity; what a campaign of several targets shows)."""
        need(found, "read", name)
        campaign = campaign_of(name)
        answer = models.profile(campaign, parameter, points, quantity)
        return {**answer, "unit": campaign.domain.units.get(parameter, "")}

    @app.get(f"{API}/campaigns/{{name}}/image-map")
    def image_map(
        name: str,
        found: Token,
        quantity: Annotated[str | None, Query(min_length=1, max_length=RESULT_NAME_MAX)] = None,
    ) -> dict[str, Any]:
        """For a pool of an overview image's pixels (a microscope campaign): the overview, the pixels measured
        and running, and the model's predicted map of the target (or of ``quantity``) with its uncertainty, in
        the quantity's units; 409 when the campaign has no overview image."""
        need(found, "read", name)
        campaign = campaign_of(name)
        answer = models.image_map(campaign, quantity)
        return {**answer, "unit": campaign.objective.units.get(answer["target"], "")}

    @app.get(f"{API}/campaigns/{{name}}/map")
    def map_error(name: str, found: Token) -> dict[str, Any]:
        """How good the model's map of each target is (what a ``goal: map`` campaign is for): per target the
        leave-one-out RMSE and R^2, the mean posterior std over the pool or space (target units) and the unmeasured
        point where the model is least sure (``kiln.campaign.map_error``)."""
        need(found, "read", name)
        campaign = campaign_of(name)
        return {"goal": campaign.objective.goal, **models.map_error(campaign), "units": campaign.objective.units}

    @app.get(
        f"{API}/campaigns/{{name}}/report",
        response_class=HTMLResponse,
        responses={
            200: {"content": {"text/html": {}}},
            304: {"description": "not modified: If-None-Match holds the page's ETag (this state and seed)"},
            429: {"model": ErrorBody, "description": "too many reports"},
        },
    )
    async def report(
        name: str,
        found: Token,
        seed: Annotated[int, Query(ge=0, le=SEED_MAX, description="Seed of the model fits and simulations.")] = 0,
        if_none_match: Annotated[str | None, Header(max_length=IF_NONE_MATCH_MAX)] = None,
    ) -> Response:
        """The campaign report as one self-contained HTML page, the one ``kiln report NAME --seed SEED`` writes
        (docs/report.md); made once per state of the campaign and seed (``kiln.server.report_cache``), 429 with
        Retry-After while the server makes too many others. Its ETag names that state: asked again with
        If-None-Match and nothing changed, 304 and no page (about 5 MB) is sent or made."""
        need(found, "read", name)
        campaign = await run_in_threadpool(campaign_of, name)
        _, cursor = await run_in_threadpool(campaign.snapshot)
        headers = {**REPORT_HEADERS, "ETag": report_etag(cursor, seed), "Cache-Control": "private, no-cache"}
        if if_none_match is not None and etag_matches(if_none_match, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        future = await run_in_threadpool(reports.report, campaign, seed, cursor)
        page = await asyncio.shield(asyncio.wrap_future(future))  # a client gone does not cancel it for others
        return HTMLResponse(page, headers=headers)

    @app.get(f"{API}/campaigns/{{name}}/experiments")
    def experiments(name: str, found: Token) -> list[dict[str, Any]]:
        need(found, "read", name)
        return [experiment_json(e) for e in campaign_of(name).experiments()]

    @app.get(f"{API}/campaigns/{{name}}/pending")
    def pending(name: str, found: Token) -> list[dict[str, Any]]:
        need(found, "read", name)
        return [experiment_json(e) for e in campaign_of(name).pending()]

    @app.post(f"{API}/campaigns/{{name}}/ask", response_model=None)
    def ask(name: str, body: AskBody, found: Token) -> dict[str, Any] | JSONResponse:
        need(found, "write", name)
        job, future = jobs.ask(campaign_of(name), body.n)
        try:
            made = future.result(timeout=ask_wait)
        except concurrent.futures.TimeoutError:
            return JSONResponse(status_code=202, content={"job": job, "status": "running"})
        return {"job": job, "status": "done", "experiments": [experiment_json(e) for e in made]}

    @app.get(f"{API}/jobs/{{job}}")
    def job_status(job: str, found: Token) -> dict[str, Any]:
        need(found, "write")
        entry = jobs.get(job)
        if entry is None or not visible(found, entry.campaign):  # another campaign's job is no job of this token
            raise NotFoundError(
                f"no job {job!r} on this server for this token (a finished job is kept {bounds.job_seconds:g} s)"
            )
        need(found, "write", entry.campaign)
        future = entry.future
        if not future.done():
            return {"job": job, "status": "running"}
        error = future.exception()
        if error is not None:
            return {"job": job, "status": "failed", "error": str(error)}
        return {"job": job, "status": "done", "experiments": [experiment_json(e) for e in future.result()]}

    @app.post(f"{API}/campaigns/{{name}}/experiments/{{experiment_id}}/tell")
    def tell(name: str, experiment_id: str, body: TellBody, found: Token) -> dict[str, Any]:
        need(found, "write", name)
        if (body.value is None) == (body.results is None):
            raise ValidationError("value/results", None, "give exactly one of value and results", 'e.g. {"value": 3.2}')
        value: float | Mapping[str, float] = body.value if body.value is not None else dict(body.results or {})
        return experiment_json(campaign_of(name).tell(experiment_id, value, outputs=body.outputs, note=body.note))

    @app.post(f"{API}/campaigns/{{name}}/experiments/{{experiment_id}}/fail")
    def fail(name: str, experiment_id: str, body: FailBody, found: Token) -> dict[str, Any]:
        need(found, "write", name)
        return experiment_json(campaign_of(name).fail(experiment_id, body.reason))

    def actor(found: TokenRecord | None) -> str:
        """Who makes a change: the token's name."""
        return "" if found is None else found.name

    @app.post(f"{API}/campaigns/{{name}}/experiments/{{experiment_id}}/amend")
    def amend(name: str, experiment_id: str, body: AmendBody, found: Token) -> dict[str, Any]:
        """Correct a finished experiment: a new ``value`` / ``results``, or ``failure``; every earlier value is
        kept (``.../history``)."""
        need(found, "write", name)
        given = [k for k in ("value", "results", "failure") if getattr(body, k) is not None]
        if len(given) != 1:
            raise ValidationError(
                "value/results/failure", given, "exactly one of value, results and failure", 'e.g. {"value": 3.2}'
            )
        value: float | Mapping[str, float] | None = (
            (None if body.value is None else float(body.value))
            if body.results is None
            else {k: float(v) for k, v in body.results.items()}
        )
        changed = campaign_of(name).amend(
            experiment_id, value, reason=body.reason, failure=body.failure, actor=actor(found), expect=body.expect
        )
        return experiment_json(changed)

    @app.post(f"{API}/campaigns/{{name}}/experiments/{{experiment_id}}/retract")
    def retract(name: str, experiment_id: str, body: RetractBody, found: Token) -> dict[str, Any]:
        """Retract a finished experiment (it stays, nothing learns from it), or with ``undo`` take it back."""
        need(found, "write", name)
        campaign = campaign_of(name)
        change = campaign.unretract if body.undo else campaign.retract
        return experiment_json(change(experiment_id, reason=body.reason, actor=actor(found)))

    @app.post(f"{API}/campaigns/{{name}}/experiments/{{experiment_id}}/discard")
    def discard(name: str, experiment_id: str, body: DiscardBody, found: Token) -> dict[str, Any]:
        """Discard a pending suggestion that will not be run (not a failure; nothing learns from it)."""
        need(found, "write", name)
        return experiment_json(campaign_of(name).discard(experiment_id, reason=body.reason, actor=actor(found)))

    @app.get(f"{API}/campaigns/{{name}}/experiments/{{experiment_id}}/history")
    def history(name: str, experiment_id: str, found: Token) -> list[dict[str, Any]]:
        """Every version of an experiment's outcome, oldest first; the last is the current one."""
        need(found, "read", name)
        return [revision_json(r) for r in campaign_of(name).history(experiment_id)]

    @app.delete(f"{API}/campaigns/{{name}}")
    def delete_campaign(name: str, found: Token) -> dict[str, Any]:
        """Delete a campaign with every experiment, event and history (an admin token that reaches it)."""
        need(found, "admin", name)
        campaign_of(name).delete()
        opened.pop(name, None)
        return {"deleted": name}

    @app.post(f"{API}/campaigns/{{name}}/import")
    def import_rows(name: str, body: ImportBody, found: Token, response: Response) -> list[dict[str, Any]]:
        """Measurements as rows; the answer lists the experiments completed or added, and the header
        ``Kiln-Skipped`` says how many rows were left alone (stored already, or without a result)."""
        need(found, "write", name)
        made = campaign_of(name).add_data(body.rows)
        response.headers[SKIPPED_HEADER] = str(made.skipped)
        return [experiment_json(e) for e in made]

    @app.post(
        f"{API}/campaigns/{{name}}/import/csv",
        openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def import_csv(name: str, request: Request, found: Token, response: Response) -> list[dict[str, Any]]:
        """Measurements as a CSV table (the columns of ``.../import``; an export is accepted as it is); the
        header ``Kiln-Skipped`` says how many rows were left alone."""
        need(found, "write", name)
        body = await request.body()
        if not body.strip():
            raise ValidationError("csv", "", "a CSV table with a header row is required", "send the file's content")
        rows = await run_in_threadpool(csv_rows, body)
        if rows > IMPORT_ROWS:
            raise ValidationError(
                "csv", f"{rows} rows", f"at most {IMPORT_ROWS} rows in one import", "send the table in parts"
            )
        campaign = await run_in_threadpool(campaign_of, name)
        made = await run_in_threadpool(campaign.add_data, io.BytesIO(body))
        response.headers[SKIPPED_HEADER] = str(made.skipped)
        return [experiment_json(e) for e in made]

    @app.get(f"{API}/campaigns/{{name}}/export", response_model=None)
    def export(
        name: str,
        found: Token,
        format: Annotated[str, Query(pattern="^(csv|json)$")] = "csv",
        history: Annotated[bool, Query(description="Add a row for every earlier value.")] = False,
    ) -> PlainTextResponse | list[dict[str, Any]]:
        need(found, "read", name)
        table = campaign_of(name).to_table(history=history)  # the writer of kiln export, without pandas
        if format == "csv":
            return PlainTextResponse(table_to_csv(table), media_type="text/csv")
        return table_to_records(table)

    @app.get(f"{API}/campaigns/{{name}}/events")
    def events(
        name: str,
        found: Token,
        after: Annotated[int, Query(ge=0, le=CURSOR_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        need(found, "read", name)
        rows = backend.events(name, after=after, limit=limit)
        return {
            "events": [
                {"cursor": e.cursor, "kind": e.kind, "payload": dict(e.payload), "at": e.at.isoformat()} for e in rows
            ],
            "cursor": rows[-1].cursor if rows else after,
        }

    add_dashboard(app)
    return app

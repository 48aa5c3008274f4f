"""JSON request bodies parsed in a worker thread, and refused when their text or nesting cannot be stored.

``JsonRoute`` is the route class of the API (FastAPI's documented way to change how a route reads its request):
it parses a JSON body with ``parse_json`` in the thread pool before FastAPI's own handling, so a large body does
not hold up the event loop, and FastAPI then uses the parsed value. A body that is not JSON is left to FastAPI,
which reports it as a 422 about ``body``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from kiln.core.errors import ValidationError

MAX_DEPTH = 32
"""Deepest nesting of lists and objects accepted in a request (and stored: ``kiln.store.schema.json_value``)."""


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``. json.JSONDecodeError if it is not JSON; ValidationError naming the field for
    nesting deeper than MAX_DEPTH, a NUL character or a lone UTF-16 surrogate (``\\ud800``) in any text."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise _too_deep("body") from None
    except UnicodeDecodeError:
        raise ValidationError("body", "bytes that are not UTF-8", "a JSON body in UTF-8", "send UTF-8 text") from None
    _check_text_and_depth(value)
    return value


def _too_deep(field: str) -> ValidationError:
    return ValidationError(
        field,
        f"JSON nested deeper than {MAX_DEPTH} levels",
        f"at most {MAX_DEPTH} levels of lists and objects",
        "flatten the value",
    )


def _bad_text(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if "\x00" in text:
        return "text may not contain NUL characters (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (a lone UTF-16 surrogate is not)"
    return None


def _check_text_and_depth(value: Any) -> None:
    """Walk ``value`` without recursion; ValidationError at the first problem, naming its path (``rows.0.x``)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = _bad_text(item)
            if problem is not None:
                raise ValidationError(where or "body", item[:200], problem, "send the text without it")
            continue
        if isinstance(item, dict):
            pairs: list[tuple[Any, Any]] = list(item.items())
        elif isinstance(item, list):
            pairs = list(enumerate(item))
        else:
            continue
        if depth >= MAX_DEPTH:
            raise _too_deep(where or "body")
        for key, child in reversed(pairs):
            path = f"{where}.{key}".lstrip(".")
            if isinstance(key, str):
                problem = _bad_text(key)
                if problem is not None:
                    raise ValidationError(f"{where}.{key!r}".lstrip("."), key[:200], problem, "rename the key")
            stack.append((child, path, depth + 1))


def _is_json(request: Request) -> bool:
    """Whether FastAPI would read the body as JSON (no content type, or application/json or +json)."""
    kind = request.headers.get("content-type")
    if kind is None:
        return True
    main = kind.split(";")[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


class JsonRequest(Request):
    """A request whose ``json()`` is parsed once, in the thread pool, by ``parse_json``."""

    _parsed: Any

    async def json(self) -> Any:
        if not hasattr(self, "_parsed"):
            self._parsed = await run_in_threadpool(parse_json, await self.body())
        return self._parsed


class JsonRoute(APIRoute):
    """An API route that reads JSON bodies through ``JsonRequest`` (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            parsed = JsonRequest(request.scope, request.receive)
            if _is_json(parsed) and await parsed.body():
                with contextlib.suppress(json.JSONDecodeError):  # FastAPI reports it (json_invalid, about body)
                    await parsed.json()  # a ValidationError here is Kiln's 422 about the field
            return await handler(parsed)

        return route

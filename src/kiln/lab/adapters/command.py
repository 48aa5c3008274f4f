"""A command line as an instrument: parameters as JSON on stdin, results as JSON on stdout.

The command gets one JSON object (parameter name -> value, lab units) on its standard input and must print one
JSON object of measured values (name -> number) on its standard output. A non-zero exit status, output that is
not such an object, or running past ``timeout`` seconds is a Failure whose reason says which, with the end of the
command's standard error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kiln.core.errors import ValidationError
from kiln.lab.adapters.tasks import TaskInstrument, observation
from kiln.lab.protocol import Failure, Outcome

STDERR_TAIL = 500
"""Characters of the command's standard error kept in a failure's reason."""


class CommandInstrument(TaskInstrument):
    """Runs ``command`` (a program and its arguments, no shell) once per experiment."""

    def __init__(
        self, command: Sequence[str], *, timeout: float | None = None, name: str = "command", cwd: str | None = None
    ) -> None:
        if isinstance(command, str) or not command or not all(isinstance(part, str) for part in command):
            raise ValidationError(
                "instrument: command",
                command,
                "a list of strings: the program and its arguments",
                'e.g. ["python", "measure.py"]',
            )
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
            raise ValidationError("instrument: timeout", timeout, "a number of seconds > 0", "e.g. timeout: 600")
        super().__init__(name)
        self.command = list(command)
        self.timeout = None if timeout is None else float(timeout)
        self.cwd = cwd

    async def run(self, params: Mapping[str, Any], key: str = "") -> Outcome:
        process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.cwd,
        )
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(json.dumps(dict(params)).encode()), timeout=self.timeout
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            return Failure(f"command timed out after {self.timeout:g} s")
        except asyncio.CancelledError:
            process.kill()
            await process.wait()
            raise
        tail = stderr.decode(errors="replace")[-STDERR_TAIL:].strip()
        if process.returncode != 0:
            return Failure(f"command exited with status {process.returncode}" + (f": {tail}" if tail else ""))
        return parse_values(stdout.decode(errors="replace"))


def parse_values(text: str) -> Outcome:
    """The command's standard output -> Observation of its numeric values (other JSON values go to outputs), or a
    Failure saying what was wrong with it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Failure(f"command output is not JSON ({error.msg}): {text[:200]!r}")
    if not isinstance(data, dict):
        return Failure(f"command output must be a JSON object of measured values, got {text[:200]!r}")
    return observation(data)

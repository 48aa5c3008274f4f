"""How ``kiln --help`` shows options: a flag is shown as a flag (``--json``), not as an option taking ``<bool>``."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup, TyperOption


def plain_flags(params: list[Any]) -> list[Any]:
    """The same parameters, with on/off flags shown without a value type in help."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_bool_flag:
            param.metavar = ""
    return params


class KilnGroup(TyperGroup):
    """A command group whose help (its own and its commands') shows flags without a ``<bool>`` type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return plain_flags(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            plain_flags(command.get_params(ctx))
        return command

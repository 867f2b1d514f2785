"""`tokbench infer-mixture` (being built; see the open issue)."""

from __future__ import annotations

import typer

from tokbench.errors import TokbenchError


def register(app: typer.Typer) -> None:
    @app.command("infer-mixture", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def _placeholder(ctx: typer.Context):
        """(not built yet)"""
        raise TokbenchError("'tokbench infer-mixture' is not built yet in this version")

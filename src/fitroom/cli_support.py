"""What every CLI command shares: a user mistake is a message and exit code 2.

Kept apart from ``fitroom.cli`` so the domain sub-apps (``superres``, ``compress``)
can use it without importing the main app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import typer

T = TypeVar("T")


def run_or_exit(as_json: bool, action: Callable[[], T]) -> T:
    """Run ``action``; turn a FitroomError into a message (and JSON) and exit code 2."""
    from fitroom.errors import FitroomError

    try:
        return action()
    except FitroomError as exc:
        if as_json:
            typer.echo(json.dumps({"error": exc.to_dict()}, default=str, indent=2))
        typer.echo(f"error: {exc.message}", err=True)
        if exc.details.get("advice"):
            typer.echo(f"advice: {exc.details['advice']}", err=True)
        for row in exc.details.get("errors", [])[:20]:
            typer.echo(
                f"  row {row.get('row')}: {row.get('field') or '-'}: {row.get('reason')}",
                err=True,
            )
        raise typer.Exit(2) from None

"""The `tokbench` command."""

from __future__ import annotations

import typer

from tokbench.version import __version__
from tokbench.cli import check, corpora, demo, evaluate, fetch, inspect, mixture, train, transplant
from tokbench.cli.common import console, new_app

app = new_app(
    "[bold]tokbench[/]: a tokenizer workbench. Train tokenizers, evaluate them across languages, infer what a "
    "BPE tokenizer was trained on, transplant models onto new tokenizers, and gate tokenizer changes in CI.\n\n"
    "Start with [bold]tokbench demo --quick[/]; every command has -h/--help with examples.",
    add_completion=True,
)


def _version(value: bool):
    if value:
        console.print(f"tokbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
):
    """tokbench: a tokenizer workbench."""


# Command families, in the order a user meets them.
demo.register(app)
train.register(app)
evaluate.register(app)
mixture.register(app)
transplant.register(app)
check.register(app)
app.command("inspect")(inspect.inspect_cmd)
app.add_typer(corpora.app, name="corpora")
fetch.register(app)


def main() -> None:
    from tokbench.cli.common import install_signal_handlers

    install_signal_handlers()
    app(prog_name="tokbench")


if __name__ == "__main__":
    main()

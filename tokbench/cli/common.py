"""Shared CLI plumbing: the error boundary, default-command groups, consoles and small parsers."""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Iterable, Sequence

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from tokbench.errors import ConfigError, TokbenchError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def one_line(text: str, limit: int = 600) -> str:
    """``text`` on one line (newlines folded), cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print one red error line and return the Exit to raise. The message is printed verbatim: paths
    such as ``notes [v2].txt`` or hints such as ``pip install 'tokbench[model]'`` are not rich markup."""
    from rich.text import Text

    err_console.print(Text.assemble(("error:", "bold red"), " ", one_line(message, 2000)), soft_wrap=True)
    return typer.Exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so every atomic output is rolled back the same way."""


def _on_sigterm(signum, frame):  # pragma: no cover - exercised through a subprocess in the tests
    raise Terminated()


def install_signal_handlers() -> None:
    """SIGTERM is handled like SIGINT: the running step unwinds, temporary outputs are removed."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def _unexpected(exc: BaseException) -> str:
    import os

    if os.environ.get("TOKBENCH_DEBUG"):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    name = type(exc).__name__
    if name == "PanicException":  # a Rust panic (tokenizers, tiktoken, safetensors) on a malformed input
        return f"a Rust library rejected the input ({one_line(exc, 300)}); the file is malformed"
    return f"unexpected {name}: {one_line(exc, 300)} (set TOKBENCH_DEBUG=1 for the traceback and report it)"


try:  # Typer >= 0.22 carries its own click; its usage errors are not click's
    from typer._click.exceptions import ClickException as _ClickException
    from typer._click.exceptions import NoArgsIsHelpError as _NoArgsIsHelp
    from typer._click.exceptions import UsageError as _UsageError
except ImportError:  # pragma: no cover - older Typer on plain click
    _ClickException, _UsageError = click.ClickException, click.UsageError
    _NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _quiet_types(command) -> None:
    """Help without type noise: a flag shows no ``<bool>``, a repeatable option its element type."""
    _quiet_params(getattr(command, "params", ()))
    if hasattr(command, "get_help_option") and not getattr(command, "_tokbench_quiet_help", False):
        make_help = command.get_help_option

        def get_help_option(ctx, _make=make_help):  # -h/--help is built per call: quiet it there
            option = _make(ctx)
            if option is not None:
                option.metavar = ""
            return option

        command.get_help_option = get_help_option
        command._tokbench_quiet_help = True
    for sub in getattr(command, "commands", {}).values():
        _quiet_types(sub)


def _quiet_params(params) -> None:
    for param in params:
        if getattr(param, "param_type_name", "") == "argument" and getattr(param, "nargs", 1) != 1:
            try:
                label = param.display_type(None)
            except Exception:
                continue
            if label.startswith("<list[") and label.endswith("]>"):  # TOKENIZER... already says "several"
                param.display_type_rich = lambda ctx, _label=f"<{label[6:-2]}>": _label
            continue
        if getattr(param, "param_type_name", "") != "option" or param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif getattr(param, "multiple", False):
            try:
                label = param.display_type(None)
            except Exception:  # an unusual type: leave Typer's label
                continue
            if label.startswith("<list[") and label.endswith("]>"):
                param.metavar = f"<{label[6:-2]}>"


class TokbenchGroup(TyperGroup):
    """A Typer group that turns :class:`TokbenchError`, file-system errors and anything unexpected (Rust
    panics included, which are BaseExceptions) raised anywhere below it into one red line and an exit
    code (2 for bad input), never a traceback."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _quiet_types(self)

    def get_params(self, ctx):
        params = super().get_params(ctx)
        _quiet_params(params)  # the root's completion options are added after __init__
        return params

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _NoArgsIsHelp:
            raise
        except _UsageError as exc:
            # A mistyped option or a bad value: one line, exit 2, and where the help is.
            where = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "tokbench"
            raise fail(f"{exc.format_message()} (see {where} -h)", 2) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, typer.Exit, typer.Abort, SystemExit, GeneratorExit,
                _ClickException):
            raise
        except TokbenchError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except OSError as exc:
            if exc.filename is not None:
                raise fail(f"{exc.strerror or exc}: {exc.filename}", 2) from None
            raise fail(f"{exc.strerror or exc}", 2) from None
        except KeyboardInterrupt as exc:
            if isinstance(exc, Terminated):
                raise fail("terminated; nothing was written", 143) from None
            raise fail("interrupted; nothing was written", 130) from None
        except RecursionError:
            raise fail("an input is nested too deeply to read (a hostile or broken file?)", 2) from None
        except MemoryError:
            raise fail("out of memory: an input declares sizes far beyond what it holds, or is too large for this machine", 2) from None
        except BaseException as exc:
            raise fail(_unexpected(exc), 2) from None


class DefaultCommandGroup(TokbenchGroup):
    """A group where ``tokbench GROUP ARGS`` runs the default sub-command unless ARGS starts with one of
    the named sub-commands: ``tokbench infer-mixture tok.json`` == ``tokbench infer-mixture run tok.json``."""

    default_command = "run"

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args.insert(0, self.default_command)
        return super().resolve_command(ctx, args)


def new_app(help: str, *, default_command: str | None = None, **kw) -> typer.Typer:
    """A Typer (sub-)app wired to the error boundary."""
    if default_command:
        cls = type("DefaultGroup", (DefaultCommandGroup,), {"default_command": default_command})
    else:
        cls = TokbenchGroup
    kw.setdefault("add_completion", False)  # the root app adds --install-completion / --show-completion
    return typer.Typer(help=help, cls=cls, no_args_is_help=True, rich_markup_mode="rich",
                       context_settings={"help_option_names": ["-h", "--help"]}, **kw)


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12, "tib": 2**40}


def parse_size(text: str | None) -> int | None:
    """'500KB' -> 500000, '2MiB' -> 2097152, None -> None."""
    if text is None:
        return None
    m = _SIZE.match(str(text))
    if not m or m.group(2) is not None and m.group(2).lower() not in _UNITS:
        raise ConfigError(f"cannot read size '{text}'; write e.g. 500KB, 20MB or 1GiB")
    value = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    if not value < 1e18:  # a 400-digit number reads as inf
        raise ConfigError(f"size '{text[:40]}' is beyond any text budget; write e.g. 500KB, 20MB or 1GiB")
    return int(value)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def rich_table(rows: Sequence[dict[str, Any]], title: str | None = None, columns: Iterable[str] | None = None,
               floatfmt: str = "{:.3f}") -> Table:
    """A rich Table from a list of dicts (columns in first-seen order)."""
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    from rich.markup import escape

    # Titles carry names and paths ('notes [v2].txt'): shown verbatim, never read as markup.
    table = Table(title=escape(title) if title else None, show_lines=False, header_style="bold")
    for c in cols:
        table.add_column(str(c), justify="right" if rows and isinstance(rows[0].get(c), (int, float)) else "left")
    for r in rows:
        table.add_row(*[_fmt(r.get(c), floatfmt) for c in cols])
    return table


def _fmt(v: Any, floatfmt: str) -> str:
    from rich.markup import escape

    from tokbench.report.tables import format_cell

    return escape(v) if isinstance(v, str) else format_cell(v, floatfmt)


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout (for --json)."""
    from tokbench.files import _json_default

    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n")

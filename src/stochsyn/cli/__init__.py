"""The ``stochsyn`` command.

Each module of this package (other than those starting with ``_``) defines
``register(app: typer.Typer) -> None`` and adds its commands or sub-command
groups there; the root app discovers them, so a capability owns its own file.
Modules keep heavy imports (torch, dask, matplotlib) inside the command
functions so that ``stochsyn --help`` stays fast.

Errors: a ``ValueError``/``TypeError``/``FileNotFoundError`` raised by the
library, a ``MemoryError`` (in particular the memory guard's
:class:`stochsyn.resources.MemoryBudgetError`), or a bad command-line argument,
becomes one line on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import click
import typer

__all__ = ["app", "main", "build_app"]


def build_app() -> typer.Typer:
    """The root Typer app with every sub-command module registered."""
    root = typer.Typer(
        name="stochsyn",
        help="Train binary / low-precision networks through stochastic synapses, and study why it works.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def _print_version(value: bool) -> None:
        # a parameter callback runs while the arguments are parsed, so `stochsyn --version`
        # works without a command
        if value:
            from .. import __version__

            typer.echo(f"stochsyn {__version__}")
            raise typer.Exit(0)

    @root.callback()
    def _root(
        version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                     callback=_print_version, expose_value=True),
    ) -> None:
        return None

    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(root)
    return root


app = build_app()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stochsyn`` console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        rv = app(args=args, prog_name="stochsyn", standalone_mode=False)
    except (typer.Exit, click.exceptions.Exit) as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (typer.Abort, click.exceptions.Abort, KeyboardInterrupt):
        print("stochsyn: interrupted", file=sys.stderr)
        return 130
    except (typer.TyperException, click.ClickException) as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            return 0  # a bare command or group has printed its help: not an error
        fmt = getattr(exc, "format_message", None)
        msg = fmt() if callable(fmt) else str(exc)
        print(f"stochsyn: error: {' '.join(msg.split())}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"stochsyn: error: {msg}", file=sys.stderr)
        return 2
    except OSError as exc:
        # IsADirectoryError, FileExistsError, disk full, ...: the file system said no
        name = getattr(exc, "filename", None)
        msg = " ".join(str(exc.strerror or exc).split())
        print(f"stochsyn: error: {msg}" + (f": {name}" if name and str(name) not in msg else ""), file=sys.stderr)
        return 2
    except MemoryError as exc:
        # MemoryBudgetError: refused before allocating; a plain MemoryError: numpy ran out
        msg = " ".join(str(exc).split()) or "an allocation failed"
        print(f"stochsyn: error: not enough memory: {msg}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line, with a way to get the traceback
        if os.environ.get("STOCHSYN_DEBUG"):
            raise
        msg = " ".join(str(exc).split())
        print(f"stochsyn: internal error: {type(exc).__name__}: {msg} "
              "(a bug; please report it; STOCHSYN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    return int(rv) if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

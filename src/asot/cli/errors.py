"""How every command reports a problem: one line, ``Error: <what, where, what to do>`` on stderr.

Exit codes, the same for every command:

====  ==========================================================================================
code  meaning
====  ==========================================================================================
0     done
1     failure: the inputs' contents are wrong, or the command could not finish (an unreadable or
      malformed file, a full disk, a run folder in use by another run)
2     usage error: the command line is wrong (an unknown or missing flag, a bad value,
      contradicting flags, a path that does not exist, an output that would overwrite a file)
130   interrupted (Ctrl-C)
====  ==========================================================================================

Never a traceback: library errors (``ValueError``, ``OSError``, ...) are turned into the line by
:func:`reporting` / :func:`run_library`, and the command-line parser's own errors (a missing
option, a value that is not a number) are printed the same way by :class:`AsotGroup`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

__all__ = [
    "FAILURE",
    "INTERRUPTED",
    "USAGE",
    "AsotGroup",
    "describe",
    "fail",
    "interrupted",
    "reporting",
    "run_library",
    "usage_error",
    "warn",
]

# the parser's exception classes (typer bundles its own copy of click; found through public names)
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

FAILURE = 1
USAGE = 2
INTERRUPTED = 130

#: library exceptions that are the user's input, not a bug (reported on one line)
LIBRARY_ERRORS = (ValueError, TypeError, KeyError, OSError, EOFError)


def fail(message: str, code: int = FAILURE) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code`` (default 1, a failure)."""
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def usage_error(message: str) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with code 2 (the command line is wrong)."""
    fail(message, USAGE)


def interrupted(message: str) -> NoReturn:
    """Print ``Interrupted: message`` (what was kept) on stderr and exit with code 130."""
    typer.secho(f"Interrupted: {message}", err=True, fg=typer.colors.YELLOW)
    raise typer.Exit(INTERRUPTED)


def warn(message: str) -> None:
    """Print ``Warning: message`` on stderr (the command goes on)."""
    typer.secho(f"Warning: {message}", err=True, fg=typer.colors.YELLOW)


def describe(exc: BaseException) -> str:
    """The one-line message of a library exception (an ``OSError`` names its file)."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, EOFError):
        return f"an input file is empty or truncated ({exc})"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())  # one line


def _code(exc: BaseException, usage: tuple[type[BaseException], ...]) -> int:
    flagged = getattr(exc, "usage", None)
    if flagged is not None:
        return USAGE if flagged else FAILURE
    return USAGE if usage and isinstance(exc, usage) else FAILURE


@contextmanager
def reporting(*, usage: tuple[type[BaseException], ...] = (), errors: tuple[type[BaseException], ...] = LIBRARY_ERRORS) -> Iterator[None]:
    """Run a block, turning ``errors`` into one ``Error:`` line: exit 2 for the ``usage`` types
    (or an exception whose ``usage`` attribute is true), else 1."""
    try:
        yield
    except typer.Exit:
        raise
    except errors as exc:  # type: ignore[misc]
        fail(describe(exc), _code(exc, usage))


def run_library(call: Callable[[], Any], *, usage: tuple[type[BaseException], ...] = ()) -> Any:
    """``call()`` inside :func:`reporting`."""
    with reporting(usage=usage):
        return call()


def _parser_message(exc: Any) -> str:
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


class AsotGroup(TyperGroup):
    """The ``asot`` command group: the parser's errors are printed as one ``Error:`` line
    (exit 2) like every other error, not as a box; Ctrl-C exits with 130."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None, standalone_mode: bool = True,
             **extra: Any) -> Any:  # fmt: skip
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as exc:
            typer.secho(f"Error: {_parser_message(exc)}", err=True, fg=typer.colors.RED)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.secho("Interrupted", err=True, fg=typer.colors.YELLOW)
            sys.exit(INTERRUPTED)
        sys.exit(result if isinstance(result, int) else 0)

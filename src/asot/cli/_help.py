"""How ``asot --help`` shows values: classic metavars, no type for switches.

Recent Typer releases print a Python type for every parameter (``--transpose <bool>``,
``--help <bool>``, ``inputs... <list[Path]>``), required arguments as ``{inputs}...`` in the
usage line, and long choice lists in a narrow column that breaks them mid-word. Commands
registered on :data:`asot.cli.app` use :class:`Command` (the app's default class), which shows
instead::

    Usage: asot segment [OPTIONS] INPUTS...
      --kind        KIND        what the arrays hold: prob (...), logit (...), ...
      --transpose               arrays are classes x frames ...
      --batch-size  INT [x>=1]  videos decoded together (padded)
      --prob-cost   one-minus|neg-log  ...

A choice list longer than :data:`MAX_CHOICES_METAVAR` characters is shown as the option's name
(``KIND``); its help text lists the choices. An option's further long names (``--pred-kind``
beside ``--kind``) are hidden aliases: they work, but help lists the first name only. With a Typer that renders click's classic help
(no type descriptors), parameters are left as they are.
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

__all__ = ["App", "Command", "Group", "MAX_CHOICES_METAVAR", "metavar_of"]

#: longest ``a|b|c`` shown as a metavar; longer choice lists show the option name
MAX_CHOICES_METAVAR = 12

_TYPE_NAMES = {int: "INT", float: "FLOAT", str: "TEXT", Path: "PATH"}


def _element(annotation: Any) -> Any:
    """``list[X]`` -> ``X``; ``Optional[X]`` -> ``X``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (list, tuple, typing.Union) and len(args) == 1:
        return _element(args[0])
    return annotation


def metavar_of(param: Any) -> str | None:
    """The classic metavar of a Typer parameter (``INT``, ``PATH``, ``raw|matched``, ``KIND``);
    ``""`` for a switch; ``None`` where the parameter carries no type descriptor."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None
    if getattr(param, "is_flag", False):
        return ""
    if getattr(desc, "is_choice", False) and desc.choices:
        values = "|".join(str(getattr(c, "value", c)) for c in desc.choices)
        if len(values) <= MAX_CHOICES_METAVAR:
            return values
        return (param.name or "value").upper().replace("_", "-")
    if getattr(desc, "is_path", False):
        return "PATH"
    annotation = _element(desc.annotation)
    if getattr(desc, "is_ranged", False):
        return str(desc.ranged_type_name).upper()
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)).upper())


class _Argument(TyperArgument):
    """A positional argument shown as ``NAME...`` in the usage line and help, with its element
    type (``PATH``) in the type column."""

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Any) -> str | None:
        return metavar_of(self)


def _polish(param: Any) -> None:
    if getattr(param, "type_descriptor", None) is None:
        return  # classic (click-rendered) help: already plain
    if type(param) is TyperArgument:
        param.__class__ = _Argument  # same state, help methods overridden
        if param.metavar is None:
            param.metavar = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
    elif param.metavar is None:
        param.metavar = metavar_of(param)


@contextlib.contextmanager
def _aliases_hidden(params: list[Any]) -> Iterator[None]:
    """While help is rendered, each option shows its first long name only (further long names,
    e.g. ``--pred-kind`` beside ``--kind``, are hidden aliases: they parse, but are not listed)."""
    saved = []
    for param in params:
        opts = getattr(param, "opts", None)
        if not opts or isinstance(param, TyperArgument):
            continue
        long_names = [o for o in opts if o.startswith("--")]
        if len(long_names) > 1:
            saved.append((param, opts))
            param.opts = [o for o in opts if not o.startswith("--") or o == long_names[0]]
    try:
        yield
    finally:
        for param, opts in saved:
            param.opts = opts


class Command(TyperCommand):
    """A Typer command whose help shows classic metavars and hides flag aliases (see the module
    docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _polish(param)

    def format_help(self, ctx: Any, formatter: Any) -> Any:
        with _aliases_hidden(self.params):
            return super().format_help(ctx, formatter)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _polish(option)
        return option


class Group(TyperGroup):
    """The ``asot`` group: its own ``--help`` shown without a type."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _polish(option)
        return option


class App(typer.Typer):
    """:class:`typer.Typer` whose commands are :class:`Command` unless given another ``cls``;
    its group class (``cls``, default :class:`~typer.core.TyperGroup`) gets :class:`Group`'s
    help option."""

    def __init__(self, *args: Any, cls: Any = None, **kwargs: Any) -> None:
        base = cls or TyperGroup
        if not issubclass(base, Group):
            base = type(base.__name__, (Group, base), {"__doc__": base.__doc__, "__module__": base.__module__})
        super().__init__(*args, cls=base, **kwargs)

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().command(*args, cls=cls or Command, **kwargs)

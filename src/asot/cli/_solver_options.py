"""The solver flags of every command, defined once (spec section 7).

Commands that run the solver take the config's names as flags: ``--eps --alpha --radius
--radius-frames --lambda-actions --lambda-frames --balanced --unbalanced-frames --n-iters --sinkhorn-iters
--step-size``. Decorate a typer command with :func:`solver_options` and it receives a ready
:class:`~asot.ot.config.SolverConfig` instead of ten arguments::

    @app.command()
    @solver_options(base=EVAL_DEFAULTS)
    def segment(inputs: list[Path], solver_config: SolverConfig) -> None: ...

    # train and eval settings side by side: --train-eps ... and --eval-eps ...
    @solver_options(prefix="train-", dest="train_config", base=preset.train_solver)
    @solver_options(prefix="eval-", dest="eval_config", base=preset.eval_solver)

A flag left out keeps the value of ``base`` (so presets stay the one source of defaults; the
help text shows the base value). ``base`` may be a callable ``(**kwargs) -> SolverConfig``
taking the command's other arguments (e.g. to start from a preset chosen by ``--preset``).
Invalid values raise :class:`typer.BadParameter` naming the flag.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

import typer

from asot.ot.config import SolverConfig

__all__ = ["SOLVER_FLAGS", "solver_options", "config_from_flags"]


@dataclass(frozen=True)
class _Flag:
    field: str  # SolverConfig field (or "balanced")
    type: Any
    help: str

    @property
    def flag(self) -> str:
        return self.field.replace("_", "-")


#: the flags, in help order (``balanced`` and ``unbalanced_frames`` are switches)
SOLVER_FLAGS: tuple[_Flag, ...] = (
    _Flag("eps", float, "entropy weight epsilon, > 0"),
    _Flag("alpha", float, "structure (Gromov-Wasserstein) weight in [0, 1]; 0 = no GW term"),
    _Flag("radius", str, "structure half-width r as a fraction of the video length, in (0, 1], or 'auto' "
          "(estimated per video: by asot train from each training video's features and k-means labels, "
          "by segment/compare from the cost rows; see docs/radius.md)"),
    _Flag("radius_frames", int, "structure half-width in frames (overrides --radius), >= 1"),
    _Flag("lambda_actions", float, "KL weight lambda on the action (class) marginal"),
    _Flag("lambda_frames", float, "KL weight on the frame marginal (with --unbalanced-frames)"),
    _Flag("balanced", bool, "hard constraints on both marginals (the 'Balanced OT' ablation)"),
    _Flag("unbalanced_frames", bool, "KL penalty instead of the hard frame constraint"),
    _Flag("n_iters", int, "mirror-descent iterations"),
    _Flag("sinkhorn_iters", int, "inner Sinkhorn iterations of the balanced projection"),
    _Flag("step_size", float, "mirror step size (default: automatic, 4 / max of the first gradient)"),
)


def config_from_flags(base: SolverConfig, *, prefix: str = "", **values: Any) -> SolverConfig:
    """``base`` with the flags that were given (not ``None`` / not ``False``) applied.

    ``balanced=True`` sets both marginals hard (``unbalanced_actions = unbalanced_frames =
    False``); ``unbalanced_frames=True`` relaxes the frame marginal. Both at once is an error.
    """
    changes: dict[str, Any] = {}
    balanced = bool(values.pop("balanced", False))
    unbalanced_frames = bool(values.pop("unbalanced_frames", False))
    if balanced and unbalanced_frames:
        raise typer.BadParameter(f"--{prefix}balanced and --{prefix}unbalanced-frames contradict each other; give one")
    if balanced:
        changes.update(unbalanced_actions=False, unbalanced_frames=False)
    if unbalanced_frames:
        changes["unbalanced_frames"] = True
    for name, value in values.items():
        if value is not None:
            changes[name] = value
    if isinstance(changes.get("radius"), str) and changes["radius"] != "auto":
        try:
            changes["radius"] = float(changes["radius"])
        except ValueError:
            raise typer.BadParameter(f"--{prefix}radius: expected a number in (0, 1] or 'auto', got {changes['radius']!r}") from None
    try:
        return base.replace(**changes)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for flag in sorted(SOLVER_FLAGS, key=lambda f: -len(f.field)):  # radius_frames before radius
            message = message.replace(f"SolverConfig.{flag.field}", f"--{prefix}{flag.flag}")
        raise typer.BadParameter(message) from exc


def _describe(base: SolverConfig | None, flag: _Flag, prefix: str = "") -> str:
    if prefix:  # "--radius" in a help text means the flag of the same group: "--eval-radius"
        names = "|".join(sorted((f.flag for f in SOLVER_FLAGS), key=len, reverse=True))
        flag = dataclasses.replace(flag, help=re.sub(rf"--(?=(?:{names})\b)", f"--{prefix}", flag.help))
    if base is None:
        return flag.help
    if flag.field == "balanced":
        return f"{flag.help} (default: {'on' if base.balanced else 'off'})"
    value = getattr(base, flag.field)
    if value is None:
        return flag.help
    if flag.type is bool:
        return f"{flag.help} (default: {'on' if value else 'off'})"
    return f"{flag.help} (default: {value})"


def solver_options(
    base: SolverConfig | Callable[..., SolverConfig] | None = None,
    *,
    prefix: str = "",
    dest: str = "solver_config",
    panel: str | None = "Solver",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: add the solver flags (``--{prefix}eps`` ...) to a typer command.

    Args:
        base: the config the flags modify (a :class:`SolverConfig`, or a callable receiving
            the command's other keyword arguments and returning one); ``None``: the defaults.
        prefix: flag prefix, e.g. ``"eval-"`` gives ``--eval-eps``.
        dest: name of the command parameter that receives the config.
        panel: rich help panel the flags are listed under.
    """
    py_prefix = prefix.replace("-", "_")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func, eval_str=True)
        if dest not in signature.parameters:
            raise TypeError(f"solver_options: {func.__name__} has no parameter {dest!r} to receive the config")
        kept = [p for p in signature.parameters.values() if p.name != dest]
        shown_base = base if isinstance(base, SolverConfig) else (SolverConfig() if base is None else None)
        added: list[inspect.Parameter] = []
        names: dict[str, str] = {}
        for flag in SOLVER_FLAGS:
            pname = f"{py_prefix}{flag.field}"
            names[pname] = flag.field
            if flag.type is bool:
                default = typer.Option(False, f"--{prefix}{flag.flag}", help=_describe(shown_base, flag, prefix), rich_help_panel=panel, show_default=False)
                annotation: Any = bool
            else:
                default = typer.Option(None, f"--{prefix}{flag.flag}", help=_describe(shown_base, flag, prefix), rich_help_panel=panel, show_default=False)
                annotation = Optional[flag.type]
            added.append(inspect.Parameter(pname, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
        clash = set(names) & {p.name for p in kept}
        if clash:
            raise TypeError(f"solver_options: {func.__name__} already has parameter(s) {sorted(clash)}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {names[p]: kwargs.pop(p) for p in list(kwargs) if p in names}
            start = base if isinstance(base, SolverConfig) else (SolverConfig() if base is None else base(**kwargs))
            kwargs[dest] = config_from_flags(start, prefix=prefix, **values)
            return func(*args, **kwargs)

        positional = [p for p in kept if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
        keyword = [p for p in kept if p.kind == p.KEYWORD_ONLY]
        var_keyword = [p for p in kept if p.kind == p.VAR_KEYWORD]
        wrapper.__signature__ = signature.replace(parameters=positional + keyword + added + var_keyword)  # type: ignore[attr-defined]
        annotations = {p.name: p.annotation for p in (*kept, *added) if p.annotation is not inspect.Parameter.empty}
        if signature.return_annotation is not inspect.Signature.empty:
            annotations["return"] = signature.return_annotation
        wrapper.__annotations__ = annotations
        return wrapper

    return decorator

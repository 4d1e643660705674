"""Resuming a run: its settings come from the run's ``config.json``, never from new defaults.

:func:`resumed_settings` reads ``RUN/config.json`` and returns the preset and activities the run
was started with. A setting given again must agree with it; a contradiction (e.g. another K)
is a :class:`ResumeConflict` naming every contradicting setting as its command-line flag, since
resuming with it would load weights of the wrong shape or mix two experiments. The one
exception is ``epochs``: a larger (or smaller) count continues (or ends) the same training, and
:func:`record_epochs` notes the new count in ``config.json`` once the resumed run has finished;
otherwise the file is only read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asot.ot.config import SolverConfig
from asot.presets import Preset

__all__ = ["ResumeConflict", "record_epochs", "resumed_settings", "run_config"]

#: library argument / preset field -> command-line flag (for messages)
FLAGS = {"preset": "--preset", "n_clusters": "--n-clusters", "epochs": "--epochs", "seed": "--seed", "rho": "--rho",
         "rho_auto": "--rho auto", "kmeans_init": "--kmeans-init/--no-kmeans-init",
         "prior_centred": "--prior-centred/--prior-paper", "min_run_radii": "--min-run-radii", "activities": "--activity",
         "dataset": "--dataset"}  # fmt: skip


class ResumeConflict(ValueError):
    """Settings given on resume contradict the run's ``config.json`` (a usage error)."""

    usage = True


def run_config(folder: Path) -> dict[str, Any] | None:
    """The run's ``config.json`` (``None`` when there is none); an unreadable one is an error."""
    path = Path(folder) / "config.json"
    if not path.exists():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        Preset.from_dict(config["preset"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: unreadable run settings ({type(err).__name__}: {err}); cannot resume from it") from None
    return config


def _flag(name: str) -> str:
    if "." in name:  # train_solver.eps -> --train-eps
        which, field = name.split(".", 1)
        return f"--{which.split('_')[0]}-{field.replace('_', '-')}"
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def _solver_differences(name: str, given: SolverConfig, run: SolverConfig) -> list[tuple[str, Any, Any]]:
    a, b = given.to_dict(), run.to_dict()
    return [(f"{name}.{k}", a[k], b.get(k)) for k in a if a[k] != b.get(k)]


def resumed_settings(
    folder: Path,
    *,
    dataset: str,
    preset: str | Preset | None = None,
    activities: Sequence[str] | None = None,
    n_clusters: int | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    train_solver: SolverConfig | None = None,
    eval_solver: SolverConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Preset, list[str]] | None:
    """``(preset, activities)`` of the run in ``folder`` (``None`` when it has no ``config.json``).

    Every argument that is not ``None`` is a setting given again and must equal the run's.

    Raises:
        ResumeConflict: naming each contradicting setting, what was given and what the run has.
    """
    config = run_config(folder)
    if config is None:
        return None
    run = Preset.from_dict(config["preset"])
    run_activities = list(config.get("activities") or [])
    conflicts: list[tuple[str, Any, Any]] = []
    if dataset != config.get("dataset"):
        conflicts.append(("dataset", dataset, config.get("dataset")))
    if isinstance(preset, Preset):
        given = preset.to_dict()
        conflicts += [(k, given[k], v) for k, v in run.to_dict().items() if given.get(k) != v]
    elif preset is not None and preset != run.name:
        conflicts.append(("preset", preset, run.name))
    if activities is not None and sorted(activities) != sorted(run_activities):
        conflicts.append(("activities", list(activities), run_activities))
    if n_clusters is not None:
        ks = sorted(set((config.get("n_clusters") or {}).values())) or [run.n_clusters]
        if ks != [n_clusters]:
            conflicts.append(("n_clusters", n_clusters, ks[0] if len(ks) == 1 else config.get("n_clusters")))
    for name, value in (("seed", seed), *dict(overrides or {}).items()):
        if value is not None and value != getattr(run, name, None):
            conflicts.append((name, value, getattr(run, name, None)))
    for name, value in (("train_solver", train_solver), ("eval_solver", eval_solver)):
        if value is not None:
            conflicts += _solver_differences(name, value, getattr(run, name))
    if conflicts:
        listed = "; ".join(f"{_flag(k)} {given!r} (the run has {has!r})" for k, given, has in conflicts)
        raise ResumeConflict(f"{Path(folder) / 'config.json'}: resuming takes the run's settings, and these contradict "
                             f"them: {listed}; leave them out to resume, or start a new run (another folder, or --overwrite)")  # fmt: skip
    if epochs is not None and epochs != run.epochs:
        run = run.replace(epochs=int(epochs))
    return run, run_activities


def record_epochs(folder: Path, epochs: int) -> None:
    """After a resumed run finished: ``config.json`` notes its epoch count (if it changed)."""
    from asot.io.labels import write_json

    config = run_config(folder)
    if config is not None and config["preset"].get("epochs") != epochs:
        config["preset"]["epochs"] = int(epochs)
        write_json(Path(folder) / "config.json", config)

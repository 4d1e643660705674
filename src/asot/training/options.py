"""What :func:`asot.train` takes besides the data: a preset plus overrides, and two option groups.

* the **preset** (:class:`~asot.presets.Preset` or its name) and ``overrides`` (``{field: value}``
  of the preset, e.g. ``{"epochs": 5, "n_clusters": 4}``) fix the model and the solvers;
* :class:`RunOptions` -- what the run writes and how it treats an existing run folder;
* :class:`TrainerOptions` -- where and how Lightning trains.

The earlier flat keywords of ``train`` still work and land in one of these (:data:`PRESET_KEYWORDS`
in the overrides, :data:`RUN_KEYWORDS` in the run options, :data:`TRAINER_KEYWORDS` in the
trainer options); :func:`split_keywords` does that mapping, the one place of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from asot.training.checkpointing import DEFAULT_KEEP

__all__ = ["PRESET_KEYWORDS", "RUN_KEYWORDS", "TRAINER_KEYWORDS", "RunOptions", "TrainerOptions", "split_keywords"]


@dataclass(frozen=True)
class RunOptions:
    """What a run writes (see :func:`asot.train`).

    ``resume``: continue from ``out/checkpoints/<activity>/last.ckpt``; ``overwrite``: replace a
    finished run (built beside it, swapped in when complete); ``keep_checkpoints``: epoch
    checkpoints kept besides ``last.ckpt`` (-1: all); ``baseline``: score the training-free
    baselines; ``figures``: write ``out/figures`` (an integer: that many videos per activity,
    0: none); ``report``: write ``out/report.html``; ``fps``: frames per second for the seconds
    columns of the segment tables; ``restarts``: train that many seeds of each activity
    (``seed``, ``seed + 1``, ...) and keep the model whose segmentation agrees most with the
    others' (:mod:`asot.training.restarts`; recorded under ``"restarts"`` in ``"chosen"``)."""

    resume: bool = False
    overwrite: bool = False
    keep_checkpoints: int = DEFAULT_KEEP
    baseline: bool = True
    figures: bool | int = True
    report: bool = True
    fps: float | None = None
    restarts: int = 1


@dataclass(frozen=True)
class TrainerOptions:
    """Lightning's settings: ``accelerator``, ``devices``, ``strategy``, ``num_nodes``,
    ``progress`` (the progress bar) and any other ``Trainer`` keyword in ``trainer_kwargs``."""

    accelerator: str = "cpu"
    devices: int | str | Sequence[int] = 1
    strategy: str = "auto"
    num_nodes: int = 1
    progress: bool = False
    trainer_kwargs: Mapping[str, Any] | None = None


#: earlier keywords of ``train`` that change the preset (they go into the overrides)
PRESET_KEYWORDS = ("n_clusters", "epochs", "seed", "train_solver", "eval_solver")
RUN_KEYWORDS = tuple(f.name for f in fields(RunOptions))
TRAINER_KEYWORDS = tuple(f.name for f in fields(TrainerOptions))


def split_keywords(overrides: Mapping[str, Any] | None, run: RunOptions | None, trainer: TrainerOptions | None,
                   keywords: Mapping[str, Any]) -> tuple[dict[str, Any], RunOptions, TrainerOptions]:  # fmt: skip
    """``(overrides, run, trainer)`` with the flat ``keywords`` of the earlier ``train``
    merged in. A keyword that is none of these is a ``TypeError`` (as for any function); a
    preset field given both as a keyword and in ``overrides`` with different values is a
    ``ValueError``."""
    unknown = sorted(set(keywords) - set(PRESET_KEYWORDS) - set(RUN_KEYWORDS) - set(TRAINER_KEYWORDS))
    if unknown:
        raise TypeError(f"train() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}")
    merged = dict(overrides or {})
    for key in PRESET_KEYWORDS:
        value = keywords.get(key)
        if value is None:
            continue
        if key in merged and merged[key] is not None and merged[key] != value:
            raise ValueError(f"{key} given twice: {key}={value!r} and overrides[{key!r}]={merged[key]!r}")
        merged[key] = value
    run = replace(run or RunOptions(), **{k: keywords[k] for k in RUN_KEYWORDS if k in keywords})
    trainer = replace(trainer or TrainerOptions(), **{k: keywords[k] for k in TRAINER_KEYWORDS if k in keywords})
    return merged, run, trainer

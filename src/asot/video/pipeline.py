"""Raw videos in, timed segments out: features + unsupervised ASOT training in one call.

:func:`train_on_videos` (``asot video``) extracts frame features of a collection of videos
(:func:`~asot.video.extract_features`), trains ASOT on the collection without labels
(:func:`asot.training.train`) with ``n_actions`` clusters, and writes the segments of every
video. :func:`predict_videos` (``asot predict --checkpoint RUN VIDEO...``) segments new videos
of the same kind with that run: their features are extracted with the backbone, rate, image
size and seed recorded in the run, so they live in the same feature space.

**Run folder** (``run``)::

    video.json                    the settings new videos must be embedded with (written first)
    data/videos/features/         <video>.npy + <video>.json sidecars (resumable)
    model/                        the asot train run folder: config.json, checkpoints/, logs/,
                                  predictions/ (cluster ids per sampled frame), metrics.json
    segments.csv, segments.json   one row per segment (asot.io.segments: label action_<k>, frames,
                                  start/end seconds from the sidecars, confidence)
    figures/<video>.png           the segmentation of each video over time
    report.html                   the HTML report (asot report): timelines, settings, loss, thumbnails

A run again with the same settings reuses the finished features and retrains.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asot.io.labels import write_json
from asot.video.extract import ExtractionReport, FeatureConfig, extract_features, lightning_device, read_sidecar

__all__ = ["VIDEO_RUN_FILE", "VideoRun", "VideoRunError", "predict_videos", "train_on_videos"]

VIDEO_RUN_FILE = "video.json"
CREATED_BY = "asot video"
DATASET = "videos"
#: ASOT settings of ``asot video``: the default preset, changed in three ways.
#: ``rho = 0`` (no temporal prior): the prior assumes every video runs through the actions in one
#: fixed order, as in procedural benchmarks; one's own recordings often repeat an action, or
#: show them in any order. ``standardise = False``: a backbone's embeddings are meant to be
#: compared as they are; z-scoring each of their hundreds of dimensions over a small collection
#: gives near-constant (noise) dimensions the weight of the informative ones. And the training
#: pseudo-labels' action marginal penalty ``lambda_actions`` 0.3 (default 0.1): on a small
#: collection a weak penalty lets an action die (its frames taken by a similar one) early in
#: training, and it never comes back; segmentation keeps the default, free to leave actions unused
TRAINING_OVERRIDES: dict[str, Any] = {"rho": 0.0, "standardise": False}
TRAIN_LAMBDA_ACTIONS = 0.3


class VideoRunError(ValueError):
    """A user error of :func:`train_on_videos` / :func:`predict_videos` (one line)."""

    def __init__(self, message: str, *, usage: bool = True):
        super().__init__(message)
        self.usage = usage


@dataclass
class VideoRun:
    """What :func:`train_on_videos` / :func:`predict_videos` return."""

    out: Path
    extraction: ExtractionReport
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # video -> cluster id per sampled frame
    timestamps: dict[str, tuple[np.ndarray, float | None]] = field(default_factory=dict)  # video -> (frame seconds, end)
    segments: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] | None = None

    @property
    def is_global_zero(self) -> bool:
        return self.extraction.is_global_zero


def _read_run(run: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run / VIDEO_RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("created_by") == CREATED_BY else None


def _check_run_folder(run: Path) -> None:
    if run.exists() and not run.is_dir():
        raise VideoRunError(f"{run}: the run folder path exists and is not a folder")
    if run.is_dir() and any(run.iterdir()) and _read_run(run) is None:
        raise VideoRunError(f"{run}: the folder is not empty and is not an asot video run folder (no {VIDEO_RUN_FILE}); "
                            "choose a new or empty folder")  # fmt: skip


def _inputs(inputs: Iterable[os.PathLike | str] | os.PathLike | str) -> list[Path]:
    """The video files of ``inputs``, checked before anything is written."""
    from asot.video.decode import find_videos
    from asot.video.defaults import VIDEO_EXTENSIONS

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    inputs = [Path(p) for p in inputs]
    try:
        found = find_videos(inputs)
    except FileNotFoundError as err:
        raise VideoRunError(str(err)) from None
    if not found:
        raise VideoRunError(f"no video files ({', '.join(e.lstrip('.') for e in VIDEO_EXTENSIONS)}) found in "
                            f"{', '.join(map(str, inputs))}")  # fmt: skip
    return found


def _timestamps(features_dir: Path, names: Iterable[str]) -> dict[str, tuple[np.ndarray, float | None]]:
    """Per video: the sidecar's frame timestamps and the end of the last frame (seconds:
    the video's duration, else the last timestamp plus one sampling period)."""
    stamps = {}
    for name in names:
        sidecar = read_sidecar(features_dir / f"{name}.json")
        if sidecar is None:
            continue
        t = np.asarray(sidecar["timestamps"], dtype=np.float64)
        end = None
        if t.size:
            end = t[-1] + 1.0 / float(sidecar["fps"])
            duration = sidecar.get("duration")
            if isinstance(duration, (int, float)) and duration > t[-1]:
                end = float(duration)
        stamps[name] = (t, end)
    return stamps


def _write_figures(figures_dir: Path, predictions: Mapping[str, np.ndarray], timestamps: Mapping[str, np.ndarray], k: int) -> None:
    from matplotlib.ticker import MaxNLocator

    from asot.plot import plot_segmentation, save_figure

    figures_dir.mkdir(parents=True, exist_ok=True)
    for name, labels in predictions.items():
        fig = plot_segmentation(None, {"actions": labels}, n_classes=k, names=[f"action_{i}" for i in range(k)], title=name,
                                row_height=0.8)  # fmt: skip
        t = timestamps.get(name, (None, None))[0]
        if t is not None and len(t) == len(labels) and len(t) > 1:
            ax = fig.axes[-1]
            seconds = MaxNLocator(nbins=10, steps=[1, 2, 5, 10]).tick_values(float(t[0]), float(t[-1]))
            seconds = seconds[(seconds >= t[0]) & (seconds <= t[-1])]
            ax.set_xticks(np.interp(seconds, t, np.arange(len(t))), [f"{v:g}" for v in seconds])
            ax.set_xlabel("seconds")
        save_figure(fig, figures_dir / f"{name}.png")


def _table_rows(folder: Path, names: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of ``folder/segments.csv`` (written by train / predict) for the videos ``names``."""
    from asot.io.segments import SEGMENTS_CSV, read_segment_table

    keep = set(names)
    return [row for row in read_segment_table(folder / SEGMENTS_CSV) if row["video"] in keep]


def train_on_videos(
    inputs: Iterable[os.PathLike | str] | os.PathLike | str,
    run: os.PathLike | str,
    n_actions: int,
    *,
    features: FeatureConfig | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    device: str = "auto",
    devices: int = 1,
    workers: int = 2,
    progress: bool = True,
    figures: bool = True,
    overwrite: bool = False,
) -> VideoRun:
    """Features + unsupervised ASOT training + segments for a collection of videos (see the
    module docstring). Videos that cannot be decoded are listed in ``.extraction.failed`` and
    left out; the rest are segmented. A run folder with a finished model is retrained only with
    ``overwrite``."""
    from asot.presets import get_preset
    from asot.training.pipeline import train

    if isinstance(n_actions, bool) or not isinstance(n_actions, (int, np.integer)) or n_actions < 1:
        raise VideoRunError(f"n_actions must be an integer >= 1, got {n_actions!r}")
    features = features or FeatureConfig()
    inputs = _inputs(inputs)
    run = Path(run)
    _check_run_folder(run)
    previous = _read_run(run)
    if previous is not None and previous.get("features") != asdict(features):
        raise VideoRunError(f"{run} holds features made with {previous.get('features')}; use another run folder for other "
                            "feature settings")  # fmt: skip
    run.mkdir(parents=True, exist_ok=True)
    settings = {"created_by": CREATED_BY, "features": asdict(features), "n_actions": int(n_actions), "dataset": DATASET,
                "training": {"preset": "default", **TRAINING_OVERRIDES, "train_lambda_actions": TRAIN_LAMBDA_ACTIONS,
                             "epochs": epochs, "seed": seed}}  # fmt: skip
    write_json(run / VIDEO_RUN_FILE, settings)
    data = run / "data"
    report = extract_features(inputs, data / DATASET, features, device=device, devices=devices, workers=workers, progress=progress)
    if not report.is_global_zero:  # another process of a multi-device extraction: the first one trains
        return VideoRun(run, report)
    usable = sorted(set(report.done) | set(report.skipped))
    if not usable:
        raise VideoRunError("no video could be embedded: " + "; ".join(report.failed.values()), usage=False)
    feat_dir = data / DATASET / "features"
    stale = sorted(p.stem for p in feat_dir.glob("*.npy") if p.stem not in usable)
    if stale:
        raise VideoRunError(f"{feat_dir} also holds {', '.join(stale)} from an earlier call with other videos; "
                            "use a new run folder for another collection")  # fmt: skip
    accelerator, device_ids = lightning_device(device)  # training on one device (the collection is one model)
    train_solver = get_preset("default").train_solver.replace(lambda_actions=TRAIN_LAMBDA_ACTIONS)
    with warnings.catch_warnings():  # videos have no labels: the notice that metrics are skipped says nothing new
        warnings.filterwarnings("ignore", message=r"no ground truth.*")
        result = train(data, DATASET, run / "model", n_clusters=int(n_actions), epochs=epochs, seed=seed,
                       train_solver=train_solver, overrides=TRAINING_OVERRIDES, figures=figures, report=False,
                       accelerator=accelerator, devices=device_ids or 1, progress=progress, overwrite=overwrite)  # fmt: skip
    predictions = {name: np.asarray(labels) for name, labels in result.predictions.items()}
    stamps = _timestamps(feat_dir, predictions)
    from asot.io.segments import write_segment_tables

    rows = _table_rows(run / "model", predictions)  # the model's table (seconds from the sidecars), at the top
    write_segment_tables(run, rows)
    if figures:
        _write_figures(run / "figures", predictions, stamps, int(n_actions))
        _write_report(run)
    return VideoRun(run, report, predictions, stamps, rows, result.metrics)


def _write_report(run: Path) -> None:
    """``run/report.html`` of the trained model (a thumbnail per segment where PyAV decodes the
    videos); a report that cannot be written is a warning (the segments are complete)."""
    from asot.report import ReportError, write_report

    try:
        write_report(run / "model", run / "report.html")
    except (ReportError, OSError) as err:
        warnings.warn(f"report not written: {err}", stacklevel=3)


def predict_videos(
    run: os.PathLike | str,
    inputs: Iterable[os.PathLike | str] | os.PathLike | str,
    out: os.PathLike | str,
    *,
    device: str = "auto",
    workers: int = 2,
    progress: bool = True,
    overwrite: bool = False,
) -> VideoRun:
    """Segment new videos with a run of :func:`train_on_videos`: features into
    ``out/features/`` (the run's backbone, rate, image size and seed), label files
    ``out/<video>`` (cluster ids per sampled frame) and ``out/segments.csv`` / ``.json``."""
    inputs = _inputs(inputs)
    run = Path(run)
    settings = _read_run(run)
    if settings is None:
        raise VideoRunError(f"{run}: not an asot video run folder (no {VIDEO_RUN_FILE}); videos can only be segmented with a "
                            "run of asot video (for features, pass --data and --dataset)")  # fmt: skip
    try:
        features = FeatureConfig(**settings["features"])
    except (TypeError, ValueError) as err:
        raise VideoRunError(f"{run / VIDEO_RUN_FILE}: unreadable feature settings ({err})", usage=False) from None
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise VideoRunError(f"{out}: the output path exists and is not a folder")
    report = extract_features(inputs, out, features, device=device, workers=workers, progress=progress)
    usable = sorted(set(report.done) | set(report.skipped))
    if not usable:
        raise VideoRunError("no video could be embedded: " + "; ".join(report.failed.values()), usage=False)
    # segment exactly these videos (the folder may hold features of earlier calls)
    predictions = _predict_named(run / "model", out, usable, overwrite)
    stamps = _timestamps(out / "features", predictions)
    return VideoRun(out, report, predictions, stamps, _table_rows(out, predictions))


def _predict_named(model_dir: Path, out: Path, names: Sequence[str], overwrite: bool) -> dict[str, np.ndarray]:
    """Cluster ids of the videos ``names`` of ``out/features`` with the run's model."""
    from asot.training.pipeline import predict

    with warnings.catch_warnings():  # the new videos' folder is another "activity" than the run's: expected
        warnings.filterwarnings("ignore", message=r".*segmented with the model of activity.*")
        preds = predict(model_dir, out.parent, out.name, out, overwrite=overwrite)
    return {name: np.asarray(preds[name]) for name in names if name in preds}

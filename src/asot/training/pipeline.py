r"""Library entry points of the unsupervised pipeline (spec sections 4, 5 and 7).

* :func:`fit_activity` -- train and evaluate one model (one activity) with Lightning;
* :func:`train` -- per-activity training over a dataset in the standard layout, results
  aggregated over activities, k-means baseline, and a run folder;
* :func:`kmeans_baseline` -- k-means on the input features, each frame labelled with its
  nearest centroid (the "k-means + argmax" row of the comparison tables);
* :func:`predict` -- segment videos with trained checkpoints.

**Aggregation over activities** (Breakfast / YTI protocol): :mod:`asot.metrics.protocol`
(``full``: MoF pooled over the frames of all activities, F1 and mIoU averaged over activities;
``per_video``: averaged over all videos).

**Run folder** (``out``)::

    config.json                   resolved settings (written first, atomically; read, not rewritten, on resume;
                                  the settings chosen from the data are added as "chosen" at the end of the first run)
    checkpoints/<activity>/       last.ckpt (every epoch) + the last ``keep_checkpoints`` epochs (resume: ``resume=True``)
    logs/<activity>/version_<n>/  CSV logger, one version per run or resume (TensorBoard too when installed)
    predictions/<video>           predicted cluster ids, groundTruth format (one integer per line)
    segments.csv, segments.json   one row per predicted segment (asot.io.segments): frames, seconds, confidence
    figures/                      segmentation bars (GT vs prediction) and loss curves
    metrics.json                  {"full": {mof, f1, miou}, "per_video": {...}, ["activities": {...}],
                                   "baselines": {method: {...}}, "baseline": {...},
                                   "chosen": {activity: settings used}} in percent -- written LAST

Outputs are staged in hidden folders and moved into place only when complete, and
``metrics.json`` is written last, so an interrupted run leaves neither a partial
``predictions/`` nor a ``metrics.json``. A finished run is replaced only with
``overwrite=True``, and only once the new run is complete (it is built in ``out/.asot-new``);
``out/.asot.lock`` keeps a second run out (see :mod:`asot.io.runfolder`, docs/guarantees.md).
"""

from __future__ import annotations

import functools
import json
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asot.ot.config import SolverConfig
from asot.data.coverage import unlabelled_notice, unlabelled_summary
from asot.data.dataset import DatasetError, Video, VideoCollection, dataset_folder, load_dataset
from asot.io.labels import write_json, write_label_file
from asot.io.runfolder import clean_stale, rebased
from asot.io.training_logs import read_loss_curve
from asot.metrics.protocol import PROTOCOL_METRICS, aggregate_activities, evaluate_protocols
from asot.presets import Preset, get_preset
from asot.training.checkpointing import DEFAULT_KEEP, atomic_checkpoint_io, check_checkpoint, checkpoint_callback
from asot.training.options import PRESET_KEYWORDS, RUN_KEYWORDS, TRAINER_KEYWORDS, RunOptions, TrainerOptions, split_keywords
from asot.training.threads import training_threads

__all__ = [
    "ActivityResult",
    "PipelineError",
    "PipelineWarning",
    "RunResult",
    "aggregate_activities",
    "fit_activity",
    "kmeans_baseline",
    "load_videos",
    "predict",
    "resolve_preset",
    "train",
]

#: videos per activity drawn as segmentation-bar figures
N_FIGURE_VIDEOS = 3
METRICS = PROTOCOL_METRICS


class PipelineError(ValueError):
    """A user error (bad path, preset, K, activity): the CLI prints it on one line, exit 2
    (``usage=False``: the data or a file is wrong, not the command line: exit 1)."""

    def __init__(self, message: str, *, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


class TrainingInterrupted(KeyboardInterrupt):
    """Training was interrupted (Ctrl-C). ``checkpoint``: the ``last.ckpt`` kept (the last
    completed epoch) to continue from with ``resume=True``; ``discarded``: the interrupted run
    was to replace a finished one, which is kept unchanged in ``folder`` (nothing to resume)."""

    def __init__(self, activity: str | None, checkpoint: Path | None = None, *, discarded: bool = False,
                 folder: Path | None = None) -> None:  # fmt: skip
        self.activity, self.checkpoint, self.discarded, self.folder = activity, checkpoint, discarded, folder
        what = f"training of activity {activity!r}" if activity else "training"
        if discarded:
            detail = f"the new run was discarded and the previous run in {folder} is unchanged"
        elif checkpoint is not None:
            detail = f"continue from {checkpoint} with resume=True"
        else:
            detail = "no checkpoint was written yet"
        super().__init__(f"{what} was interrupted; {detail}")


class PipelineWarning(UserWarning):
    """Something the user should know that does not stop the run (the CLI prints it on one line)."""


@dataclass
class ActivityResult:
    """One activity's model and results."""

    activity: str
    n_clusters: int
    predictions: dict[str, np.ndarray]
    ground_truth: dict[str, np.ndarray]
    #: ``None`` when no video of the activity has labels (metrics skipped)
    metrics: dict[str, dict[str, float]] | None
    checkpoint: Path | None = None
    log_dir: Path | None = None
    module: Any = None
    #: per-frame confidence of the predictions (:func:`asot.io.segments.coupling_confidence`)
    confidence: dict[str, np.ndarray] = field(default_factory=dict)
    #: ``restarts > 1``: the seeds trained and the one kept (:func:`asot.training.restarts.fit_restarts`)
    restarts: dict[str, Any] | None = None
    #: ``rho_auto``: the order consistency and whether the activity was retrained with the
    #: stronger prior (:func:`asot.training.order_prior.fit_with_order_prior`)
    order_prior: dict[str, Any] | None = None


@dataclass
class RunResult:
    """What :func:`train` returns."""

    metrics: dict[str, Any]
    activities: dict[str, ActivityResult]
    preset: Preset
    baseline: dict[str, Any] | None = None
    out: Path | None = None
    seconds: float = 0.0
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    #: False on the other ranks of a distributed run: they train, rank 0 evaluates and writes
    is_global_zero: bool = True


def _is_global_zero() -> bool:
    """Whether this process is global rank 0 (always, unless Lightning launched it as another
    rank of a distributed run: the rank is then in its environment)."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0


# ------------------------------------------------------------------------------------------
# settings and data


def resolve_preset(
    preset: str | Preset = "default",
    *,
    n_clusters: int | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    train_solver: SolverConfig | None = None,
    eval_solver: SolverConfig | None = None,
    **overrides: Any,
) -> Preset:
    """A preset with the command-line style overrides applied; errors are :class:`PipelineError`."""
    if n_clusters is not None and (isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1):
        raise PipelineError(f"number of clusters K must be an integer >= 1, got {n_clusters!r}")
    changes = dict(overrides)
    for key, value in (("n_clusters", n_clusters), ("epochs", epochs), ("seed", seed),
                       ("train_solver", train_solver), ("eval_solver", eval_solver)):  # fmt: skip
        if value is not None:
            changes[key] = int(value) if key in ("n_clusters", "epochs", "seed") else value
    try:
        if isinstance(preset, Preset):
            return preset.replace(**changes) if changes else preset
        return get_preset(preset, **changes)
    except (TypeError, ValueError) as err:
        raise PipelineError(str(err)) from None


def load_videos(data: str | Path, dataset: str, preset: Preset, activities: Sequence[str] | None = None, *,
                labels: bool | str = True) -> VideoCollection:  # fmt: skip
    """Read the dataset for a preset (standardisation, mapping); errors are :class:`PipelineError`.

    ``labels``: as :func:`asot.data.load_dataset` (``"optional"``: videos without a groundTruth
    file, or a dataset without ``groundTruth/``, are read unlabelled)."""
    if isinstance(activities, str):  # one activity, not its letters
        activities = [activities]
    root = Path(data)
    if not root.exists():
        raise PipelineError(f"data folder {root} does not exist")
    if not dataset_folder(root, dataset).is_dir():
        present = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise PipelineError(f"dataset {dataset!r} not found under {root} (found: {present or 'nothing'})")
    try:
        videos = load_dataset(root, dataset, activities=list(activities) if activities else None, labels=labels,
                              standardise=preset.standardise, mapping=preset.mapping if labels is not False else None)  # fmt: skip
    except DatasetError as err:
        raise PipelineError(str(err), usage=err.usage) from None
    if len(videos) == 0:
        raise PipelineError(f"no videos for activities {list(activities or [])} in {root / dataset}")
    return videos


def frame_timings(videos: VideoCollection, fps: float | None = None) -> dict[str, Any]:
    """``{video: FrameTiming or None}``: ``fps`` when given, else each video's sidecar
    (:mod:`asot.io.timing`); a malformed sidecar or a bad ``fps`` is a :class:`PipelineError`."""
    from asot.io.labels import LabelFileError
    from asot.io.timing import read_frame_timing

    try:
        return {v.name: read_frame_timing(v.path, v.n_frames, fps) for v in videos}
    except (LabelFileError, ValueError) as err:
        raise PipelineError(str(err)) from None


def write_segments(folder: Path, predictions: Mapping[str, np.ndarray], confidence: Mapping[str, np.ndarray],
                   timings: Mapping[str, Any], *, merge: bool = False) -> None:  # fmt: skip
    """``folder/segments.csv`` and ``folder/segments.json`` of cluster-id predictions (labels
    ``action_<k>``; :mod:`asot.io.segments`); ``merge``: keep the previous table's rows of the
    other videos whose label files are in ``folder``."""
    from asot.io.segments import merged_with_previous, segment_rows, write_segment_tables

    rows = [row for name, labels in predictions.items()
            for row in segment_rows(name, labels, confidence=confidence.get(name), timing=timings.get(name))]  # fmt: skip
    if merge:
        rows = merged_with_previous(folder, rows, keep=[p.name for p in folder.iterdir() if p.is_file()])
    write_segment_tables(folder, rows)


def announce_unlabelled(videos: VideoCollection) -> None:
    """Say once (a :class:`PipelineWarning`) which videos are trained without labels."""
    notice = unlabelled_notice(videos)
    if notice is not None and _is_global_zero():
        warnings.warn(notice, PipelineWarning, stacklevel=3)


def _clusters_for(preset: Preset, activity: str, videos: Sequence[Video]) -> int:
    classes: set[int] = set()
    for v in videos:
        if v.labels is not None:
            classes.update(int(c) for c in np.unique(v.labels))
    classes -= set(preset.exclude_labels)
    try:
        k = preset.n_clusters_for(activity, default=len(classes) or None)
    except (KeyError, ValueError) as err:
        if all(v.labels is None for v in videos):
            raise PipelineError(f"activity {activity!r} has no ground-truth labels to count its actions: give the "
                                "number of actions K (--n-clusters K / n_clusters=K)") from None  # fmt: skip
        raise PipelineError(f"{err} (give --n-clusters)") from None
    if k < 1:
        raise PipelineError(f"number of clusters K must be >= 1, got {k}")
    # k-means (the initialisation, on the frames sampled per video, and the baseline) needs K points
    frames = sum(min(v.n_frames, preset.n_frames) if preset.kmeans_init else v.n_frames for v in videos)
    if k > frames:
        per = f", at most {preset.n_frames} sampled per video" if preset.kmeans_init else ""
        raise PipelineError(f"activity {activity!r}: K = {k} clusters but only {frames} training frames ({len(videos)} "
                            f"video(s){per}); give a smaller --n-clusters")  # fmt: skip
    return k


# ------------------------------------------------------------------------------------------
# metrics


#: one activity's full and per-video scores (kept under its earlier name)
evaluate_predictions = evaluate_protocols


# ------------------------------------------------------------------------------------------
# baseline


def kmeans_baseline(videos: Sequence[Video], n_clusters: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """k-means + argmax: k-means (scikit-learn, seeded) on the input features of all frames,
    each frame labelled with its nearest centroid. Returns ``{video: (N,) cluster ids}``
    (:mod:`asot.training.baselines` has it and the other training-free baselines)."""
    from asot.training.baselines import fit_kmeans, kmeans_argmax

    return kmeans_argmax(videos, fit_kmeans(videos, n_clusters, seed=seed))


# ------------------------------------------------------------------------------------------
# training one activity


def _loggers(out: Path | None, activity: str) -> list[Any] | bool:
    if out is None:
        return False
    from lightning.pytorch.loggers import CSVLogger

    # a resumed run logs to the next version_<n> (the CSV logger would overwrite version_0);
    # the loss figure reads them all
    loggers: list[Any] = [CSVLogger(str(out / "logs"), name=activity)]
    try:
        import tensorboard  # noqa: F401
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(str(out / "logs"), name=activity, version="tb"))
    except ImportError:
        pass
    return loggers


def fit_activity(
    videos: Sequence[Video],
    preset: Preset,
    *,
    activity: str,
    out: str | Path | None = None,
    resume: bool = False,
    accelerator: str = "cpu",
    devices: int | str | Sequence[int] = 1,
    strategy: str = "auto",
    num_nodes: int = 1,
    progress: bool = False,
    trainer_kwargs: Mapping[str, Any] | None = None,
    keep_checkpoints: int = DEFAULT_KEEP,
) -> ActivityResult | None:
    """Train the encoder and action embeddings on one activity's videos, then segment them all.

    Seeds with ``preset.seed`` (``seed_everything``). With ``out``: checkpoints in
    ``out/checkpoints/<activity>/`` (``last.ckpt`` after every epoch plus the last
    ``keep_checkpoints`` epoch files, all written atomically; see
    :mod:`asot.training.checkpointing`) and a CSV logger in ``out/logs/<activity>/``;
    ``resume=True`` continues from ``last.ckpt``.
    ``accelerator`` / ``devices`` / ``strategy`` / ``num_nodes`` go to the Lightning Trainer
    (``strategy="ddp"`` for several GPUs or nodes). Returns an :class:`ActivityResult`.

    Distributed (``world_size > 1``): every rank trains; then global rank 0 alone segments
    and scores every video on one device (a sharded test would score each rank's share
    separately), and the other ranks return ``None``.
    """
    from lightning.pytorch import Trainer, seed_everything

    from asot.models.lit_module import ASOTModule
    from asot.training.datamodule import ASOTDataModule

    videos = list(videos)
    if not videos:
        raise PipelineError(f"activity {activity!r} has no videos")
    k = _clusters_for(preset, activity, videos)
    seed_everything(preset.seed, workers=True, verbose=False)
    dm = ASOTDataModule(videos, n_frames=preset.n_frames, batch_size=preset.batch_size, seed=preset.seed)
    module = ASOTModule(
        preset.layer_sizes_for(videos[0].dim), k, preset.train_solver, preset.eval_solver,
        rho=preset.rho, rho_auto=preset.rho_auto, prior_centred=preset.prior_centred, min_run_radii=preset.min_run_radii, temperature=preset.temperature, lr=preset.lr, weight_decay=preset.weight_decay,
        kmeans_init=preset.kmeans_init, exclude_labels=preset.exclude_labels, seed=preset.seed,
        extra={"activity": activity, "preset": preset.to_dict()},
    )  # fmt: skip
    out_path = Path(out) if out is not None else None
    callbacks: list[Any] = []
    ckpt_dir = None
    if out_path is not None:
        ckpt_dir = out_path / "checkpoints" / activity
        callbacks.append(checkpoint_callback(ckpt_dir, keep_checkpoints))
    kwargs: dict[str, Any] = dict(
        max_epochs=preset.epochs, accelerator=accelerator, devices=devices, strategy=strategy, num_nodes=num_nodes,
        callbacks=callbacks, logger=_loggers(out_path, activity), enable_checkpointing=out_path is not None,
        check_val_every_n_epoch=preset.val_every, num_sanity_val_steps=0, log_every_n_steps=1,
        enable_progress_bar=progress, enable_model_summary=False, default_root_dir=str(out_path) if out_path else None,
        plugins=[atomic_checkpoint_io()] if out_path is not None else None,
    )  # fmt: skip
    kwargs.update(trainer_kwargs or {})
    trainer = Trainer(**kwargs)
    ckpt_path = None
    if resume and ckpt_dir is not None and (ckpt_dir / "last.ckpt").exists():
        ckpt_path = str(ckpt_dir / "last.ckpt")
        try:
            check_checkpoint(Path(ckpt_path))
        except ValueError as err:
            raise PipelineError(str(err), usage=False) from None

    def interrupted() -> TrainingInterrupted:
        last = ckpt_dir / "last.ckpt" if ckpt_dir is not None and (ckpt_dir / "last.ckpt").exists() else None
        return TrainingInterrupted(activity, last)

    try:
        trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path)
    except SystemExit:  # Lightning catches Ctrl-C, saves what it can and calls exit(1)
        if trainer.interrupted:
            raise interrupted() from None
        raise
    if trainer.interrupted:  # do not report a half-trained model
        raise interrupted()
    log_dir = Path(trainer.loggers[0].log_dir) if trainer.loggers else None
    tester = trainer
    if trainer.world_size > 1:
        if not trainer.is_global_zero:
            return None
        first = [devices[0]] if isinstance(devices, (list, tuple)) and devices else 1
        tester = Trainer(accelerator=accelerator, devices=first, num_nodes=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=progress, enable_model_summary=False)  # fmt: skip
    with warnings.catch_warnings():  # a one-device test inside a distributed run: nothing to sync
        warnings.filterwarnings("ignore", message=".*sync_dist=True.*")
        tester.test(module, datamodule=dm, verbose=False)
    preds = dict(module.last_test_predictions)
    gts = {v.name: v.labels for v in videos if v.labels is not None}
    metrics = (module.last_metrics.get("test") or evaluate_protocols(preds, gts, preset.exclude_labels)) if gts else None
    last = ckpt_dir / "last.ckpt" if ckpt_dir is not None and (ckpt_dir / "last.ckpt").exists() else None
    return ActivityResult(activity, k, preds, gts, metrics, last, log_dir, module, dict(module.last_test_confidence))


# ------------------------------------------------------------------------------------------
# run folders


def _check_run_folder(out: Path, resume: bool) -> None:
    """``out`` must be new, empty, or an earlier run folder: a new run replaces that run's
    ``predictions/``, ``figures/`` and ``metrics.json``, and nothing else may be at risk."""
    if out.exists() and not out.is_dir():
        raise PipelineError(f"{out}: the run folder path exists and is not a folder")
    from asot.io.runfolder import OWN_ENTRIES, is_run_folder

    if out.is_dir() and any(p.name not in OWN_ENTRIES for p in out.iterdir()) and not is_run_folder(out):
        raise PipelineError(f"{out}: the folder is not empty and is not an asot run folder (no config.json from "
                            f"asot train); choose a new or empty folder{'' if not resume else ' (nothing to resume)'}")


def _resumed_settings(out: str | Path | None, resume: bool, **given: Any) -> tuple[Preset, list[str]] | None:
    """``(preset, activities)`` from the run's ``config.json`` when resuming (see
    :mod:`asot.training.resume`); ``None`` for a new run."""
    if not resume or out is None:
        return None
    from asot.training.resume import resumed_settings

    try:
        return resumed_settings(Path(out), **given)
    except ValueError as err:
        raise PipelineError(str(err), usage=getattr(err, "usage", False)) from None


def _in_run_folder(train_fn: Any) -> Any:
    """Run :func:`train` holding the run folder's lock, and build a run that replaces a finished
    one beside it, swapping it in only when complete (:mod:`asot.io.runfolder`)."""
    from asot.io import runfolder

    @functools.wraps(train_fn)
    def wrapper(data: str | Path, dataset: str, out: str | Path | None = None, **kwargs: Any) -> RunResult:
        if out is None:
            return train_fn(data, dataset, None, **kwargs)
        out = Path(out)
        resume, overwrite = bool(kwargs.get("resume", False)), bool(kwargs.get("overwrite", False))
        _check_run_folder(out, resume)
        if not _is_global_zero():  # another rank of a distributed run: rank 0 holds the lock and decides
            work = out / runfolder.NEW_NAME
            return train_fn(data, dataset, work if work.is_dir() else out, **kwargs)
        created = not out.exists()
        lock = runfolder.RunLock(out)
        try:
            lock.acquire()
        except runfolder.RunFolderBusy as err:
            raise PipelineError(str(err), usage=False) from None
        work = None
        try:
            runfolder.remove_leftovers(out)
            if resume or not runfolder.has_results(out):
                return train_fn(data, dataset, out, **kwargs)
            if not overwrite:
                state = "a finished run" if (out / "metrics.json").exists() else "an unfinished run (checkpoints)"
                raise PipelineError(f"{out}: holds {state}; pass --overwrite to replace it (it is kept until the new run "
                                    "has finished), --resume to continue it, or choose another folder")  # fmt: skip
            work = runfolder.staging(out)
            try:
                result = train_fn(data, dataset, work, **kwargs)
            except KeyboardInterrupt as err:
                raise TrainingInterrupted(getattr(err, "activity", None), discarded=True, folder=out) from None
            runfolder.publish(work, out)
            return _moved(result, work, out)
        finally:
            if work is not None and work.exists():
                shutil.rmtree(work, ignore_errors=True)
            lock.release()
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()  # a run that failed before writing anything leaves no folder

    return wrapper


def _moved(result: RunResult, work: Path, out: Path) -> RunResult:
    """``result`` with its paths under ``work`` pointing under ``out`` (after publishing)."""

    result.out = out
    for r in result.activities.values():
        r.checkpoint, r.log_dir = rebased(r.checkpoint, work, out), rebased(r.log_dir, work, out)
    return result


def _check_trainer_settings(accelerator: Any, devices: Any, strategy: Any, num_nodes: Any,
                            trainer_kwargs: Mapping[str, Any] | None) -> None:
    """Build (and drop) a Lightning Trainer with these settings, so that a bad accelerator,
    device, strategy or node count is a one-line error before anything is written."""
    from lightning.pytorch import Trainer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Trainer(accelerator=accelerator, devices=devices, strategy=strategy, num_nodes=num_nodes, logger=False,
                    enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                    **dict(trainer_kwargs or {}))  # fmt: skip
    except Exception as err:  # noqa: BLE001 - Lightning raises ValueError, TypeError, MisconfigurationException
        raise PipelineError(f"trainer settings (accelerator={accelerator!r}, devices={devices!r}, strategy={strategy!r}, "
                            f"num_nodes={num_nodes!r}): {err}") from None


def write_predictions(out_dir: Path, predictions: Mapping[str, np.ndarray]) -> Path:
    """Write ``out_dir/<video>`` label files (groundTruth format, integers) as one unit
    (:func:`asot.io.runfolder.staged`)."""
    from asot.io.runfolder import staged

    with staged(Path(out_dir)) as tmp:
        for name, labels in predictions.items():
            write_label_file(tmp / name, np.asarray(labels))
    return Path(out_dir)


def _loss_curve(log_root: Path, title: str) -> Any | None:
    """The loss figure of one activity's logs (``None`` without logged epochs)."""
    from asot.plot import plot_loss_curve

    curve = read_loss_curve(log_root)
    return plot_loss_curve([e for e, _ in curve], [v for _, v in curve], title=title) if curve else None


def write_figures(figures_dir: Path, results: Mapping[str, ActivityResult], baseline: Mapping[str, np.ndarray] | None,
                  exclude: Iterable[int] = (), n_videos: int = N_FIGURE_VIDEOS,
                  names: Mapping[int, str] | None = None) -> Path:  # fmt: skip
    """Segmentation bars (GT vs ASOT [vs k-means]; :func:`asot.plot.activity_figures`) for
    ``n_videos`` videos per activity and the loss curves, staged and published as one folder."""
    from asot.io.runfolder import staged
    from asot.plot import activity_figures, save_figure

    n_classes = 1 + max((int(g.max()) for r in results.values() for g in r.ground_truth.values()), default=0)
    with staged(Path(figures_dir)) as tmp:
        for act, res in results.items():
            rows = {"ASOT": res.predictions}
            labelled = [n for n in res.predictions if n in res.ground_truth]
            if baseline is not None and labelled:
                rows["k-means"] = {n: baseline[n] for n in labelled if n in baseline}
            figs = activity_figures(act, rows, res.ground_truth, n_clusters=res.n_clusters, n_classes=n_classes,
                                    exclude=tuple(exclude), n_videos=n_videos, names=names)  # fmt: skip
            for name, fig in figs.items():
                save_figure(fig, tmp / f"segmentation_{name}.png")
            if res.log_dir is not None:
                fig = _loss_curve(Path(res.log_dir).parent, f"{act}: training loss")
                if fig is not None:
                    save_figure(fig, tmp / f"loss_{act}.png")
    return Path(figures_dir)


def _class_names(videos: VideoCollection) -> dict[int, str] | None:
    """Class id -> name from the dataset's mapping (the first name listed for an id)."""
    mapping = getattr(videos, "mapping", None)
    return None if mapping is None else {int(i): names[0] for i, names in mapping.id_to_names.items()}


def _write_report(out: Path, rows: Mapping[str, Mapping[str, np.ndarray]], activities: Mapping[str, str]) -> None:
    """``out/report.html``; a report that cannot be written is a warning (the run is complete)."""
    from asot.report import ReportError, write_report

    try:
        write_report(out, rows=rows, activities=activities)
    except (ReportError, OSError) as err:
        warnings.warn(f"report not written: {err}", PipelineWarning, stacklevel=3)


# ------------------------------------------------------------------------------------------
# train


@_in_run_folder
def _train_run(
    data: str | Path,
    dataset: str,
    out: str | Path | None = None,
    *,
    activities: Sequence[str] | None = None,
    preset: str | Preset | None = None,
    n_clusters: int | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    train_solver: SolverConfig | None = None,
    eval_solver: SolverConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_checkpoints: int = DEFAULT_KEEP,
    baseline: bool = True,
    figures: bool | int = True,
    report: bool = True,
    accelerator: str = "cpu",
    devices: int | str | Sequence[int] = 1,
    strategy: str = "auto",
    num_nodes: int = 1,
    progress: bool = False,
    trainer_kwargs: Mapping[str, Any] | None = None,
    videos: VideoCollection | None = None,
    fps: float | None = None,
    restarts: int = 1,
) -> RunResult:
    """:func:`train` with every setting as its own keyword (the earlier signature, kept for
    :func:`train`'s old keywords); see :func:`train`."""
    t0 = time.perf_counter()
    if isinstance(activities, str):  # one activity, not its letters
        activities = [activities]
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
        raise PipelineError(f"restarts must be an integer >= 1, got {restarts!r}")
    if restarts > 1 and resume:
        raise PipelineError("restarts cannot be combined with resume (a resumed run continues the model each restart kept)")
    resumed = _resumed_settings(out, resume, dataset=dataset, preset=preset, activities=activities, n_clusters=n_clusters,
                                epochs=epochs, seed=seed, train_solver=train_solver, eval_solver=eval_solver,
                                overrides=overrides)  # fmt: skip
    if resumed is not None:
        p, activities = resumed
    else:
        p = resolve_preset("default" if preset is None else preset, n_clusters=n_clusters, epochs=epochs, seed=seed,
                           train_solver=train_solver, eval_solver=eval_solver, **dict(overrides or {}))  # fmt: skip
    if videos is None:
        videos = load_videos(data, dataset, p, activities, labels="optional")
    elif activities:
        try:
            videos = videos.select(activities)
        except DatasetError as err:
            raise PipelineError(str(err), usage=err.usage) from None
    groups = videos.by_activity()
    timings = frame_timings(videos, fps)  # a bad sidecar fails before any training
    announce_unlabelled(videos)
    for act, vids in groups.items():  # validate K for every activity before any training
        _clusters_for(p, act, list(vids))
    out_path = Path(out) if out is not None else None
    writer = _is_global_zero()  # in a distributed run only rank 0 writes the run folder
    if out_path is not None:
        _check_run_folder(out_path, resume)
    _check_trainer_settings(accelerator, devices, strategy, num_nodes, trainer_kwargs)
    if out_path is not None and writer:
        out_path.mkdir(parents=True, exist_ok=True)
        if not resume:
            clean_stale(out_path)
        config = {"data": str(Path(data).resolve()) if data is not None else None, "dataset": dataset,
                  "activities": list(groups), "preset": p.to_dict(),
                  "n_clusters": {a: _clusters_for(p, a, list(v)) for a, v in groups.items()},
                  # the encoder actually built: the preset's input size replaced by the data's dimension
                  "layer_sizes": {a: list(p.layer_sizes_for(list(v)[0].dim)) for a, v in groups.items()},
                  "trainer": {"accelerator": accelerator, "devices": devices if isinstance(devices, (int, str)) else list(devices),
                              "strategy": strategy, "num_nodes": num_nodes}}  # fmt: skip
        if resumed is None:  # a resumed run keeps the config.json it was started with
            write_json(out_path / "config.json", config)

    kmeans: dict[str, Any] = {}
    if baseline and writer:  # the baselines' k-means needs no model: fitted before training, at a smaller resident set
        from asot.training.baselines import fit_activity_kmeans

        labelled_groups = {a: list(v) for a, v in groups.items() if any(x.labels is not None for x in v)}
        kmeans = fit_activity_kmeans(labelled_groups, {a: _clusters_for(p, a, v) for a, v in labelled_groups.items()}, seed=p.seed)
    fit: Any = fit_activity
    if p.rho_auto:  # the prior's weight also from the trained model's order of actions
        from asot.training.order_prior import fit_with_order_prior

        fit = functools.partial(fit_with_order_prior, fit_activity)
    results: dict[str, ActivityResult] = {}
    for act, vids in groups.items():
        fit_kwargs = dict(activity=act, out=out_path, resume=resume, accelerator=accelerator, devices=devices, strategy=strategy,
                          num_nodes=num_nodes, progress=progress, trainer_kwargs=trainer_kwargs, keep_checkpoints=keep_checkpoints)  # fmt: skip
        if restarts > 1:
            from asot.training.restarts import fit_restarts

            result = fit_restarts(fit, list(vids), p, restarts, **fit_kwargs)
        else:
            result = fit(list(vids), p, **fit_kwargs)
        if result is not None:
            results[act] = result
    if not writer or len(results) < len(groups):  # another rank of a distributed run: rank 0 reports
        return RunResult({}, {}, p, None, None, time.perf_counter() - t0, {}, is_global_zero=False)
    metrics: dict[str, Any] = aggregate_activities(
        {a: (r.predictions, r.ground_truth, r.metrics) for a, r in results.items()}, p.exclude_labels
    )
    labelled = {a: r for a, r in results.items() if r.metrics is not None}
    if len(results) > 1 and labelled:
        metrics["activities"] = {a: r.metrics for a, r in labelled.items()}
    from asot.training.chosen import chosen_settings

    metrics["chosen"] = chosen_settings(results, groups)  # also added to config.json below
    base_preds: dict[str, np.ndarray] | None = None
    base_metrics = None
    found: dict[str, dict[str, np.ndarray]] = {}
    if baseline and labelled:  # training-free baselines, scored against the labels: only where there are some
        from asot.training.baselines import advice, score_baselines

        metrics["baselines"], found = score_baselines(groups, labelled, p, kmeans=kmeans)
        base_preds, base_metrics = found["k-means + argmax"], metrics["baselines"]["k-means + argmax"]
        metrics["baseline"] = {"method": "k-means + argmax (input features)", **base_metrics}
        tip = advice(metrics["full"], metrics["baselines"])
        if tip is not None:
            metrics["advice"] = tip
    if videos.unlabelled:
        metrics["unlabelled"] = unlabelled_summary(videos)
    all_preds = {n: lab for r in results.values() for n, lab in r.predictions.items()}
    if out_path is not None and resumed is not None:  # training finished: a changed epoch count is noted
        from asot.training.resume import record_epochs

        record_epochs(out_path, p.epochs)
    if out_path is not None:
        write_predictions(out_path / "predictions", all_preds)
        write_segments(out_path, all_preds, {n: c for r in results.values() for n, c in r.confidence.items()}, timings)
        n_figures = N_FIGURE_VIDEOS if figures is True else int(figures)
        if n_figures > 0:
            write_figures(out_path / "figures", results, base_preds, p.exclude_labels, n_videos=n_figures,
                          names=_class_names(videos))  # fmt: skip
        if resumed is None:  # a resumed run never rewrites config.json (the first run recorded its choices)
            write_json(out_path / "config.json", {**json.loads((out_path / "config.json").read_text()), "chosen": metrics["chosen"]})
        write_json(out_path / "metrics.json", metrics)  # last: marks a complete run
        if report:
            _write_report(out_path, found if baseline else {},
                          {n: a for a, r in results.items() for n in r.predictions})  # fmt: skip
    return RunResult(metrics, results, p, base_metrics, out_path, time.perf_counter() - t0, all_preds)


@training_threads()  # one torch / OpenMP thread (see asot.training.threads)
def train(
    data: str | Path,
    dataset: str,
    out: str | Path | None = None,
    *,
    preset: str | Preset | None = None,
    overrides: Mapping[str, Any] | None = None,
    activities: Sequence[str] | None = None,
    run: RunOptions | None = None,
    trainer: TrainerOptions | None = None,
    videos: VideoCollection | None = None,
    **keywords: Any,
) -> RunResult:
    """Train ASOT on ``data/dataset`` (one model per activity) and write the run folder ``out``.

    Args:
        data, dataset: ``ROOT`` and the dataset folder name (standard layout, spec section 6).
        out: the run folder (``None``: nothing written, no checkpoints, no logger).
        preset: preset name or :class:`~asot.presets.Preset` (default ``"default"``).
        overrides: ``{preset field: value}`` applied to it (``n_clusters``, ``epochs``, ``seed``,
            ``train_solver``, ``eval_solver``, ``rho``, ``lr``, ...).
        activities: train on these activities only (default: all).
        run: :class:`~asot.training.options.RunOptions` -- ``resume`` (continue every activity
            from ``out/checkpoints/<activity>/last.ckpt`` with the settings of the run's
            ``config.json``; a setting given that contradicts them is an error naming it),
            ``overwrite`` (replace a finished or checkpointed run: the new run is built in
            ``out/.asot-new`` and swapped in when complete; without it, and without ``resume``,
            such a folder is an error), ``keep_checkpoints`` (epoch checkpoints kept besides
            ``last.ckpt``; -1: all), ``baseline`` (also score the training-free baselines of
            :mod:`asot.training.baselines` under ``"baselines"``, k-means + argmax also under
            ``"baseline"``, and under ``"advice"`` one line when one beats the model),
            ``figures`` (write ``out/figures``; an integer: that many videos per activity, 0:
            none), ``report`` (write ``out/report.html``), ``fps`` (frames per second for the
            seconds columns of ``out/segments.csv`` / ``.json``; default: each video's sidecar
            ``features/<video>.json``, else no seconds), ``restarts`` (train that many seeds of
            each activity and keep the model whose segmentation agrees most with the others';
            :mod:`asot.training.restarts`).
        trainer: :class:`~asot.training.options.TrainerOptions` -- ``accelerator``, ``devices``,
            ``strategy``, ``num_nodes``, ``progress``, ``trainer_kwargs``: passed to Lightning.
        videos: already loaded videos (skips reading ``data``).
        **keywords: the earlier flat keywords, still accepted: ``n_clusters``, ``epochs``,
            ``seed``, ``train_solver``, ``eval_solver`` (into ``overrides``); ``resume``,
            ``overwrite``, ``keep_checkpoints``, ``baseline``, ``figures``, ``report``, ``fps``,
            ``restarts`` (into ``run``); ``accelerator``, ``devices``, ``strategy``, ``num_nodes``,
            ``progress``, ``trainer_kwargs`` (into ``trainer``).

    Returns:
        :class:`RunResult`; ``metrics`` is the ``metrics.json`` content (percent). On the other
        ranks of a distributed run (``strategy="ddp"``) it is empty with ``is_global_zero=False``:
        they train, and global rank 0 evaluates every video and writes the run folder.

    Raises:
        PipelineError: missing data folder, unknown preset, K < 1, unknown activity / no videos,
            a finished run in ``out`` without ``overwrite``, the run folder in use by another run,
            a preset field given both as a keyword and in ``overrides``.
        TypeError: an unknown keyword.
        TrainingInterrupted: Ctrl-C (a ``KeyboardInterrupt``).
    """
    try:
        changes, run, trainer = split_keywords(overrides, run, trainer, keywords)
    except ValueError as err:
        raise PipelineError(str(err)) from None
    explicit = {key: changes.pop(key, None) for key in PRESET_KEYWORDS}
    return _train_run(data, dataset, out, activities=activities, preset=preset, overrides=changes or None, videos=videos,
                      **explicit, **{k: getattr(run, k) for k in RUN_KEYWORDS},
                      **{k: getattr(trainer, k) for k in TRAINER_KEYWORDS})  # fmt: skip


# ------------------------------------------------------------------------------------------
# predict


def _checkpoints(checkpoint: str | Path) -> list[Path]:
    path = Path(checkpoint)
    if not path.exists():
        raise PipelineError(f"checkpoint {path} does not exist")
    if path.is_file():
        return [path]
    found = sorted(path.glob("checkpoints/*/last.ckpt")) or sorted(path.glob("*/last.ckpt")) or sorted(path.glob("last.ckpt"))
    if not found:
        raise PipelineError(f"no checkpoints (*/last.ckpt) under {path}")
    return found


def load_module(checkpoint: str | Path) -> Any:
    """An :class:`~asot.models.ASOTModule` from a checkpoint file, on the CPU, in eval mode."""
    from asot.models.lit_module import ASOTModule

    try:
        module = ASOTModule.load_from_checkpoint(str(checkpoint), map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file is a user error, named below
        raise PipelineError(f"{checkpoint}: not a readable asot checkpoint ({type(err).__name__}: {err})", usage=False) from None
    return module.eval()


def _check_prediction_folder(out_dir: Path, videos: VideoCollection, overwrite: bool) -> None:
    """Nothing of the dataset, and nothing else without ``overwrite``, is replaced by predictions."""
    from asot.data.dataset import FEATURES_DIR, GROUND_TRUTH_DIR, MAPPING_DIR
    from asot.io.outputs import OutputConflict, check_outside, check_targets

    try:
        if videos.path is not None:
            check_outside(out_dir, {f"the dataset's {name} folder": videos.path / name for name in (FEATURES_DIR, GROUND_TRUTH_DIR, MAPPING_DIR)})
        from asot.io.segments import foreign_tables

        check_targets([out_dir / v.name for v in videos] + foreign_tables(out_dir),
                      inputs=[v.path for v in videos if v.path is not None], overwrite=overwrite)  # fmt: skip
    except OutputConflict as err:
        raise PipelineError(str(err)) from None


@training_threads()
def predict(checkpoint: str | Path, data: str | Path, dataset: str, out: str | Path | None = None, *,
            activities: Sequence[str] | None = None, overwrite: bool = False,
            device: Any = "cpu", fps: float | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Segment the videos of ``data/dataset`` with trained checkpoint(s).

    ``checkpoint``: a ``.ckpt`` file or a run folder (every ``checkpoints/<activity>/last.ckpt``).
    Each model segments the videos of its activity (a single model segments every video when
    the dataset has no video of its activity). Labels are not needed. Writes
    ``out/<video>`` (cluster ids, groundTruth format) when ``out`` is given: each file atomically;
    other files in ``out`` are left alone. An existing ``out/<video>`` is an error unless
    ``overwrite``; ``out`` may never be (inside) the dataset's own ``features/``,
    ``groundTruth/`` or ``mapping/`` folder. ``device``: the torch device
    the models run on. With ``out``, also ``out/segments.csv`` and ``out/segments.json`` (one
    row per segment, :mod:`asot.io.segments`; seconds from ``fps``, else each video's sidecar
    ``features/<video>.json``, else empty).
    """
    import torch

    from asot.ot.problem import resolve_device

    try:
        target = resolve_device(device)
    except ValueError as err:
        raise PipelineError(str(err)) from None
    out_dir = None if out is None else Path(out)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise PipelineError(f"{out_dir}: the output path exists and is not a folder")
    modules = [load_module(c).to(target) for c in _checkpoints(checkpoint)]
    first = Preset.from_dict(modules[0].hparams.extra["preset"])
    videos = load_videos(data, dataset, first, activities, labels=False)
    if out_dir is not None:
        _check_prediction_folder(out_dir, videos, overwrite)
    by_act = videos.by_activity()
    timings = frame_timings(videos, fps)
    preds: dict[str, np.ndarray] = {}
    confidence: dict[str, np.ndarray] = {}
    for module in modules:
        act = module.hparams.extra.get("activity")
        pr = Preset.from_dict(module.hparams.extra["preset"])
        if pr.standardise != first.standardise:
            raise PipelineError("checkpoints disagree on feature standardisation; predict them separately")
        vids = by_act.get(act) if act in by_act else (list(videos) if len(modules) == 1 else None)
        for v in vids or []:
            if v.dim != module.encoder.input_dim:
                raise PipelineError(f"video {v.name}: {v.dim}-d features, the checkpoint expects {module.encoder.input_dim}-d", usage=False)
            # radius="auto": measured on the whole video with the trained model, as in training's test
            labels, conf = module.segment(torch.from_numpy(v.features)[None].to(target), return_confidence=True)
            preds[v.name], confidence[v.name] = labels[0].cpu().numpy(), conf[0]
    trained = [m.hparams.extra.get("activity") for m in modules]
    if not preds:
        raise PipelineError(f"no video of the checkpoints' activities {trained} in {dataset}")
    uncovered = sorted(a for a in by_act if a not in trained)
    if uncovered and len(modules) == 1 and trained[0] not in by_act:
        warnings.warn(f"no checkpoint for activity {', '.join(map(repr, uncovered))}: its videos were segmented with the "
                      f"model of activity {trained[0]!r}", PipelineWarning, stacklevel=2)
    elif uncovered:
        skipped = sum(len(by_act[a]) for a in uncovered)
        warnings.warn(f"no checkpoint for activity {', '.join(map(repr, uncovered))}: {skipped} video(s) not segmented",
                      PipelineWarning, stacklevel=2)
    if out_dir is not None:  # one file per video, each written atomically; other files in the folder stay
        for name, labels in preds.items():
            write_label_file(out_dir / name, np.asarray(labels))
        write_segments(out_dir, preds, confidence, timings, merge=True)
    return preds

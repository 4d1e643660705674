"""``asot train``: learn ASOT on a dataset in the standard layout and write a run folder.

Thin wrapper over :func:`asot.training.train` (see its docstring for the run folder).
User errors (missing data, unknown preset, K < 1, an activity without videos) print one
``Error: ...`` line and exit with code 2.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer

from asot.cli._device import DEVICES_HELP, TRAIN_DEVICE_HELP, trainer_devices
from asot.cli._solver_options import solver_options
from asot.cli.errors import FAILURE, USAGE, describe, fail, interrupted, usage_error as user_error, warn
from asot.ot.config import SolverConfig

__all__ = ["train", "quiet_lightning", "shown_warnings", "user_error"]


@contextmanager
def shown_warnings() -> Iterator[None]:
    """Inside the block, print each of the pipeline's warnings
    (:class:`~asot.training.pipeline.PipelineWarning`) as one ``Warning: ...`` line when it is
    raised; other warnings are shown as Python shows them. Nothing is recorded (a training run
    raises library warnings by the thousand)."""
    from asot.training.pipeline import PipelineWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", PipelineWarning)
        python_show = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
            if issubclass(category, PipelineWarning):
                warn(str(message))
            else:
                python_show(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def quiet_lightning() -> None:
    """Silence Lightning's informational banners (GPU available, tips); warnings stay."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)


def compile_kernel_early(device: str) -> None:
    """Start compiling the fused CPU kernel now (a daemon thread,
    :func:`asot.ot.kernel_backend.compile_in_background`) when training may run on the CPU, so
    that a cold numba cache costs the first solve less: the compilation overlaps with the
    imports, the loading and the k-means that come before it."""
    if device.strip().lower() in ("cpu", "auto"):
        from asot.ot.kernel_backend import compile_in_background

        compile_in_background()


def _base(which: str):  # type: ignore[no-untyped-def]
    """The chosen preset's solver config as the base of the --train-*/--eval-* flags; with
    --resume the run's own (config.json), so that only flags given again can contradict it
    (an unknown preset falls back to the defaults; the command itself reports it)."""

    def base(**kwargs: Any) -> SolverConfig:
        from asot.presets import Preset, get_preset

        try:
            if kwargs.get("resume") and kwargs.get("out") is not None:
                from asot.training.resume import run_config

                config = run_config(Path(kwargs["out"]))
                if config is not None:
                    return getattr(Preset.from_dict(config["preset"]), f"{which}_solver")
            return getattr(get_preset(kwargs.get("preset") or "default"), f"{which}_solver")
        except (TypeError, ValueError):
            return SolverConfig()

    return base


def _interrupted(err: KeyboardInterrupt, out: Path) -> str:
    """What an interrupt left, in the command line's words."""
    activity = getattr(err, "activity", None)
    what = f"training of activity {activity!r} stopped" if activity else "training stopped"
    if getattr(err, "discarded", False):
        return f"{what}; the new run was discarded and the previous run in {out} is unchanged"
    checkpoint = getattr(err, "checkpoint", None)
    if checkpoint is not None:
        return f"{what}; the last completed epoch is kept in {checkpoint} (continue with --resume)"
    return f"{what} before the first epoch ended; nothing to resume"


@solver_options(base=_base("train"), prefix="train-", dest="train_config", panel="Training solver (pseudo-labels)")
@solver_options(base=_base("eval"), prefix="eval-", dest="eval_config", panel="Evaluation solver (segmentation)")
def train(
    data: Path = typer.Option(..., "--data", help="ROOT folder: ROOT/<dataset>/ holds features/ (and groundTruth/, mapping/ when labelled)"),
    dataset: str = typer.Option(..., "--dataset", help="dataset folder name (Breakfast, YTI, FS, desktop_assembly, ...)"),
    out: Path = typer.Option(..., "--out", help="run folder (config, checkpoints, metrics.json, predictions/, figures/)"),
    activity: Optional[list[str]] = typer.Option(None, "--activity", help="train on this activity only (repeatable); default: all"),
    preset: Optional[str] = typer.Option(None, "--preset", help="hyperparameter preset: breakfast, yti, 50salads-eval, 50salads-mid, desktop-assembly, default (default: default; with --resume the run's)"),
    n_clusters: Optional[int] = typer.Option(None, "--n-clusters", help="number of actions K (default: the preset's, else the classes in the labels; needed for unlabelled data)"),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="training epochs (default: the preset's)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="random seed (default: the preset's)"),
    restarts: int = typer.Option(1, "--restarts", help="train R seeds (--seed, --seed + 1, ...) of each activity and keep the model whose segmentation agrees most with the others' (no labels read)"),
    rho: Optional[str] = typer.Option(None, "--rho", help="temporal-prior weight (>= 0; 0 = no prior; a number fixes it), or 'auto': the preset's rho unless actions recur in the videos, then 0 (default: the preset's; the default preset uses auto)"),
    prior_centred: Optional[bool] = typer.Option(None, "--prior-centred/--prior-paper", help="temporal prior |(i+1/2)/N - (j+1/2)/K| (centres of the K equal parts) or the paper's |i/N - j/K| (default: the preset's; the default preset is centred, the paper presets are the paper's)"),
    min_run_radii: Optional[float] = typer.Option(None, "--min-run-radii", help="merge runs shorter than this many structure radii (round(c r N) frames) of the final segmentation into the neighbour that costs them less; 0 = the solver's labels as they are (default: the preset's; the default preset 0.5, the paper presets 0)", show_default=False),
    kmeans_init: Optional[bool] = typer.Option(None, "--kmeans-init/--no-kmeans-init", help="initialise the action embeddings with k-means (default: the preset's; --no-kmeans-init is the 'No k-means' ablation)"),
    resume: bool = typer.Option(False, "--resume", help="continue each activity from its last.ckpt in RUN/checkpoints, with the run's settings (RUN/config.json)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace a finished run in RUN (kept until the new run has finished)"),
    keep_checkpoints: int = typer.Option(3, "--keep-checkpoints", min=-1, help="epoch checkpoints kept besides last.ckpt (written every epoch); -1: all"),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="also score the training-free baselines (k-means + argmax, k-means + ASOT, equal split)"),
    figures: int = typer.Option(3, "--figures", min=0, help="videos per activity drawn in RUN/figures (0: no figures)"),
    no_figures: bool = typer.Option(False, "--no-figures", help="no RUN/figures (same as --figures 0)"),
    no_report: bool = typer.Option(False, "--no-report", help="do not write RUN/report.html (see asot report)"),
    device: str = typer.Option("cpu", "--device", "--accelerator", help=TRAIN_DEVICE_HELP),
    devices: Optional[str] = typer.Option(None, "--devices", help=DEVICES_HELP, show_default=False),
    strategy: str = typer.Option("auto", "--strategy", help="Lightning strategy, e.g. ddp for several GPUs / nodes"),
    num_nodes: int = typer.Option(1, "--num-nodes", help="nodes for multi-node (DDP) training"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show progress bars"),
    fps: Optional[float] = typer.Option(None, "--fps", help="frames per second for the seconds in segments.csv (default: the sidecar .json beside each video's features, else none)", show_default=False),
    train_config: SolverConfig = None,  # type: ignore[assignment]
    eval_config: SolverConfig = None,  # type: ignore[assignment]
) -> None:
    """Train ASOT (one model per activity) and write the run folder RUN."""
    compile_kernel_early(device)
    from asot.training.pipeline import PipelineError, train as run_train

    quiet_lightning()
    accelerator, chosen = trainer_devices(device, devices)
    if n_clusters is not None and n_clusters < 1:
        user_error(f"--n-clusters must be >= 1, got {n_clusters}")
    if restarts < 1:
        user_error(f"--restarts must be >= 1, got {restarts}")
    if fps is not None and not fps > 0:
        user_error(f"--fps must be > 0, got {fps}")
    if epochs is not None and epochs < 1:
        user_error(f"--epochs must be >= 1, got {epochs}")
    if min_run_radii is not None and not 0 <= min_run_radii < float("inf"):
        user_error(f"--min-run-radii must be a number >= 0, got {min_run_radii}")
    if not data.exists():
        user_error(f"data folder {data} does not exist")
    overrides: dict[str, Any] = {}
    if rho is not None:
        if rho.strip().lower() == "auto":
            overrides["rho_auto"] = True
        else:
            try:
                value = float(rho)
            except ValueError:
                user_error(f"--rho must be a number >= 0 or 'auto', got {rho!r}")
            if not value >= 0 or value == float("inf"):
                user_error(f"--rho must be a number >= 0 or 'auto', got {rho!r}")
            overrides["rho"] = value
            overrides["rho_auto"] = False  # a number fixes the prior (the default preset would choose it)
    if kmeans_init is not None:
        overrides["kmeans_init"] = kmeans_init
    if prior_centred is not None:
        overrides["prior_centred"] = prior_centred
    if min_run_radii is not None:
        overrides["min_run_radii"] = float(min_run_radii)
    try:
        with shown_warnings():
            result = run_train(
                data, dataset, out, activities=activity or None, preset=preset, n_clusters=n_clusters, epochs=epochs,
                seed=seed, train_solver=train_config, eval_solver=eval_config, overrides=overrides or None, resume=resume,
                overwrite=overwrite, keep_checkpoints=keep_checkpoints, baseline=baseline,
                figures=0 if no_figures else figures, report=not no_report, accelerator=accelerator, devices=chosen,
                strategy=strategy, num_nodes=num_nodes, progress=progress, fps=fps, restarts=restarts,
            )  # fmt: skip
    except PipelineError as err:
        fail(str(err), USAGE if err.usage else FAILURE)
    except OSError as err:  # a full disk, a folder that cannot be written: named, one line
        from asot.io.atomic import naming_path

        fail(describe(naming_path(err, out)))
    except KeyboardInterrupt as err:
        interrupted(_interrupted(err, out))
    if not result.is_global_zero:
        return  # another rank of a distributed run: rank 0 prints and writes
    if "full" not in result.metrics:  # no labels: the warning above said that metrics are skipped
        typer.echo(f"{len(result.predictions)} videos segmented  ->  {out / 'predictions'}")
        if not no_report and (out / "report.html").is_file():
            typer.echo(f"report: {out / 'report.html'}")
        return
    full = result.metrics["full"]
    typer.echo(f"full matching: MoF {full['mof']:.1f}  F1 {full['f1']:.1f}  mIoU {full['miou']:.1f}  ->  {out / 'metrics.json'}")
    from asot.training.chosen import summary_lines

    for line in summary_lines(result.metrics.get("chosen") or {}):
        typer.echo(line)
    rows = {"ASOT (trained)": result.metrics}
    rows.update(result.metrics.get("baselines") or {})
    if len(rows) > 1:
        typer.echo(f"{'method':<18}{'MoF':>7}{'F1':>7}{'mIoU':>7}{'MoF/video':>11}")
        for name, m in rows.items():
            f, v = m["full"], m["per_video"]
            typer.echo(f"{name:<18}{f['mof']:>7.1f}{f['f1']:>7.1f}{f['miou']:>7.1f}{v['mof']:>11.1f}")
    if result.metrics.get("advice"):
        typer.secho(result.metrics["advice"], fg=typer.colors.YELLOW)
    if not no_report and (out / "report.html").is_file():
        typer.echo(f"report: {out / 'report.html'}")

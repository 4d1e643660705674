"""``asot predict``: segment videos with a trained checkpoint (or a run folder).

Thin wrapper over :func:`asot.training.predict`; writes ``DIR/<video>`` label files (cluster
ids, groundTruth format). User errors print one ``Error: ...`` line and exit with code 2.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import typer

from asot.cli._device import DEVICE_HELP
from asot.cli.errors import FAILURE, USAGE, describe, fail, usage_error as user_error, warn
from asot.cli.train import quiet_lightning

__all__ = ["predict"]


def predict(
    videos: Optional[list[Path]] = typer.Argument(None, help="video files or folders, with a run folder of asot video as --checkpoint (instead of --data/--dataset)"),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="a .ckpt file, or a run folder (uses RUN/checkpoints/<activity>/last.ckpt)"),
    data: Optional[Path] = typer.Option(None, "--data", help="ROOT folder holding ROOT/<dataset>/features"),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="dataset folder name"),
    out: Path = typer.Option(..., "--out", help="output folder for the label files"),
    activity: Optional[list[str]] = typer.Option(None, "--activity", help="only these activities (repeatable)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace label files that exist in the output folder"),
    device: str = typer.Option("cpu", "--device", help=DEVICE_HELP, show_default=False),
    no_report: bool = typer.Option(False, "--no-report", help="do not write OUT/report.html (see asot report)"),
    fps: Optional[float] = typer.Option(None, "--fps", help="frames per second for the seconds in segments.csv (default: the sidecar .json beside each video's features, else none)", show_default=False),
) -> None:
    """Segment every video of ROOT/<dataset> with trained models (or VIDEOS with an asot video run)."""
    from asot.training.pipeline import PipelineError, PipelineWarning, predict as run_predict

    quiet_lightning()
    if fps is not None and not fps > 0:
        user_error(f"--fps must be > 0, got {fps}")
    if videos:
        if data is not None or dataset is not None:
            user_error("give either videos (with an asot video run as --checkpoint) or --data and --dataset, not both")
        from asot.cli.video import predict_on_videos

        return predict_on_videos(checkpoint, videos, out, overwrite=overwrite)
    if data is None or dataset is None:
        user_error("--data and --dataset are required (or video files with an asot video run as --checkpoint)")
    if not data.exists():
        user_error(f"data folder {data} does not exist")
    if (checkpoint / "video.json").is_file():  # a run of asot video: its model is in RUN/model
        checkpoint = checkpoint / "model"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PipelineWarning)
            preds = run_predict(checkpoint, data, dataset, out, activities=activity or None, overwrite=overwrite,
                                device=device, fps=fps)
    except PipelineError as err:
        fail(str(err), USAGE if err.usage else FAILURE)
    except OSError as err:  # a full disk, an unwritable folder: named, one line
        from asot.io.atomic import naming_path

        fail(describe(naming_path(err, out)))
    for warning in caught:
        if issubclass(warning.category, PipelineWarning):
            warn(str(warning.message))
        else:  # not ours: shown as Python would have shown it
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    typer.echo(f"{len(preds)} videos segmented -> {out}")
    if not no_report:
        from asot.cli.report import report_or_warn

        report_or_warn(out, data=data / dataset)

"""``asot features``: videos -> frame features in the standard layout (``OUT/features/``).

Thin wrapper over :func:`asot.video.extract_features`. Errors print one ``Error: ...`` line
(exit 2: a bad option or input path; 1: the backbone cannot be loaded); videos that failed are
listed by name and the exit code is 1; Ctrl-C keeps the finished videos (exit code 130: run
the command again to finish the rest).
"""

from __future__ import annotations

from pathlib import Path

import typer

from asot.cli.errors import FAILURE, interrupted, reporting, usage_error
from asot.cli.train import quiet_lightning
from asot.video.defaults import BACKBONES, DEFAULT_BACKBONE, DEFAULT_FPS, DEFAULT_IMAGE_SIZE

__all__ = ["features", "report_extraction"]


def report_extraction(report) -> None:  # type: ignore[no-untyped-def]
    """Print what extraction did; failed videos one line each on stderr."""
    typer.echo(f"{len(report.done)} videos extracted, {len(report.skipped)} already done, {len(report.failed)} failed "
               f"-> {report.features_dir}")  # fmt: skip
    for name, reason in report.failed.items():
        typer.secho(f"Failed: {name}: {reason}", err=True, fg=typer.colors.RED)


def features(
    inputs: list[Path] = typer.Argument(..., help="video files, or folders searched for .mp4/.avi/.mov/.mkv/.webm"),
    out: Path = typer.Option(..., "--out", help="dataset folder ROOT/<dataset>: writes features/<video>.npy and its .json sidecar there"),
    backbone: str = typer.Option(DEFAULT_BACKBONE, "--backbone", help=f"image backbone: {', '.join(BACKBONES)}, a Hugging Face model id, or random:<arch> (random weights)"),
    fps: float = typer.Option(DEFAULT_FPS, "--fps", help="frames kept per second of video (at most the video's own rate)"),
    image_size: int = typer.Option(DEFAULT_IMAGE_SIZE, "--image-size", help="frames are resized to this many pixels square before embedding"),
    batch_size: int = typer.Option(64, "--batch-size", help="frames per forward pass"),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:<index>"),
    devices: int = typer.Option(1, "--devices", help="number of devices (several GPUs: one process each, Lightning DDP)"),
    workers: int = typer.Option(2, "--workers", help="decoding processes (DataLoader workers); 0 decodes in the main process"),
    seed: int = typer.Option(0, "--seed", help="seed of random:<arch> weights"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bars (overall and per video)"),
) -> None:
    """Embed the frames of every video with an image backbone (resumable: finished videos are skipped)."""
    from asot.video.backbone import BackboneError
    from asot.video.extract import FeatureConfig, FeatureExtractionError, extract_features

    quiet_lightning()
    if devices < 1:
        usage_error(f"--devices must be >= 1, got {devices}")
    try:
        with reporting(usage=(FeatureExtractionError, BackboneError)):
            config = FeatureConfig(backbone=backbone, fps=fps, image_size=image_size, batch_size=batch_size, seed=seed)
            report = extract_features(inputs, out, config, device=device, devices=devices, workers=workers, progress=progress)
    except KeyboardInterrupt as err:
        interrupted(str(err) or "finished videos are kept; run the same command again to finish the rest")
    if not report.is_global_zero:
        return  # another process of a multi-device run: the first one reports
    report_extraction(report)
    if report.failed:
        raise typer.Exit(FAILURE)

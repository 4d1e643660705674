"""``asot video``: a folder of videos in, timed segments out (features + unsupervised training).

Thin wrapper over :func:`asot.video.pipeline.train_on_videos`. Errors print one ``Error: ...``
line (exit 2: a bad option or path; 1: the backbone cannot be loaded or no video decodes);
videos that could not be decoded are listed by name, the others are segmented, and the exit
code is 1; Ctrl-C exits with 130 (run again: finished features are reused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from asot.cli.errors import FAILURE, interrupted, reporting, usage_error
from asot.cli.train import quiet_lightning
from asot.video.defaults import BACKBONES, DEFAULT_BACKBONE, DEFAULT_FPS, DEFAULT_IMAGE_SIZE

__all__ = ["predict_on_videos", "video"]


def video(
    inputs: list[Path] = typer.Argument(..., help="video files, or folders searched for .mp4/.avi/.mov/.mkv/.webm"),
    n_actions: int = typer.Option(..., "--n-actions", help="number of actions K to find (the same K for every video)"),
    out: Path = typer.Option(..., "--out", help="run folder: segments.csv/.json, figures/, model/, data/videos/features/"),
    backbone: str = typer.Option(DEFAULT_BACKBONE, "--backbone", help=f"image backbone: {', '.join(BACKBONES)}, a Hugging Face model id, or random:<arch>"),
    fps: float = typer.Option(DEFAULT_FPS, "--fps", help="frames kept per second of video"),
    image_size: int = typer.Option(DEFAULT_IMAGE_SIZE, "--image-size", help="frames are resized to this many pixels square"),
    batch_size: int = typer.Option(64, "--batch-size", help="frames per forward pass of the backbone"),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="training epochs (default: the default preset's)"),
    seed: int = typer.Option(0, "--seed", help="seed of training and of random:<arch> weights"),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:<index>"),
    devices: int = typer.Option(1, "--devices", help="devices for feature extraction (several GPUs: Lightning DDP)"),
    workers: int = typer.Option(2, "--workers", help="decoding processes (DataLoader workers)"),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="write figures/<video>.png"),
    overwrite: bool = typer.Option(False, "--overwrite", help="retrain a run folder that holds a finished model (its features are reused)"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bars"),
) -> None:
    """Find N_ACTIONS actions in a collection of videos without labels; writes OUT/segments.csv."""
    from asot.cli.features import report_extraction
    from asot.training.pipeline import PipelineError
    from asot.video.backbone import BackboneError
    from asot.video.extract import FeatureConfig, FeatureExtractionError
    from asot.video.pipeline import VideoRunError, train_on_videos

    quiet_lightning()
    if n_actions < 1:
        usage_error(f"--n-actions must be >= 1, got {n_actions}")
    if epochs is not None and epochs < 1:
        usage_error(f"--epochs must be >= 1, got {epochs}")
    try:
        with reporting(usage=(FeatureExtractionError, BackboneError, VideoRunError, PipelineError)):
            config = FeatureConfig(backbone=backbone, fps=fps, image_size=image_size, batch_size=batch_size, seed=seed)
            result = train_on_videos(inputs, out, n_actions, features=config, epochs=epochs, seed=seed, device=device,
                                     devices=devices, workers=workers, progress=progress, figures=figures,
                                     overwrite=overwrite)  # fmt: skip
    except KeyboardInterrupt as err:
        interrupted(f"{err or 'stopped'}; finished features are kept (run the same command again)")
    if not result.is_global_zero:
        return  # another process of a multi-device extraction: the first one trains and reports
    report_extraction(result.extraction)
    n_segments = len(result.segments)
    typer.echo(f"{len(result.predictions)} videos segmented into {n_segments} segments -> {out / 'segments.csv'}")
    if (out / "report.html").is_file():
        typer.echo(f"report: {out / 'report.html'}")
    if result.extraction.failed:
        raise typer.Exit(FAILURE)


def predict_on_videos(run: Path, inputs: list[Path], out: Path, *, overwrite: bool = False) -> None:
    """``asot predict --checkpoint RUN VIDEO... --out DIR``: new videos segmented with an asot video run."""
    from asot.cli.features import report_extraction
    from asot.training.pipeline import PipelineError
    from asot.video.backbone import BackboneError
    from asot.video.extract import FeatureExtractionError
    from asot.video.pipeline import VideoRunError, predict_videos

    try:
        with reporting(usage=(FeatureExtractionError, BackboneError, VideoRunError, PipelineError)):
            result = predict_videos(run, inputs, out, overwrite=overwrite, progress=False)
    except KeyboardInterrupt:
        interrupted("finished features are kept (run the same command again)")
    report_extraction(result.extraction)
    typer.echo(f"{len(result.predictions)} videos segmented into {len(result.segments)} segments -> {out / 'segments.csv'}")
    if result.extraction.failed:
        raise typer.Exit(FAILURE)

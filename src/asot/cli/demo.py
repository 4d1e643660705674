"""``asot demo``: ASOT vs k-means and the "No GW" / "Balanced OT" ablations on the built-in
synthetic data (40-60 s on a 2-core CPU). Thin wrapper over :func:`asot.training.demo.run_demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from asot.cli._device import DEVICES_HELP, TRAIN_DEVICE_HELP, trainer_devices
from asot.cli.errors import FAILURE, USAGE, describe, fail, usage_error as user_error
from asot.cli.train import quiet_lightning

__all__ = ["demo"]


def demo(
    out: Path = typer.Option(Path("asot-demo"), "--out", help="run folder (ASOT run + summary.json with the table)"),
    data: Optional[Path] = typer.Option(None, "--data", help="folder for the synthetic dataset (default: the user cache, ~/.cache/asot)"),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="training epochs (default: the preset's)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="random seed"),
    tiny: bool = typer.Option(False, "--tiny", help="the tiny synthetic dataset (seconds; for smoke tests)"),
    ablations: bool = typer.Option(True, "--ablations/--no-ablations", help="also train the No GW and Balanced OT ablations"),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="show progress bars"),
    device: str = typer.Option("cpu", "--device", "--accelerator", help=TRAIN_DEVICE_HELP),
    devices: Optional[str] = typer.Option(None, "--devices", help=DEVICES_HELP, show_default=False),
) -> None:
    """Train and compare ASOT, k-means + argmax, No GW and Balanced OT on synthetic data."""
    from asot.data.synthetic import DEMO, TINY
    from asot.training.demo import run_demo
    from asot.training.pipeline import PipelineError

    quiet_lightning()
    accelerator, chosen = trainer_devices(device, devices)
    if epochs is not None and epochs < 1:
        user_error(f"--epochs must be >= 1, got {epochs}")
    try:
        run_demo(out, data=data, synthetic=TINY if tiny else DEMO, epochs=epochs, seed=seed, ablations=ablations,
                 progress=progress, echo=typer.echo, accelerator=accelerator, devices=chosen)  # fmt: skip
    except PipelineError as err:
        fail(str(err), USAGE if err.usage else FAILURE)
    except OSError as err:  # a full disk, an unwritable folder: named, one line
        from asot.io.atomic import naming_path

        fail(describe(naming_path(err, out)))
    typer.echo(f"run folder: {out} (summary.json, metrics.json, predictions/, figures/)")

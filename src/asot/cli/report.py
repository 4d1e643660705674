"""``asot report``: one self-contained HTML page for a run folder or a folder of predictions.

Thin wrapper over :func:`asot.report.write_report` (see :mod:`asot.report.collect` for what
is read). User errors print one ``Error: ...`` line and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from asot.cli.errors import FAILURE, USAGE, fail, usage_error, warn

__all__ = ["report", "report_or_warn"]


def report(
    source: Path = typer.Argument(..., help="a run folder (asot train) or a folder of <video> label files (asot predict / segment)", show_default=False),
    gt: Optional[Path] = typer.Option(None, "--gt", help="ground-truth folder (default for a run: the dataset's groundTruth/)"),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="'<id> <name>' mapping file: class names (default for a run: the dataset's)"),
    out: Optional[Path] = typer.Option(None, "--out", help="the HTML file to write (default: SOURCE/report.html)"),
    fps: Optional[float] = typer.Option(None, "--fps", help="frames per second, to show times in seconds (default: from features/<video>.json or segments.csv when present)"),
    thumbnails: bool = typer.Option(True, "--thumbnails/--no-thumbnails", help="a frame per segment for videos whose source file can be decoded (needs PyAV)"),
) -> None:
    """Write one self-contained HTML report (timelines, metrics, settings, loss curves)."""
    from asot.report import ReportError, write_report

    if fps is not None and not fps > 0:
        usage_error(f"--fps must be > 0, got {fps}")
    try:
        path = write_report(source, out, gt=gt, mapping=mapping, fps=fps, thumbnails=thumbnails)
    except ReportError as err:
        fail(str(err), USAGE if err.usage else FAILURE)
    except OSError as err:
        fail(f"{err.filename or out}: {err.strerror or err}")
    typer.echo(f"report -> {path}")


def report_or_warn(source: Path, **kwargs: object) -> Path | None:
    """Write ``source/report.html`` after another command (predict, segment, video) and print
    where; a report that cannot be written is a one-line warning (that command's outputs are
    complete). ``kwargs`` go to :func:`asot.report.write_report`."""
    from asot.report import ReportError, write_report

    try:
        path = write_report(source, **kwargs)  # type: ignore[arg-type]
    except (ReportError, OSError) as err:
        warn(f"report not written: {err}")
        return None
    typer.echo(f"report: {path}", err=True)
    return path

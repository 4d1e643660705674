"""One self-contained HTML report per run or folder of predictions (``asot report``).

* :func:`write_report` -- read a run folder (``asot train``) or a prediction folder (``asot
  predict`` / ``asot segment``) and write ``report.html``: per-video timelines (ground truth,
  ASOT, baselines) with class names, a legend and hover details, the metrics tables, the
  settings used and chosen, the loss curves, optional thumbnails.
* :func:`collect` / :class:`ReportData` -- the data shown; :func:`render_html` -- the page.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from asot.report.collect import ReportData, ReportError, collect
from asot.report.html import GENERATOR_TAG, render_html, write_html

__all__ = ["REPORT_NAME", "ReportData", "ReportError", "collect", "is_report", "render_html", "write_report"]

#: file name of the report inside a run / prediction folder
REPORT_NAME = "report.html"


def write_report(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    gt: str | os.PathLike[str] | None = None,
    mapping: str | os.PathLike[str] | None = None,
    rows: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    activities: Mapping[str, str] | None = None,
    fps: float | None = None,
    exclude: Sequence[int] | None = None,
    thumbnails: bool = True,
    data: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the HTML report of ``source`` (a run folder or a folder of label files) to ``out``
    (default ``source/report.html``), atomically. Arguments as :func:`collect`; returns the path.

    Raises:
        ReportError: ``source`` is not a run or prediction folder, or its files cannot be read;
            ``out`` is a folder, or an existing file that is not an asot report (never replaced).
    """
    path = Path(out) if out is not None else Path(source) / REPORT_NAME
    if path.is_dir():
        raise ReportError(f"{path}: is a folder; give the report's file name (e.g. {path / REPORT_NAME})")
    if path.exists() and not is_report(path):
        raise ReportError(f"{path}: exists and is not an asot report; not replaced (give another --out)")
    report = collect(source, gt=gt, mapping=mapping, rows=rows, activities=activities, fps=fps, exclude=exclude,
                     thumbnails=thumbnails, data=data)  # fmt: skip
    return write_html(report, path)


def is_report(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file written by :func:`write_report` (its generator tag)."""
    try:
        with open(path, "rb") as fh:
            return GENERATOR_TAG.encode() in fh.read(4096)
    except OSError:
        return False

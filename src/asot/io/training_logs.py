"""Reading a run's training logs (Lightning's CSV logger, ``RUN/logs/<activity>/version_<n>/``)."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["read_loss_curve"]


def read_loss_curve(log_root: Path) -> list[tuple[int, float]]:
    """``[(epoch, loss)]`` from every ``log_root/version_<n>/metrics.csv`` (a resumed run adds
    a version; a later version's value for an epoch wins); epochs count from 0."""
    by_epoch: dict[int, float] = {}
    versions = sorted(Path(log_root).glob("version_*/metrics.csv"), key=lambda f: int(f.parent.name.split("_")[-1]))
    for metrics_csv in versions:
        with open(metrics_csv, newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("train/loss_epoch"):
                    by_epoch[int(row["epoch"])] = float(row["train/loss_epoch"])
    return sorted(by_epoch.items())

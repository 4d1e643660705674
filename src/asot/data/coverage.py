"""Which videos of a dataset have features but no ground truth (so training would skip them).

:func:`check_labelled` is the one place that decides what happens to such a video; today it is
an error naming the videos (a video silently left out of training and of the metrics is a
silently wrong result). A dangling ``groundTruth/<video>`` link counts as missing and is named.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from asot.data.dataset import (
    FEATURE_SUFFIXES,
    FEATURES_DIR,
    GROUND_TRUTH_DIR,
    DatasetError,
    VideoCollection,
    _is_ignored,
    parse_activity,
)

__all__ = ["check_labelled", "unlabelled_videos"]

_MAX_LISTED = 5


def unlabelled_videos(videos: VideoCollection, activities: Iterable[str] | None = None) -> dict[str, Path]:
    """``{video: feature file}`` for feature files of the selected activities with no video in
    ``videos`` (read with labels: every video there has a groundTruth file)."""
    if videos.path is None:
        return {}
    features = Path(videos.path) / FEATURES_DIR
    wanted = set(activities) if activities else set(videos.activities)
    have = {v.name for v in videos}
    found: dict[str, Path] = {}
    for path in sorted(features.rglob("*")):
        if path.suffix not in FEATURE_SUFFIXES or not path.is_file() or _is_ignored(path.name, videos.kind):
            continue
        name = path.stem
        if name in have or name in found:
            continue
        if videos.kind == "generic":
            activity = path.parent.name if path.parent != features else videos.name
        else:
            try:
                activity = parse_activity(name, videos.kind, videos.name)
            except (DatasetError, ValueError):
                continue
        if activity in wanted:
            found[name] = path
    return found


def check_labelled(videos: VideoCollection, activities: Iterable[str] | None = None) -> None:
    """Raise :class:`DatasetError` naming the videos that have features but no groundTruth file."""
    missing = unlabelled_videos(videos, activities)
    if not missing:
        return
    gt_dir = Path(videos.path or ".") / GROUND_TRUTH_DIR
    names = sorted(missing)
    shown = ", ".join(names[:_MAX_LISTED]) + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")
    broken = [gt_dir / n for n in names if (gt_dir / n).is_symlink()]
    link = f"; {broken[0]} is a broken link" if broken else ""
    raise DatasetError(f"{gt_dir}: no groundTruth file for {len(names)} video(s) with features: {shown} (e.g. "
                       f"{missing[names[0]]}){link}; add their label files, or move those features out of "
                       f"{Path(videos.path or '.') / FEATURES_DIR}")  # fmt: skip

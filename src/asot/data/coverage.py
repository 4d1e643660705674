"""Which videos of a dataset have features but no ground truth, and what a run says about them.

ASOT needs no labels to train or segment; ground truth only scores the result. So a video with
features but no groundTruth file (or with a dangling ``groundTruth/<video>`` link) is neither
an error nor silently left out: training reads the dataset with ``labels="optional"``
(:func:`asot.data.load_dataset`), trains on and segments that video unlabelled, and leaves it
out of the metrics. A dataset folder without ``groundTruth/`` is trained entirely unlabelled
(metrics skipped). :func:`unlabelled_notice` is the one line a run prints about it (once),
:func:`unlabelled_summary` the ``"unlabelled"`` entry of ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asot.data.dataset import GROUND_TRUTH_DIR, VideoCollection

__all__ = ["MAX_LISTED", "unlabelled_notice", "unlabelled_summary", "unlabelled_videos"]

#: unlabelled video names spelled out in the notice (``metrics.json`` lists them all)
MAX_LISTED = 10


def _ground_truth_dir(videos: VideoCollection) -> Path | None:
    return None if videos.path is None else Path(videos.path) / GROUND_TRUTH_DIR


def unlabelled_videos(videos: VideoCollection) -> dict[str, Path | None]:
    """``{video: feature file}`` of the videos without labels, in order."""
    return {v.name: v.path for v in videos if v.labels is None}


def unlabelled_notice(videos: VideoCollection) -> str | None:
    """One line saying which videos are trained unlabelled and that they are not scored (a
    dangling groundTruth link is named), or ``None`` when every video has labels."""
    missing = list(unlabelled_videos(videos))
    if not missing:
        return None
    n, m = len(videos), len(missing)
    gt_dir = _ground_truth_dir(videos)
    has_gt = gt_dir is not None and gt_dir.is_dir()
    broken = [gt_dir / name for name in missing if has_gt and (gt_dir / name).is_symlink()]
    link = f"; {broken[0]} is a broken link" if broken else ""
    if m == n:
        if has_gt:
            why = f"none of the {n} videos has a groundTruth file in {gt_dir}"
        else:
            why = f"{videos.path if videos.path is not None else 'the dataset'} has no {GROUND_TRUTH_DIR}/ folder"
        return f"no ground truth ({why}{link}): training on all {n} videos unlabelled; metrics skipped"
    shown = ", ".join(missing[:MAX_LISTED]) + (f", ... ({m} in all, listed in metrics.json)" if m > MAX_LISTED else "")
    return (f"{m} of {n} videos have no groundTruth file in {gt_dir}: trained and segmented unlabelled, not scored "
            f"(metrics over the {n - m} labelled ones): {shown}{link}")  # fmt: skip


def unlabelled_summary(videos: VideoCollection) -> dict[str, Any]:
    """The ``"unlabelled"`` entry of ``metrics.json``: the unlabelled videos and the count of
    labelled ones the metrics are over."""
    names = list(unlabelled_videos(videos))
    return {"videos": names, "n_labelled": len(videos) - len(names),
            "note": "no groundTruth file: trained and segmented, not scored"}  # fmt: skip

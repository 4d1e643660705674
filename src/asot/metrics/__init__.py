"""Evaluation of action segmentations (spec ``ASOT.md`` section 5).

* :mod:`asot.metrics.matching` -- Hungarian matching of clusters to classes, full or per video;
* :mod:`asot.metrics.functional` -- pure metric functions: unsupervised (MoF, mIoU, exact
  segment F1, the legacy sampled F1; values in ``[0, 1]``) and supervised (frame accuracy,
  edit score, F1@k as MS-TCN computes them; values in ``[0, 100]``);
* :mod:`asot.metrics.modular` -- accumulating objects with ``update`` / ``compute`` / ``reset``;
* :mod:`asot.metrics.protocol` -- the pipeline's ``full`` / ``per_video`` scores (percent) and
  their aggregation over activities.
"""

from asot.metrics.functional import (
    METRIC_KEYS,
    OVERLAPS,
    SegmentF1Result,
    Segments,
    edit_score,
    f1_at_overlap,
    f1_legacy_sampled,
    f1_legacy_sampled_details,
    f_score_counts,
    frame_accuracy,
    levenshtein,
    miou,
    mof,
    segment_f1,
    segment_f1_details,
    segmentation_report,
    segments,
)
from asot.metrics.matching import (
    Matching,
    confusion_matrix,
    exclude_frames,
    hungarian_match,
    match_full,
    match_per_video,
)
from asot.metrics.modular import (
    EditScore,
    F1AtOverlap,
    FrameAccuracy,
    MeanIoU,
    Metric,
    MoF,
    SegmentationMetrics,
    SegmentF1,
    SegmentF1Legacy,
)
from asot.metrics.protocol import aggregate_activities, evaluate_protocols

__all__ = [
    "METRIC_KEYS",
    "aggregate_activities",
    "evaluate_protocols",
    "OVERLAPS",
    "EditScore",
    "F1AtOverlap",
    "FrameAccuracy",
    "Matching",
    "MeanIoU",
    "Metric",
    "MoF",
    "SegmentF1",
    "SegmentF1Legacy",
    "SegmentF1Result",
    "SegmentationMetrics",
    "Segments",
    "confusion_matrix",
    "edit_score",
    "exclude_frames",
    "f1_at_overlap",
    "f1_legacy_sampled",
    "f1_legacy_sampled_details",
    "f_score_counts",
    "frame_accuracy",
    "hungarian_match",
    "levenshtein",
    "match_full",
    "match_per_video",
    "miou",
    "mof",
    "segment_f1",
    "segment_f1_details",
    "segmentation_report",
    "segments",
]

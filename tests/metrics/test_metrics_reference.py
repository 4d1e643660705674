"""Real cases of ../shared/reference: per-video MoF of the published solver's labels.

The reference README gives, with Hungarian matching per video, MoF 0.7705 (Desktop Assembly
2020-04-19_14-03-25, 745 x 22) and 0.7387 (Breakfast P36_webcam01_P36_salat, 5292 x 8).
"""

from __future__ import annotations

import numpy as np
import pytest

from asot.io.labels import read_labels, read_mapping
from asot.metrics import miou, mof, segment_f1_details, segments
from conftest import require_shared

CASES = [
    # (reference case, video, mapping, MoF, predicted segments, GT segments)
    ("real_desktop_assembly_2020-04-19_14-03-25.npz", "2020-04-19_14-03-25", "mapping_da.txt", 0.7705, 21, 23),
    ("real_breakfast_P36_webcam01_P36_salat.npz", "P36_webcam01_P36_salat", "mapping_salat.txt", 0.7387, 5, 7),
]


@pytest.mark.parametrize("case, video, mapping, expected_mof, n_pred_segments, n_gt_segments", CASES)
def test_reference_per_video_mof(case, video, mapping, expected_mof, n_pred_segments, n_gt_segments):
    reference = require_shared("reference", case)
    gt_dir = require_shared("data", "asot_examples", "gt")
    pred = np.load(reference)["labels"]
    gt = read_labels(gt_dir / video, read_mapping(gt_dir / mapping))
    assert pred.shape == gt.shape
    assert round(mof(pred, gt, per_video=True), 4) == expected_mof
    # one video: the full matching is the per-video one
    assert mof(pred, gt) == mof(pred, gt, per_video=True)
    # the README's segment counts, and sane companions
    assert segments(pred).labels.size == n_pred_segments
    assert segments(gt).labels.size == n_gt_segments
    assert 0.0 < miou(pred, gt, per_video=True) <= 1.0
    assert 0.0 < segment_f1_details(pred, gt, per_video=True).f1 <= 1.0

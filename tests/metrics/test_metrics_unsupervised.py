"""MoF, mIoU, exact segment F1 and the legacy sampled F1, hand-worked (spec ASOT.md section 5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import binom

from asot.metrics import (
    edit_score,
    f1_at_overlap,
    f1_legacy_sampled,
    f1_legacy_sampled_details,
    miou,
    mof,
    segment_f1,
    segment_f1_details,
)

# gt    0 0 0 0 1 1 1 2 2 2
# pred  7 7 7 5 5 5 5 9 9 9     matching 7->0, 5->1, 9->2 (see test_metrics_matching)
GT = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
PRED = np.array([7, 7, 7, 5, 5, 5, 5, 9, 9, 9])


def test_hand_worked_mof_miou_f1():
    # MoF: 9 of 10 frames (frame 3 is class 0 but cluster 5 is class 1) -> 0.9
    assert mof(PRED, GT) == pytest.approx(0.9)
    # IoU 7<->0: |{7} & {0}| = 3, |{7} | {0}| = 4 -> 0.75; 5<->1: 3 / 4 = 0.75; 9<->2: 3 / 3 = 1
    # mIoU = (0.75 + 0.75 + 1) / 3 classes
    assert miou(PRED, GT) == pytest.approx(2.5 / 3)
    # GT segments: class 0 has 3 of 4 frames right (> 2), classes 1 and 2 all right: TP = 3.
    # 3 GT segments, 3 predicted segments (7 | 5 | 9): P = R = F1 = 1.
    assert segment_f1_details(PRED, GT) == pytest.approx((1.0, 1.0, 1.0))


def test_more_clusters_than_classes():
    # gt 0 0 0 1 1 1, pred 2 2 3 4 4 4: 2->0, 4->1, cluster 3 unmatched (frame 2 wrong).
    pred, gt = [2, 2, 3, 4, 4, 4], [0, 0, 0, 1, 1, 1]
    assert mof(pred, gt) == pytest.approx(5 / 6)
    # IoU 2<->0 = 2 / 3, 4<->1 = 3 / 3; over 2 classes
    assert miou(pred, gt) == pytest.approx((2 / 3 + 1) / 2)
    # both GT segments detected (2 of 3 > 1.5; 3 of 3): R = 1; 3 predicted segments: P = 2/3
    # F1 = 2 * (2/3) * 1 / (2/3 + 1) = 0.8
    assert segment_f1_details(pred, gt) == pytest.approx((0.8, 2 / 3, 1.0))


def test_fewer_clusters_than_classes():
    # gt 0 0 1 1 2 2, pred 7 7 7 7 8 8: 8->2, 7->0 or 1 (tie, 2 frames either way).
    pred, gt = [7, 7, 7, 7, 8, 8], [0, 0, 1, 1, 2, 2]
    assert mof(pred, gt) == pytest.approx(4 / 6)
    # IoU of 7 with its class: 2 / 4; 8<->2: 1; the unmatched class adds 0; over 3 classes
    assert miou(pred, gt) == pytest.approx(1.5 / 3)
    # 2 of 3 GT segments detected: R = 2/3; 2 predicted segments, both credited: P = 1
    assert segment_f1_details(pred, gt) == pytest.approx((0.8, 1.0, 2 / 3))


def test_permuted_cluster_ids_give_the_same_scores():
    perm = {7: 1, 5: 12, 9: -4}
    permuted = np.array([perm[v] for v in PRED])
    for fn in (mof, miou, segment_f1):
        assert fn(permuted, GT) == pytest.approx(fn(PRED, GT))
    for fn in (mof, miou, segment_f1):
        assert fn(permuted, GT, per_video=True) == pytest.approx(fn(PRED, GT, per_video=True))


def test_perfect_prediction_scores_one_everywhere():
    gt = np.array([3, 3, 1, 1, 1, 0, 0, 3, 3])  # class 3 recurs: 4 segments, 3 classes
    pred = gt + 10  # any injective relabelling is perfect after matching
    assert mof(pred, gt) == miou(pred, gt) == segment_f1(pred, gt) == 1.0
    assert f1_legacy_sampled_details(pred, gt).recall == 1.0


def test_over_segmentation_lowers_f1_and_edit_but_not_mof():
    # gt: 8 frames of class 0 then 8 of class 1.
    gt = np.array([0] * 8 + [1] * 8)
    # A: clusters 3 | 4 with the boundary two frames late: frames 6, 7 wrong. MoF 14/16.
    a = np.array([3] * 6 + [4] * 10)
    # B: same wrong frames, but frame 6 goes to an extra cluster 5: 3 | 5 | 4. MoF 14/16.
    b = np.array([3] * 6 + [5] + [4] * 9)
    assert mof(a, gt) == mof(b, gt) == pytest.approx(14 / 16)
    # both GT segments detected (6 of 8, 8 of 8). A: 2 predicted segments -> F1 1.
    # B: 3 predicted segments -> P = 2/3, R = 1, F1 = 0.8.
    assert segment_f1(a, gt) == pytest.approx(1.0)
    assert segment_f1(b, gt) == pytest.approx(0.8)
    # supervised view (class ids: 3->0, 4->1, 5 an extra label 2):
    # segment labels A [0, 1] vs [0, 1]: edit 100; B [0, 2, 1]: one deletion, (1 - 1/3) * 100.
    a_cls, b_cls = np.array([0] * 6 + [1] * 10), np.array([0] * 6 + [2] + [1] * 9)
    assert edit_score(a_cls, gt) == pytest.approx(100.0)
    assert edit_score(b_cls, gt) == pytest.approx(200 / 3)
    # F1@50 for B: [0,6) vs [0,8) IoU .75 TP; [6,7) label 2 FP; [7,16) vs [8,16) IoU 8/9 TP.
    # P = 2/3, R = 1 -> 80
    assert f1_at_overlap(b_cls, gt, 0.5) == pytest.approx(80.0)
    assert f1_at_overlap(a_cls, gt, 0.5) == pytest.approx(100.0)


def test_one_predicted_segment_spanning_two_gt_segments_of_its_class():
    # gt c c d c c (c=0, d=1), pred k k k k k: k->0, both c segments have 2 of 2 right.
    # 3 GT segments, 2 detected: R = 2/3. One predicted segment, credited once: P = 1 (not 2).
    assert segment_f1_details([5] * 5, [0, 0, 1, 0, 0]) == pytest.approx((0.8, 1.0, 2 / 3))
    # one GT segment cut in 3 predicted segments k k x k k: detected once, P = 1/3, R = 1
    assert segment_f1_details([5, 5, 6, 5, 5], [0] * 5) == pytest.approx((0.5, 1 / 3, 1.0))


def test_majority_means_strictly_more_than_half():
    # gt 0 0 0 0 | 1 1 1 1; pred 5 5 6 6 | 6 6 6 6: 6->1 (6 frames), 5->0 (2 frames).
    # The class-0 segment has exactly half (2 of 4) right: not a TP. R = 1/2, P = 1/2.
    assert segment_f1_details([5, 5, 6, 6, 6, 6, 6, 6], [0, 0, 0, 0, 1, 1, 1, 1]) == pytest.approx((0.5, 0.5, 0.5))


def test_full_versus_per_video():
    # video 1: gt 0 0 1 1, pred 1 1 0 0; video 2: gt 0 0 1 1, pred 0 0 1 1.
    preds = [np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1])]
    gts = [np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])]
    # per video: each perfect -> 1. Full: 4 of 8 frames under any matching -> 0.5.
    assert mof(preds, gts, per_video=True) == 1.0
    assert mof(preds, gts) == 0.5
    # full mIoU: say 0->0, 1->1: each pair intersects on 2 frames, union 4 + 4 - 2 = 6:
    # (2/6 + 2/6) / 2 classes = 1/3
    assert miou(preds, gts) == pytest.approx(1 / 3)
    # full F1, say 0->0: video 1 detects nothing, video 2 both: TP = 2 of 4 GT segments,
    # 4 predicted segments: P = R = 1/2 (segments never cross video boundaries)
    assert segment_f1_details(preds, gts) == pytest.approx((0.5, 0.5, 0.5))
    assert segment_f1(preds, gts, per_video=True) == 1.0


def test_per_video_averages_over_videos_not_frames():
    # video 1 (2 frames): gt 0 0, pred 1 2 -> MoF 1/2; video 2 (6 frames): perfect -> 1.
    # Per-video MoF = (1/2 + 1) / 2 = 0.75 (frame-weighted would be 7/8).
    preds = [np.array([1, 2]), np.array([0, 0, 0, 1, 1, 1])]
    gts = [np.array([0, 0]), np.array([0, 0, 0, 1, 1, 1])]
    assert mof(preds, gts, per_video=True) == pytest.approx(0.75)


def test_exclusion_removes_background_frames():
    # gt -1 -1 -1 0 0 1 1, pred 4 4 4 4 4 5 5
    gt, pred = [-1, -1, -1, 0, 0, 1, 1], [4, 4, 4, 4, 4, 5, 5]
    # excluded: 4 frames 0 0 1 1 vs 4 4 5 5 -> perfect
    assert mof(pred, gt, exclude=[-1]) == 1.0
    assert miou(pred, gt, exclude=-1) == 1.0
    # After exclusion the remaining frames are 4 4 5 5: 2 predicted segments (the cluster-4
    # frames over the background are not evaluated): P = R = 1.
    assert segment_f1(pred, gt, exclude=-1) == 1.0
    # not excluded: 4->-1 (3 frames), 5->1 (2): MoF 5/7; IoU 3/5 and 2/2 over 3 classes
    assert mof(pred, gt) == pytest.approx(5 / 7)
    assert miou(pred, gt) == pytest.approx((0.6 + 1.0) / 3)


def test_video_with_only_excluded_frames_is_skipped_per_video():
    preds = [np.array([1, 1]), np.array([0, 0, 1])]
    gts = [np.array([-1, -1]), np.array([0, 0, 1])]
    assert mof(preds, gts, exclude=-1, per_video=True) == 1.0
    with pytest.raises(ValueError, match="no frames to evaluate after excluding"):
        mof([1, 1], [-1, -1], exclude=-1)


def test_torch_inputs_and_batches():
    pred = torch.tensor([[7, 7, 7, 5, 5, 5, 5, 9, 9, 9]])
    gt = torch.from_numpy(GT)[None]
    assert mof(pred, gt) == pytest.approx(0.9)
    assert mof(pred.float(), gt) == pytest.approx(0.9)


# ------------------------------------------------------------------ legacy sampled estimator

# gt: 4 classes, one segment of 10 frames each.
GT4 = np.repeat([0, 1, 2, 3], 10)


def test_legacy_and_exact_differ_where_the_precision_bug_bites():
    # pred: 2 segments, 5 | 6, each covering two classes. Matching 5->0 or 1, 6->2 or 3.
    # The two matched GT segments are entirely right, the other two entirely wrong, so the
    # sampling has no variance: TP = 2 in every repetition.
    pred = np.repeat([5, 6], 20)
    # exact: R = 2/4, P = 2 / 2 predicted segments = 1, F1 = 2 * .5 / 1.5 = 2/3
    assert segment_f1_details(pred, GT4) == pytest.approx((2 / 3, 1.0, 0.5))
    # legacy: P = 2 / (1 video * 4 classes) = 1/2 under-counts; R = 1/2; F1 = 1/2
    assert f1_legacy_sampled_details(pred, GT4) == pytest.approx((0.5, 0.5, 0.5))


def test_legacy_and_exact_agree_within_sampling_error_where_they_should():
    # One predicted segment per class (so n_videos * n_classes = #predicted segments), the
    # boundaries one frame late: segments 1..3 have 9 of 10 frames right, segment 0 all 10.
    pred = np.repeat([5, 6, 7, 8], [11, 10, 10, 9])
    exact = segment_f1(pred, GT4)
    assert exact == 1.0
    # a 9/10 segment is missed when >= 8 of 15 draws hit the wrong frame: p = binom.sf(7,15,.1)
    # ~ 3.4e-5, so in 50 x 3 such draws a miss is expected 0.005 times; one miss would cost
    # 1/200 of TP, so agreement to 0.01 is all but certain (and the seed makes it fixed).
    assert binom.sf(7, 15, 0.1) < 1e-4
    assert f1_legacy_sampled(pred, GT4) == pytest.approx(exact, abs=0.01)


def test_legacy_estimates_the_sampled_majority_probability():
    # 20 videos, each: gt 0*10 | 1*10; pred: 6 of the 10 class-0 frames right, so a draw of 15
    # frames has a majority of right frames with probability q = P(Bin(15, 0.6) >= 8) ~ 0.787;
    # the class-1 segment is always right. Per video (n_videos = 1, 2 classes, 2 segments) the
    # expected recall is (q + 1) / 2; averaged over 20 videos x 50 repetitions its standard
    # error is sqrt(q (1 - q) / 1000) / 2 ~ 0.0065. Exact F1 calls both segments detected.
    gt = np.array([0] * 10 + [1] * 10)
    pred = np.array([5, 1, 5, 1, 5, 1, 5, 5, 5, 1] + [2] * 10)  # cluster 5: 6 of 10 frames
    q = binom.sf(7, 15, 0.6)
    res = f1_legacy_sampled_details([pred] * 20, [gt] * 20, per_video=True, seed=123)
    assert res.recall == pytest.approx((q + 1) / 2, abs=4 * 0.0065)
    assert segment_f1_details([pred] * 20, [gt] * 20, per_video=True).recall == 1.0


def test_legacy_samples_inside_the_segment():
    # A 1-frame segment followed by another class: the published inclusive upper bound drew
    # the next segment's first frame half the time. Sampling inside [start, end) never does.
    gt = np.array([0] + [1] * 20)
    pred = np.array([5] + [6] * 20)
    for seed in range(5):
        assert f1_legacy_sampled_details(pred, gt, seed=seed) == (1.0, 1.0, 1.0)


def test_legacy_counts_the_last_segment():
    # gt 0*4 | 1*6, pred all 8: 8->1, only the LAST segment is detected. The published
    # boundary list drops the last segment (TP would be 0); here TP = 1 of 2 segments:
    # R = 1/2, P = 1 / (1 video * 2 classes) = 1/2, F1 = 1/2 (no sampling variance).
    gt = np.array([0] * 4 + [1] * 6)
    assert f1_legacy_sampled_details(np.full(10, 8), gt) == pytest.approx((0.5, 0.5, 0.5))


def test_legacy_precision_can_exceed_one_when_classes_recur():
    # gt 0 0 1 1 0 0 (3 segments, 2 classes), perfect prediction: 3 TP over 1 * 2 "segments"
    # -> P = 3/2, R = 1, F1 = 2 * 1.5 / 2.5 = 1.2. The exact F1 is 1.
    gt = np.array([0, 0, 1, 1, 0, 0])
    assert f1_legacy_sampled_details(gt, gt) == pytest.approx((1.2, 1.5, 1.0))
    assert segment_f1(gt, gt) == 1.0


def test_legacy_is_deterministic_per_seed():
    rng = np.random.default_rng(0)
    gt = np.repeat([0, 1, 2], 7)
    pred = np.where(rng.random(21) < 0.55, gt, rng.integers(0, 3, 21))
    a = f1_legacy_sampled(pred, gt, seed=7)
    assert a == f1_legacy_sampled(pred, gt, seed=7)
    assert a == f1_legacy_sampled(pred, gt, seed=np.random.default_rng(7))
    with pytest.raises(ValueError, match="n_samples"):
        f1_legacy_sampled(pred, gt, n_samples=0)

"""Frame accuracy, edit score and F1@k as MS-TCN's eval.py computes them (spec section 5)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asot.metrics import (
    edit_score,
    f1_at_overlap,
    f_score_counts,
    frame_accuracy,
    levenshtein,
    segments,
)

# ------------------------------------------------------------- a plain reference (MS-TCN)


def ref_segments(labels, bg=()):
    """Frame-by-frame loop, as MS-TCN's get_labels_start_end_time."""
    out_l, out_s, out_e = [], [], []
    last = labels[0]
    if last not in bg:
        out_l.append(last)
        out_s.append(0)
    for i in range(len(labels)):
        if labels[i] != last:
            if labels[i] not in bg:
                out_l.append(labels[i])
                out_s.append(i)
            if last not in bg:
                out_e.append(i)
            last = labels[i]
    if last not in bg:
        out_e.append(len(labels))
    return out_l, out_s, out_e


def ref_levenshtein(p, y):
    d = np.zeros((len(p) + 1, len(y) + 1))
    d[:, 0] = np.arange(len(p) + 1)
    d[0, :] = np.arange(len(y) + 1)
    for j in range(1, len(y) + 1):
        for i in range(1, len(p) + 1):
            if y[j - 1] == p[i - 1]:
                d[i, j] = d[i - 1, j - 1]
            else:
                d[i, j] = min(d[i - 1, j], d[i, j - 1], d[i - 1, j - 1]) + 1
    return d[-1, -1]


def ref_f_score(pred, gt, overlap, bg=()):
    pl, ps, pe = ref_segments(pred, bg)
    yl, ys, ye = ref_segments(gt, bg)
    tp = fp = 0
    hits = [False] * len(yl)
    for j in range(len(pl)):
        best, idx = -np.inf, 0
        for x in range(len(yl)):
            inter = min(pe[j], ye[x]) - max(ps[j], ys[x])
            union = max(pe[j], ye[x]) - min(ps[j], ys[x])
            iou = inter / union * (pl[j] == yl[x])
            if iou > best:
                best, idx = iou, x
        if yl and best >= overlap and not hits[idx]:
            tp += 1
            hits[idx] = True
        else:
            fp += 1
    return tp, fp, len(yl) - sum(hits)


# ---------------------------------------------------------------------- hand-worked cases


def test_segments_hand_worked():
    seg = segments([9, 9, 0, 0, 0, 9, 1, 1], background=[9])
    assert seg.labels.tolist() == [0, 1] and seg.starts.tolist() == [2, 6] and seg.ends.tolist() == [5, 8]
    seg = segments([4, 4, 2, 4])
    assert seg.labels.tolist() == [4, 2, 4] and seg.starts.tolist() == [0, 2, 3] and seg.ends.tolist() == [2, 3, 4]
    assert segments(np.zeros(0, int)).labels.size == 0


def test_levenshtein_hand_worked():
    assert levenshtein("kitten", "sitting") == 3  # k->s, e->i, +g
    assert levenshtein([0, 1, 2], [0, 2]) == 1
    assert levenshtein([0, 1, 2], [0, 2], normalize=True) == pytest.approx(100 * (1 - 1 / 3))
    assert levenshtein([], [], normalize=True) == 100.0
    assert levenshtein([1, 2], [], normalize=True) == 0.0


def test_edit_score_hand_worked():
    gt = [0, 0, 1, 1, 1, 2]
    assert edit_score(gt, gt) == 100.0
    # segment labels pred [0, 2] vs gt [0, 1, 2]: one insertion over max length 3
    assert edit_score([0, 0, 2, 2, 2, 2], gt) == pytest.approx(200 / 3)
    # averaged over videos: (100 + 200/3) / 2
    assert edit_score([gt, [0, 0, 2, 2, 2, 2]], [gt, gt]) == pytest.approx((100 + 200 / 3) / 2)
    # background 9 dropped from both: [0, 1] vs [0, 1] -> 100; kept: [0, 9, 1] vs [9, 0, 9, 1]
    # is one insertion over length 4 -> 75
    gt_bg, pred_bg = [9, 9, 0, 0, 0, 9, 1, 1], [0, 0, 0, 0, 0, 9, 1, 1]
    assert edit_score(pred_bg, gt_bg, background=[9]) == 100.0
    assert edit_score(pred_bg, gt_bg) == pytest.approx(75.0)


def test_f1_at_overlap_hand_worked():
    gt = [0] * 10 + [1] * 10
    pred = [0] * 4 + [1] * 16
    # pred [0,4) vs gt [0,10): IoU 4/10 = 0.4; pred [4,20) vs gt [10,20): 10/16 = 0.625
    assert f_score_counts(pred, gt, 0.1) == (2, 0, 0)
    assert f1_at_overlap(pred, gt, 0.25) == 100.0
    # at 0.5 the first is a FP and its GT segment a FN: P = R = 1/2 -> 50
    assert f_score_counts(pred, gt, 0.5) == (1, 1, 1)
    assert f1_at_overlap(pred, gt, 0.5) == pytest.approx(50.0)


def test_each_gt_segment_is_used_once():
    # gt one segment [0,10). pred 0 [0,6) (IoU .6, TP), 1 [6,7) (no class-1 GT: FP),
    # 0 [7,10) (best GT already used: FP). P = 1/3, R = 1, F1 = 2 (1/3) / (4/3) = 50
    gt, pred = [0] * 10, [0] * 6 + [1] + [0] * 3
    assert f_score_counts(pred, gt, 0.25) == (1, 2, 0)
    assert f1_at_overlap(pred, gt, 0.25) == pytest.approx(50.0)


def test_f1_counts_are_summed_over_videos():
    # video 1 perfect, 2 segments: tp 2. video 2 gt 0*5, pred 1*5: fp 1, fn 1.
    # summed: P = R = 2/3 -> 66.67 (the mean of per-video F1s would be 50)
    preds = [[0, 0, 1, 1], [1] * 5]
    gts = [[0, 0, 1, 1], [0] * 5]
    assert f1_at_overlap(preds, gts, 0.5) == pytest.approx(200 / 3)


def test_f1_with_background_and_degenerate_cases():
    gt_bg, pred_bg = [9, 9, 0, 0, 0, 9, 1, 1], [0, 0, 0, 0, 0, 9, 1, 1]
    # background dropped: pred [0,5) vs gt [2,5) IoU 3/5 -> TP; [6,8) TP
    assert f1_at_overlap(pred_bg, gt_bg, 0.5, background=9) == 100.0
    # only background in the ground truth: every predicted segment is a FP, F1 = 0
    assert f_score_counts([0, 0, 1], [9, 9, 9], 0.1, background=[9]) == (0, 2, 0)
    assert f1_at_overlap([0, 0, 1], [9, 9, 9], 0.1, background=[9]) == 0.0
    with pytest.raises(ValueError, match="0.1 for F1@10"):
        f1_at_overlap([0], [0], 10)


def test_frame_accuracy_hand_worked():
    # gt 9 9 0 0, pred 0 0 0 1: frame 2 right -> 1/4; ignoring 9: frames 2, 3 -> 1/2
    assert frame_accuracy([0, 0, 0, 1], [9, 9, 0, 0]) == 25.0
    assert frame_accuracy([0, 0, 0, 1], [9, 9, 0, 0], ignore=[9]) == 50.0
    # pooled over frames: (2 + 0) / (2 + 6)
    assert frame_accuracy([[1, 1], [0] * 6], [[1, 1], [1] * 6]) == 25.0
    with pytest.raises(ValueError, match="no frames"):
        frame_accuracy([1], [9], ignore=9)


def test_perfect_prediction_scores_100():
    gt = [3, 3, 1, 1, 1, 0, 0, 3]
    assert frame_accuracy(gt, gt) == edit_score(gt, gt) == 100.0
    assert all(f1_at_overlap(gt, gt, k) == 100.0 for k in (0.1, 0.25, 0.5))


# --------------------------------------------------------------- properties vs. reference

labels = st.lists(st.integers(0, 3), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(pred=labels, gt=labels, bg=st.sampled_from([(), (0,), (1, 2)]), overlap=st.sampled_from([0.1, 0.25, 0.5]))
def test_matches_reference_implementation(pred, gt, bg, overlap):
    n = min(len(pred), len(gt))
    pred, gt = pred[:n], gt[:n]
    p_ref, _, _ = ref_segments(pred, bg)
    y_ref, _, _ = ref_segments(gt, bg)
    seg = segments(pred, bg)
    assert seg.labels.tolist() == p_ref
    assert levenshtein(p_ref, y_ref) == ref_levenshtein(p_ref, y_ref)
    longest = max(len(p_ref), len(y_ref))
    expected_edit = 100.0 if longest == 0 else (1 - ref_levenshtein(p_ref, y_ref) / longest) * 100
    assert edit_score(pred, gt, background=bg) == pytest.approx(expected_edit)
    assert f_score_counts(pred, gt, overlap, background=bg) == ref_f_score(pred, gt, overlap, bg)


@settings(max_examples=60, deadline=None)
@given(
    videos=st.lists(st.tuples(labels, labels), min_size=1, max_size=3),
    perm=st.permutations([0, 1, 2, 3]),
)
def test_bounds_and_joint_relabelling_invariance(videos, perm):
    preds = [np.array(p[: min(len(p), len(g))]) for p, g in videos]
    gts = [np.array(g[: min(len(p), len(g))]) for p, g in videos]
    perm = np.array(perm)
    values = [frame_accuracy(preds, gts), edit_score(preds, gts)] + [
        f1_at_overlap(preds, gts, k) for k in (0.1, 0.25, 0.5)
    ]
    assert all(0.0 <= v <= 100.0 for v in values)
    # renaming the classes in both prediction and ground truth changes nothing
    relabelled = [frame_accuracy([perm[p] for p in preds], [perm[g] for g in gts]),
                  edit_score([perm[p] for p in preds], [perm[g] for g in gts])] + [
        f1_at_overlap([perm[p] for p in preds], [perm[g] for g in gts], k) for k in (0.1, 0.25, 0.5)
    ]
    assert relabelled == pytest.approx(values)


@settings(max_examples=40, deadline=None)
@given(a=st.lists(st.integers(0, 4), max_size=25), b=st.lists(st.integers(0, 4), max_size=25))
def test_levenshtein_is_a_symmetric_bounded_distance(a, b):
    d = levenshtein(a, b)
    assert d == levenshtein(b, a) == ref_levenshtein(a, b)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)

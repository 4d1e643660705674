"""Hungarian matching of clusters to classes (spec ASOT.md section 5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import asot

from asot.metrics.matching import (
    as_videos,
    confusion_matrix,
    exclude_frames,
    hungarian_match,
    match_full,
    match_per_video,
)

# gt    0 0 0 0 1 1 1 2 2 2
# pred  7 7 7 5 5 5 5 9 9 9
# confusion (rows clusters 5, 7, 9; columns classes 0, 1, 2):
#   5: [1, 3, 0]   7: [3, 0, 0]   9: [0, 0, 3]
# best one-to-one: 7->0, 5->1, 9->2, 3 + 3 + 3 = 9 matched frames.
GT = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
PRED = np.array([7, 7, 7, 5, 5, 5, 5, 9, 9, 9])


def test_confusion_matrix_hand_worked():
    conf, clusters, classes = confusion_matrix(PRED, GT)
    np.testing.assert_array_equal(clusters, [5, 7, 9])
    np.testing.assert_array_equal(classes, [0, 1, 2])
    np.testing.assert_array_equal(conf, [[1, 3, 0], [3, 0, 0], [0, 0, 3]])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 12), st.integers(-3, 9)), max_size=60),
       st.sampled_from([0, 2**31, 2**40, -(2**62)]), st.sampled_from([0, 2**33, -(2**63) + 10]))
def test_confusion_matrix_of_small_and_wide_id_ranges_is_the_sorted_count(pairs, shift_p, shift_g):
    # small ranges are counted in a dense table, wide ones through np.unique: the same matrix
    pred = np.array([p for p, _ in pairs], dtype=np.int64)
    gt = np.array([g for _, g in pairs], dtype=np.int64)
    if pairs:
        pred[0] += shift_p  # one far id makes the range wide
        gt[-1] += shift_g
    conf, clusters, classes = confusion_matrix(pred, gt)
    expect_clusters, expect_classes = np.unique(pred), np.unique(gt)
    expect = np.array([[int(np.sum((pred == k) & (gt == c))) for c in expect_classes] for k in expect_clusters],
                      dtype=np.int64).reshape(len(expect_clusters), len(expect_classes))  # fmt: skip
    assert clusters.dtype == classes.dtype == conf.dtype == np.int64
    np.testing.assert_array_equal(clusters, expect_clusters)
    np.testing.assert_array_equal(classes, expect_classes)
    np.testing.assert_array_equal(conf, expect)


def test_hungarian_match_hand_worked():
    m = hungarian_match(PRED, GT)
    assert m.mapping == {5: 1, 7: 0, 9: 2}
    assert m.n_matched_frames == 9
    assert m.n_frames == 10
    np.testing.assert_array_equal(m.apply(PRED), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2])


def test_more_clusters_than_classes_leaves_surplus_unmatched():
    # gt 0 0 0 1 1 1, pred 2 2 3 4 4 4: 2->0 (2 frames), 4->1 (3); cluster 3 has one frame of
    # class 0 but class 0 is taken, so 3 stays unmatched and its frame counts as wrong.
    m = hungarian_match([2, 2, 3, 4, 4, 4], [0, 0, 0, 1, 1, 1])
    assert m.mapping == {2: 0, 4: 1}
    assert m.n_matched_frames == 5
    mapped = m.apply([2, 2, 3, 4, 4, 4])
    assert mapped[2] not in (0, 1)  # never a false hit


def test_fewer_clusters_than_classes_leaves_classes_unmatched():
    # gt 0 0 1 1 2 2, pred 7 7 7 7 8 8: 8->2 (2 frames), 7->0 or 7->1 (2 frames either way).
    m = hungarian_match([7, 7, 7, 7, 8, 8], [0, 0, 1, 1, 2, 2])
    assert len(m.mapping) == 2
    assert m.mapping[8] == 2 and m.mapping[7] in (0, 1)
    assert m.n_matched_frames == 4


def test_unmatched_clusters_get_distinct_ids_below_every_class():
    # classes 0, 1; clusters 10 and 11 unmatched (only 2 and 3 match)
    m = hungarian_match([2, 2, 3, 3, 10, 11], [0, 0, 1, 1, 1, 0])
    mapped = m.apply([10, 11, 2, 3, 12])  # 12 never seen: also unmatched
    assert mapped[2] == 0 and mapped[3] == 1
    unmatched = mapped[[0, 1, 4]]
    assert len(set(unmatched.tolist())) == 3
    assert unmatched.max() < min(0, 2)
    np.testing.assert_array_equal(m.apply([10, 11], fill=-99), [-99, -99])


def test_excluded_frames_removed_before_matching():
    # gt -1 -1 -1 0 0 1 1, pred 4 4 4 4 4 5 5.
    # Excluding -1 leaves gt 0 0 1 1 / pred 4 4 5 5: 4->0, 5->1, all 4 frames matched.
    # Without exclusion, 4 overlaps -1 on 3 frames and 0 on 2: 4->-1, 5->1, 5 of 7 frames.
    gt = [-1, -1, -1, 0, 0, 1, 1]
    pred = [4, 4, 4, 4, 4, 5, 5]
    m = hungarian_match(pred, gt, exclude=-1)
    assert m.mapping == {4: 0, 5: 1} and m.n_frames == 4 and m.n_matched_frames == 4
    assert m.exclude == (-1,)
    m = hungarian_match(pred, gt)
    assert m.mapping == {4: -1, 5: 1} and m.n_matched_frames == 5


def test_exclude_frames_accepts_iterables():
    p, g = exclude_frames([1, 2, 3, 4], [0, 5, 6, 0], exclude=[5, 6])
    np.testing.assert_array_equal(p, [1, 4])
    np.testing.assert_array_equal(g, [0, 0])


def test_full_and_per_video_matching_differ():
    # video 1: gt 0 0 1 1, pred 1 1 0 0 (swapped ids); video 2: gt 0 0 1 1, pred 0 0 1 1.
    # Per video both are perfect; pooled, cluster 0 overlaps each class on 2 frames and so
    # does cluster 1, so any full matching gets 4 of 8 frames.
    preds = [np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1])]
    gts = [np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])]
    per = match_per_video(preds, gts)
    assert [m.mapping for m in per] == [{0: 1, 1: 0}, {0: 0, 1: 1}]
    assert match_full(preds, gts).n_matched_frames == 4


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 6), st.integers(-1, 5)), max_size=25), min_size=1, max_size=5),
       st.sampled_from([(), (-1,), (0, 3)]), st.booleans())
def test_match_full_counted_per_video_is_the_match_of_the_concatenation(videos, exclude, wide):
    preds = [np.array([p for p, _ in v], dtype=np.int64) for v in videos]
    gts = [np.array([g for _, g in v], dtype=np.int64) for v in videos]
    if wide and preds[0].size:
        preds[0][0] = 2**40  # a wide id range: counted through np.unique on the concatenation
    streamed = match_full(preds, gts, exclude=exclude)
    whole = hungarian_match(np.concatenate(preds), np.concatenate(gts), exclude=exclude)
    for name in ("clusters", "classes", "confusion", "all_clusters", "all_classes"):
        a, b = getattr(streamed, name), getattr(whole, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert streamed.exclude == whole.exclude


def test_accepts_torch_and_batches():
    pred = torch.tensor([[1, 1, 2, 2], [2, 2, 1, 1]])
    gt = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1]])
    assert len(match_per_video(pred, gt)) == 2
    assert len(as_videos(pred)) == 2
    assert len(as_videos([1, 2, 3])) == 1
    assert [v.size for v in as_videos([np.zeros(3, int), np.zeros(5, int)])] == [3, 5]
    assert hungarian_match(torch.tensor([3.0, 3.0]), torch.tensor([1, 1])).mapping == {3: 1}


def test_input_validation():
    with pytest.raises(ValueError, match="same length"):
        hungarian_match([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="as many predicted as ground-truth videos"):
        match_full([[1, 2]], [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="integer"):
        hungarian_match([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="shape"):
        hungarian_match(np.zeros((2, 2, 2), int), np.zeros((2, 2, 2), int))


def test_empty_after_exclusion_matches_nothing():
    m = hungarian_match([1, 2], [-1, -1], exclude=[-1])
    assert m.mapping == {} and m.n_frames == 0


def test_exclude_and_overlap_arguments_are_checked():
    pred, gt = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 2])
    for exclude in (2, [2], (2,), np.int64(2), np.array([2]), torch.tensor([2])):
        assert asot.mof(pred, gt, exclude=exclude) == asot.mof(pred[:3], gt[:3])
    for bad in (1.5, "a", [0, 2.5], True):
        with pytest.raises(TypeError, match="exclude: expected integer label ids"):
            asot.mof(pred, gt, exclude=bad)
    with pytest.raises(TypeError, match=r"overlap: expected a number in \(0, 1\]"):
        asot.f1_at_overlap(pred, gt, "0.5")

"""The synthetic benchmark generator: layout, structure, determinism, difficulty."""

from __future__ import annotations

import json
import time
from itertools import groupby

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

from asot.data import DEMO, TINY, SyntheticConfig, generate_dataset, load_dataset, load_prototypes, standardise_features
from asot.data.dataset import VideoCollection
from asot.data.synthetic import _action_order, _segment_lengths
from asot.presets import get_preset


def runs(labels: np.ndarray) -> list[int]:
    return [int(k) for k, _ in groupby(labels.tolist())]


def per_video_mof(pred: np.ndarray, gt: np.ndarray) -> float:
    p_ids, p = np.unique(pred, return_inverse=True)
    g_ids, g = np.unique(gt, return_inverse=True)
    overlap = np.zeros((len(p_ids), len(g_ids)))
    np.add.at(overlap, (p, g), 1)
    r, c = linear_sum_assignment(overlap, maximize=True)
    return overlap[r, c].sum() / len(gt)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    path = generate_dataset(root, TINY)
    return root, path


def test_tiny_layout_and_reader(tiny):
    root, path = tiny
    assert path == root / "SyntheticTiny"
    assert (path / "mapping" / "mapping.txt").is_file() and (path / "synthetic.json").is_file()
    ds = load_dataset(root, TINY.name)
    assert ds.kind == "generic" and len(ds) == 6
    assert ds.activities == ("salad", "tea")
    for v in ds:
        assert v.name.endswith("_" + v.activity)  # Breakfast-style names
        assert v.path == path / "features" / v.activity / f"{v.name}.npy"
        assert 100 <= v.n_frames <= 200 and v.dim == 16 and v.features.dtype == np.float32
        assert np.isfinite(v.features).all()
    # the same folder also reads with the Breakfast naming rule
    assert [v.activity for v in load_dataset(root, TINY.name, kind="breakfast")] == [v.activity for v in ds]


def test_activities_have_own_action_sets_and_background(tiny):
    root, path = tiny
    ds = load_dataset(root, TINY.name)
    meta = json.loads((path / "synthetic.json").read_text())
    bg = ds.mapping.name_to_id["background"]
    assert bg == meta["background_id"] == 0
    tea, salad = ds.select("tea"), ds.select("salad")
    assert len(tea.classes()) == 5 and bg in tea.classes()  # K=5 including a dominant background
    assert len(salad.classes()) == 6 and bg not in salad.classes()  # K=6, balanced, no background
    assert not set(tea.classes(exclude=[bg])) & set(salad.classes())
    tea_labels = np.concatenate([v.labels for v in tea])
    assert 0.25 < (tea_labels == bg).mean() < 0.6
    for a in meta["activities"]:
        assert len(a["class_ids"]) == a["n_classes"]


def test_deterministic_and_reused(tmp_path, tiny):
    root, path = tiny
    other = generate_dataset(tmp_path, TINY)
    for f in sorted((path / "features").rglob("*.npy")):
        np.testing.assert_array_equal(np.load(f), np.load(other / f.relative_to(path)))
    assert (path / "groundTruth" / "P01_tea").read_text() == (other / "groundTruth" / "P01_tea").read_text()
    # same config again: reused as is; different config: refused unless overwrite
    stamp = (other / "synthetic.json").stat().st_mtime_ns
    assert generate_dataset(tmp_path, TINY) == other and (other / "synthetic.json").stat().st_mtime_ns == stamp
    changed = TINY.replace(seed=1)
    with pytest.raises(FileExistsError, match="overwrite"):
        generate_dataset(tmp_path, changed)
    generate_dataset(tmp_path, changed, overwrite=True)
    assert not np.array_equal(np.load(other / "features" / "tea" / "P01_tea.npy"), np.load(path / "features" / "tea" / "P01_tea.npy"))


def test_prototypes_saved(tiny):
    root, path = tiny
    feats, labels = load_prototypes(path)
    ds = load_dataset(root, TINY.name)
    assert feats.shape == (TINY.background_modes + 4 + 6, 16) and labels.dtype == np.int64
    assert set(labels.tolist()) == set(ds.classes())
    assert (labels == 0).sum() == TINY.background_modes


def test_order_perturbations():
    rng = np.random.default_rng(0)
    cfg = SyntheticConfig(p_skip=0.15, p_swap=0.2, p_repeat=0.2)
    orders = [_action_order(10, cfg, rng) for _ in range(300)]
    assert all(len(o) >= 2 for o in orders)
    skipped = sum(len(set(o)) < 10 for o in orders)
    swapped = sum(any(o[i] > o[i + 1] and o[i + 1] not in o[:i] for i in range(len(o) - 1)) for o in orders)
    repeated = sum(len(o) > len(set(o)) for o in orders)
    assert skipped > 100 and swapped > 100 and repeated > 100
    canonical = SyntheticConfig(p_skip=0.0, p_swap=0.0, p_repeat=0.0)
    assert _action_order(7, canonical, rng) == list(range(7))


def test_segment_lengths():
    lengths = _segment_lengths(np.array([1.0, 10.0, 0.01, 3.0]), 200, 4)
    assert lengths.sum() == 200 and lengths.min() >= 4 and lengths.argmax() == 1
    assert _segment_lengths(np.ones(5), 7, 4).sum() == 7  # too short for the minimum: still sums up


def test_videos_loosely_follow_the_canonical_order(tmp_path):
    cfg = TINY.replace(name="Order", n_videos=12, n_activities=1, n_actions=(8,), background=(0.0,))
    generate_dataset(tmp_path, cfg)
    ds = load_dataset(tmp_path, "Order")
    orders = [runs(v.labels) for v in ds]
    ids = sorted(ds.classes())
    canonical = ids
    assert any(o != canonical for o in orders)  # perturbed ...
    # ... but loosely: the order is mostly increasing (Kendall-like agreement with canonical)
    agree = [np.mean([a < b for i, a in enumerate(o) for b in o[i + 1:]]) for o in orders]
    assert np.mean(agree) > 0.8


def test_long_tailed_vs_balanced_durations(tmp_path):
    cfg = SyntheticConfig(name="Dur", n_activities=2, n_videos=6, n_frames=(400, 600), n_actions=(8, 8),
                          background=(0.0, 0.0), duration_spread=(1.2, 0.05), feature_dim=8, latent_dim=4, hidden_dim=8)  # fmt: skip
    generate_dataset(tmp_path, cfg)
    ds = load_dataset(tmp_path, "Dur")
    cv = {}
    for a, sub in ds.by_activity().items():
        counts = np.bincount(np.concatenate([v.labels for v in sub]))
        counts = counts[counts > 0]
        cv[a] = counts.std() / counts.mean()
    long_tail, balanced = cv[cfg.activity_name(0)], cv[cfg.activity_name(1)]
    assert long_tail > 2 * balanced


def test_config_validation():
    with pytest.raises(ValueError, match="n_actions"):
        SyntheticConfig(n_actions=(1,))
    with pytest.raises(ValueError, match="background"):
        SyntheticConfig(background=(1.5,))
    with pytest.raises(ValueError, match="ar_coef"):
        SyntheticConfig(ar_coef=1.0)
    with pytest.raises(ValueError, match="activity_names"):
        SyntheticConfig(activity_names=("a_b",))
    with pytest.raises(ValueError, match="n_frames"):
        SyntheticConfig(n_frames=(10, 5))
    with pytest.raises(ValueError, match="p_skip"):
        SyntheticConfig(p_skip=2.0)
    with pytest.raises(ValueError, match="K >= 3"):
        SyntheticConfig(n_actions=(2,), background=(0.3,))
    with pytest.raises(ValueError, match="unknown field"):
        SyntheticConfig.from_dict({"nope": 1})
    with pytest.raises(TypeError, match="SyntheticConfig"):
        generate_dataset("/tmp", {"seed": 0})  # type: ignore[arg-type]
    assert SyntheticConfig.from_dict(DEMO.to_dict()) == DEMO
    assert SyntheticConfig(n_actions=7).n_actions == (7,)
    assert SyntheticConfig(n_activities=12).activity_name(11) == "act11"


def test_demo_defaults_and_difficulty(tmp_path):
    """The demo data is quick to make, the documented size, and hard for per-frame clustering."""
    assert DEMO.n_activities == 3 and 12 <= DEMO.n_videos <= 20 and DEMO.n_frames == (300, 1500)
    assert all(5 <= k <= 20 for k in DEMO.n_actions)
    cfg = DEMO.replace(name="DemoSmall", n_videos=5)
    t0 = time.perf_counter()
    generate_dataset(tmp_path, cfg)
    assert time.perf_counter() - t0 < 5.0
    raw = load_dataset(tmp_path, cfg.name)
    ds = VideoCollection(raw.name, raw.kind, tuple(v.replace(features=standardise_features(v.features)) for v in raw))
    assert ds.activities == ("repair", "salad", "tea")
    km_scores, oracle_scores = [], []
    for _, sub in ds.by_activity().items():
        classes = np.array(sub.classes())
        x = np.concatenate([v.features for v in sub]).astype(np.float64)
        y = np.concatenate([v.labels for v in sub])
        km = KMeans(len(classes), n_init=1, random_state=0, max_iter=100).fit(x)
        means = np.stack([x[y == c].mean(0) for c in classes])
        for v in sub:
            f = v.features.astype(np.float64)
            km_scores.append(per_video_mof(km.predict(f), v.labels))
            oracle_scores.append(per_video_mof(((f[:, None] - means[None]) ** 2).sum(-1).argmin(1), v.labels))
    km_mof, oracle_mof = 100 * np.mean(km_scores), 100 * np.mean(oracle_scores)
    print(f"k-means {km_mof:.1f}, oracle {oracle_mof:.1f}")
    assert 30 < km_mof < 65, km_mof  # mediocre per-frame clustering
    assert oracle_mof > km_mof + 5, (km_mof, oracle_mof)  # knowing the classes helps
    assert oracle_mof < 80, oracle_mof  # but per-frame decisions still leave room for temporal reasoning
    assert get_preset("synthetic").layer_sizes_for(ds.dim)[0] == DEMO.feature_dim

r"""Synthetic action-segmentation benchmark in the standard layout (spec section 6).

Writes ``ROOT/<name>/{features/<activity>/<video>.npy, groundTruth/<video>, mapping/mapping.txt}``
with Breakfast-style names (``P03_<activity>``), so :func:`asot.data.load_dataset` reads it like
Breakfast. The generator models what makes real data hard:

* **activities with their own action sets** (``n_actions`` classes each, background included)
  and a **canonical order** that each video follows loosely: actions are skipped
  (``p_skip``), adjacent actions swapped (``p_swap``) and earlier actions repeated
  (``p_repeat``: ``A B -> A B A``);
* **durations**: per-action mean durations drawn log-normally with spread
  ``duration_spread`` (long-tailed when large, balanced when ~0), jittered per video; some
  activities have a **dominant background** class (share ``background``) at the start, the end
  and in gaps between actions, others none;
* **features**: a latent state per frame ``h_t = z_c + drift * (progress - 1/2) * u_c + s_v + e_t``
  (action prototype ``z_c``, within-action drift along ``u_c``, per-video shift ``s_v``, AR(1)
  noise ``e_t = phi e_{t-1} + sqrt(1-phi^2) sigma xi_t``) mapped to ``D`` dims by a fixed random
  one-hidden-layer tanh network, plus a per-video offset in feature space and white noise.
  **Confusable pairs** of actions, placed far apart in the canonical order, get nearly equal
  prototypes (only their position in time tells them apart); the background is a mixture of
  several prototypes shared by all activities.

So per-frame clustering is mediocre and temporal reasoning pays (measured by
``benchmarks/data_difficulty.py``). Generation is seeded by ``config.seed`` alone (a
``numpy.random.Generator``; the global RNG is never used) and takes well under a second for
the demo defaults.

Next to the standard layout the generator writes ``synthetic.json`` (config, activities,
canonical orders, confusable pairs) and ``prototypes.npz`` (the noise-free feature-space
prototype of every class, see :func:`load_prototypes`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import lfilter

__all__ = ["DEMO", "TINY", "SyntheticConfig", "generate_dataset", "load_prototypes"]

BACKGROUND_NAME = "background"
META_FILE = "synthetic.json"
PROTOTYPES_FILE = "prototypes.npz"
_DEFAULT_ACTIVITY_NAMES = ("tea", "salad", "repair", "plant", "bike", "shelf", "bread", "pasta", "lamp", "desk")


@dataclass(frozen=True)
class SyntheticConfig:
    """Knobs of the synthetic benchmark (defaults: the demo dataset).

    Per-activity knobs (``n_actions``, ``background``, ``duration_spread``) are tuples used
    cyclically over the activities.

    Attributes:
        name: dataset folder name (``ROOT/<name>``).
        seed: the only source of randomness.
        n_activities: number of activities.
        activity_names: names to use (no ``_``); ``act<i>`` beyond the list.
        n_videos: videos per activity.
        n_frames: ``(min, max)`` frames per video, drawn log-uniformly.
        n_actions: classes per activity ``K`` (background included when present).
        background: background share of frames per activity (0: no background class).
        duration_spread: log-normal sigma of the per-action mean durations (0.1: balanced,
            1.0: long-tailed).
        duration_jitter: log-normal sigma of a segment's length around its action's mean.
        p_skip, p_swap, p_repeat: per-action probabilities of skipping, swapping with the next
            action, and repeating after the next action.
        p_background_gap: probability of a background segment between two actions.
        min_segment: minimum segment length in frames.
        feature_dim: ``D``.
        latent_dim: dimension of the latent action space.
        hidden_dim: width of the random tanh network mapping latent to features.
        gain: pre-activation scale of that network (larger = more nonlinear).
        confusable_pairs: fraction of actions that are in a confusable pair.
        confusion_distance: latent distance of a confusable pair, as a fraction of the typical
            distance between two prototypes.
        drift: within-action drift, as a fraction of the typical prototype distance.
        ar_coef: AR(1) coefficient ``phi`` of the latent noise (temporal correlation).
        ar_noise: stationary standard deviation ``sigma`` of the latent noise (per latent dim).
        video_shift: standard deviation of the per-video latent shift (per latent dim).
        video_offset: standard deviation of the per-video offset in feature space, relative to
            the feature scale.
        white_noise: i.i.d. feature noise, relative to the feature scale.
        background_modes: number of prototypes of the (shared) background class.
    """

    name: str = "Synthetic"
    seed: int = 0
    n_activities: int = 3
    activity_names: tuple[str, ...] = _DEFAULT_ACTIVITY_NAMES
    n_videos: int = 16
    n_frames: tuple[int, int] = (300, 1500)
    n_actions: tuple[int, ...] = (8, 12, 6)
    background: tuple[float, ...] = (0.45, 0.0, 0.3)
    duration_spread: tuple[float, ...] = (1.0, 0.15, 0.8)
    duration_jitter: float = 0.35
    p_skip: float = 0.1
    p_swap: float = 0.15
    p_repeat: float = 0.1
    p_background_gap: float = 0.5
    min_segment: int = 4
    feature_dim: int = 64
    latent_dim: int = 16
    hidden_dim: int = 64
    gain: float = 1.5
    confusable_pairs: float = 0.4
    confusion_distance: float = 0.35
    drift: float = 0.35
    ar_coef: float = 0.95
    ar_noise: float = 1.5
    video_shift: float = 0.8
    video_offset: float = 0.3
    white_noise: float = 1.0
    background_modes: int = 3

    def __post_init__(self) -> None:
        for key in ("activity_names", "n_frames", "n_actions", "background", "duration_spread"):
            value = getattr(self, key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = (value,)
            object.__setattr__(self, key, tuple(value))
        self._validate()

    def _validate(self) -> None:
        def need(ok: bool, key: str, expected: str) -> None:
            if not ok:
                raise ValueError(f"SyntheticConfig.{key}: expected {expected}, got {getattr(self, key)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        def is_real(v: Any) -> bool:
            return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and math.isfinite(v)

        need(isinstance(self.name, str) and bool(self.name) and "/" not in self.name, "name", "a folder name")
        need(is_int(self.seed) and self.seed >= 0, "seed", "a non-negative integer")
        for key in ("n_activities", "n_videos", "min_segment", "feature_dim", "latent_dim", "hidden_dim", "background_modes"):
            need(is_int(getattr(self, key)) and getattr(self, key) >= 1, key, "an integer >= 1")
        need(all(isinstance(a, str) and a and "_" not in a and "/" not in a for a in self.activity_names),
             "activity_names", "names without '_' or '/'")  # fmt: skip
        lo_hi = self.n_frames
        need(len(lo_hi) == 2 and all(is_int(v) for v in lo_hi) and 1 <= lo_hi[0] <= lo_hi[1], "n_frames", "(min, max) with 1 <= min <= max")
        need(len(self.n_actions) >= 1 and all(is_int(k) and 2 <= k <= 100 for k in self.n_actions), "n_actions", "integers in [2, 100]")
        need(len(self.background) >= 1 and all(is_real(b) and 0 <= b < 1 for b in self.background), "background", "shares in [0, 1)")
        need(len(self.duration_spread) >= 1 and all(is_real(s) and s >= 0 for s in self.duration_spread), "duration_spread", "values >= 0")
        for key in ("p_skip", "p_swap", "p_repeat", "p_background_gap", "confusable_pairs"):
            need(is_real(getattr(self, key)) and 0 <= getattr(self, key) <= 1, key, "a probability in [0, 1]")
        need(is_real(self.ar_coef) and 0 <= self.ar_coef < 1, "ar_coef", "a value in [0, 1)")
        for key in ("duration_jitter", "gain", "confusion_distance", "drift", "ar_noise", "video_shift", "video_offset", "white_noise"):
            need(is_real(getattr(self, key)) and getattr(self, key) >= 0, key, "a non-negative number")
        for i in range(self.n_activities):
            k = self.n_actions[i % len(self.n_actions)]
            if self.background[i % len(self.background)] > 0 and k < 3:
                raise ValueError(f"SyntheticConfig.n_actions: activity {i} has a background, so it needs K >= 3, got {k}")

    # per-activity accessors -------------------------------------------------------------------
    def activity_name(self, i: int) -> str:
        return self.activity_names[i] if i < len(self.activity_names) else f"act{i}"

    def activity_classes(self, i: int) -> int:
        return self.n_actions[i % len(self.n_actions)]

    def activity_background(self, i: int) -> float:
        return float(self.background[i % len(self.background)])

    def activity_spread(self, i: int) -> float:
        return float(self.duration_spread[i % len(self.duration_spread)])

    def replace(self, **changes: Any) -> "SyntheticConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SyntheticConfig":
        from asot.ot.config import from_known_fields

        return from_known_fields(cls, data)


#: the demo dataset: 3 activities (K = 8 with a dominant background, 12 balanced, 6 with some
#: background) x 16 videos x 300-1500 frames, 64-d features (about 40k frames, under 2 s to
#: write). Measured per-video MoF (``benchmarks/data_difficulty.py``): k-means 47.6, nearest
#: true class mean 58.9, nearest class mean + ASOT 76.9 (real Breakfast coffee: 42.7 / 68.2 / 76.1).
DEMO = SyntheticConfig()
#: a tiny dataset for tests: 2 activities x 3 videos x 100-200 frames, 16-d features
TINY = SyntheticConfig(
    name="SyntheticTiny", n_activities=2, n_videos=3, n_frames=(100, 200), n_actions=(5, 6),
    background=(0.4, 0.0), duration_spread=(0.8, 0.1), feature_dim=16, latent_dim=8, hidden_dim=32,
    min_segment=3,
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# generation


def _action_order(n: int, cfg: SyntheticConfig, rng: np.random.Generator) -> list[int]:
    """A loose version of the canonical order ``0..n-1``: skips, adjacent swaps, repeats."""
    seq = [a for a in range(n) if rng.random() >= cfg.p_skip]
    if len(seq) < min(2, n):  # keep at least two actions
        seq = sorted(rng.choice(n, size=min(2, n), replace=False).tolist())
    i = 0
    while i < len(seq) - 1:
        if rng.random() < cfg.p_swap:
            seq[i], seq[i + 1] = seq[i + 1], seq[i]
            i += 2
        else:
            i += 1
    out: list[int] = []
    for i, a in enumerate(seq):
        out.append(a)
        if i >= 1 and rng.random() < cfg.p_repeat and out[-2] != a:
            out.append(out[-2])  # A B -> A B A: return to the previous action
    return out


def _segment_lengths(weights: np.ndarray, n_frames: int, min_len: int) -> np.ndarray:
    """Integer lengths >= min_len (when possible) summing to n_frames, proportional to weights."""
    n_seg = len(weights)
    min_len = max(1, min(min_len, n_frames // n_seg))
    extra = n_frames - min_len * n_seg
    share = weights / weights.sum() * extra
    lengths = np.floor(share).astype(np.int64)
    rest = extra - lengths.sum()
    if rest > 0:
        lengths[np.argsort(-(share - lengths), kind="stable")[:rest]] += 1
    return lengths + min_len


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.standard_normal((n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _make_activity(i: int, cfg: SyntheticConfig, rng: np.random.Generator, first_id: int, bg_latent: np.ndarray) -> dict[str, Any]:
    k = cfg.activity_classes(i)
    bg_share = cfg.activity_background(i)
    n_act = k - 1 if bg_share > 0 else k
    d = cfg.latent_dim
    typical = math.sqrt(2 * d)  # distance between two N(0, I) prototypes
    z = rng.standard_normal((n_act, d))
    # confusable pairs: far apart in the canonical order, so time disambiguates them
    n_pairs = int(round(cfg.confusable_pairs * n_act / 2))
    pairs: list[tuple[int, int]] = []
    free = list(rng.permutation(n_act))
    while len(pairs) < n_pairs and len(free) >= 2:
        a = free.pop()
        partner = next((b for b in free if abs(b - a) >= 2), None)
        if partner is None:
            break
        free.remove(partner)
        pairs.append((int(min(a, partner)), int(max(a, partner))))
    for a, b in pairs:
        z[b] = z[a] + cfg.confusion_distance * typical * _unit(rng, 1, d)[0]
    drift_dirs = _unit(rng, n_act, d) * cfg.drift * typical
    mean_dur = np.exp(cfg.activity_spread(i) * rng.standard_normal(n_act))
    name = cfg.activity_name(i)
    ids = list(range(first_id, first_id + n_act))
    return {
        "name": name,
        "n_classes": k,
        "background": bg_share,
        "action_ids": ids,
        "action_names": [f"{name}_step{j + 1:02d}" for j in range(n_act)],
        "prototypes": z,
        "drift_dirs": drift_dirs,
        "mean_duration": mean_dur,
        "confusable_pairs": pairs,
        "bg_latent": bg_latent,
    }


def _make_video(act: dict[str, Any], cfg: SyntheticConfig, net: tuple, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One video: ``(N, D)`` float32 features and ``(N,)`` class ids (-1 marks background)."""
    lo, hi = cfg.n_frames
    n = int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
    order = _action_order(len(act["action_ids"]), cfg, rng)
    bg = act["background"]
    # segments: (kind, index) with kind 'a' action / 'b' background
    segs: list[int] = []  # action index, or -1 for background
    if bg > 0:
        segs.append(-1)
        for j, a in enumerate(order):
            segs.append(a)
            if j < len(order) - 1 and rng.random() < cfg.p_background_gap:
                segs.append(-1)
        segs.append(-1)
    else:
        segs = list(order)
    seg = np.array(segs)
    is_bg = seg < 0
    weights = np.where(is_bg, 0.0, act["mean_duration"][np.maximum(seg, 0)])
    weights = weights * np.exp(cfg.duration_jitter * rng.standard_normal(len(seg)))
    if is_bg.any():
        share = float(np.clip(bg * math.exp(0.2 * rng.standard_normal()), 0.05, 0.9))
        split = rng.dirichlet(np.full(int(is_bg.sum()), 2.0))
        weights = weights / weights[~is_bg].sum() * (1 - share)
        weights[is_bg] = share * split
    lengths = _segment_lengths(weights, n, cfg.min_segment)
    n = int(lengths.sum())
    seg_of_frame = np.repeat(np.arange(len(seg)), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    progress = (np.arange(n) - starts[seg_of_frame] + 0.5) / lengths[seg_of_frame] - 0.5

    d = cfg.latent_dim
    latent = np.empty((n, d))
    frame_seg = seg[seg_of_frame]
    act_frames = frame_seg >= 0
    a_idx = frame_seg[act_frames]
    latent[act_frames] = act["prototypes"][a_idx] + progress[act_frames, None] * act["drift_dirs"][a_idx]
    if (~act_frames).any():
        # every background segment picks one background mode
        modes = rng.integers(0, len(act["bg_latent"]), size=len(seg))
        latent[~act_frames] = act["bg_latent"][modes[seg_of_frame[~act_frames]]]
    latent += cfg.video_shift * rng.standard_normal(d)
    if cfg.ar_noise > 0:
        xi = rng.standard_normal((n, d)) * cfg.ar_noise
        phi = cfg.ar_coef
        xi[1:] *= math.sqrt(1 - phi * phi)  # the first frame already has the stationary variance
        latent += lfilter([1.0], [1.0, -phi], xi, axis=0)
    w1, b1, w2, scale = net
    feats = np.tanh(latent @ w1 + b1) @ w2
    feats += scale * cfg.video_offset * rng.standard_normal(cfg.feature_dim)
    feats += scale * cfg.white_noise * rng.standard_normal(feats.shape)
    ids = np.where(act_frames, np.asarray(act["action_ids"])[np.maximum(frame_seg, 0)], -1)
    return feats.astype(np.float32), ids.astype(np.int64)


def _network(cfg: SyntheticConfig, rng: np.random.Generator) -> tuple:
    w1 = rng.standard_normal((cfg.latent_dim, cfg.hidden_dim)) * cfg.gain / math.sqrt(cfg.latent_dim)
    b1 = 0.5 * rng.standard_normal(cfg.hidden_dim)
    w2 = rng.standard_normal((cfg.hidden_dim, cfg.feature_dim)) / math.sqrt(cfg.hidden_dim)
    # feature scale: typical std of a noise-free feature, so relative noise knobs are meaningful
    probe = np.tanh(rng.standard_normal((512, cfg.latent_dim)) @ w1 + b1) @ w2
    return w1, b1, w2, float(probe.std())


def generate_dataset(root: str | Path, config: SyntheticConfig = DEMO, *, overwrite: bool = False) -> Path:
    """Write a synthetic dataset in the standard layout and return ``ROOT/<config.name>``.

    If the folder already holds a dataset generated with the same config it is reused
    (returned unchanged); a different or foreign folder raises ``FileExistsError`` unless
    ``overwrite`` is set.

    Returns:
        The dataset folder; read it with ``load_dataset(root, config.name)``.
    """
    if not isinstance(config, SyntheticConfig):
        raise TypeError(f"generate_dataset: expected a SyntheticConfig, got {type(config).__name__}")
    out = Path(root) / config.name
    meta_path = out / META_FILE
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            try:
                same = json.loads(meta_path.read_text())["config"] == config.to_dict()
            except (OSError, ValueError, KeyError):
                same = False
            if same:
                return out
            raise FileExistsError(f"{out}: already exists and was not generated with this config (pass overwrite=True)")
        shutil.rmtree(out)

    rng = np.random.default_rng(config.seed)
    net = _network(config, rng)
    any_bg = any(config.activity_background(i) > 0 for i in range(config.n_activities))
    bg_latent = rng.standard_normal((config.background_modes, config.latent_dim))
    next_id = 1 if any_bg else 0
    activities = []
    for i in range(config.n_activities):
        act = _make_activity(i, config, rng, next_id, bg_latent)
        next_id += len(act["action_ids"])
        activities.append(act)
    names = sorted({a["name"] for a in activities})
    if len(names) != len(activities):
        raise ValueError(f"generate_dataset: activity names must be distinct, got {[a['name'] for a in activities]}")

    mapping = ([(0, BACKGROUND_NAME)] if any_bg else []) + [
        (cid, cname) for a in activities for cid, cname in zip(a["action_ids"], a["action_names"])
    ]
    id_to_name = dict(mapping)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "groundTruth").mkdir(parents=True)
    (tmp / "mapping").mkdir()
    (tmp / "mapping" / "mapping.txt").write_text("".join(f"{cid} {cname}\n" for cid, cname in mapping))

    w1, b1, w2, _ = net
    proto_feats, proto_labels = [], []
    if any_bg:
        proto_feats.append(np.tanh(bg_latent @ w1 + b1) @ w2)
        proto_labels += [0] * len(bg_latent)
    meta_acts = []
    for act in activities:
        (tmp / "features" / act["name"]).mkdir(parents=True)
        for v in range(config.n_videos):
            feats, ids = _make_video(act, config, net, rng)
            ids = np.where(ids < 0, 0, ids)
            video = f"P{v + 1:02d}_{act['name']}"
            np.save(tmp / "features" / act["name"] / f"{video}.npy", feats)
            (tmp / "groundTruth" / video).write_text("\n".join(id_to_name[int(c)] for c in ids) + "\n")
        proto_feats.append(np.tanh(act["prototypes"] @ w1 + b1) @ w2)
        proto_labels += act["action_ids"]
        meta_acts.append({
            "name": act["name"],
            "n_classes": act["n_classes"],
            "background_share": act["background"],
            "class_ids": ([0] if act["background"] > 0 else []) + act["action_ids"],
            "canonical_order": act["action_names"],
            "confusable_pairs": [[act["action_names"][a], act["action_names"][b]] for a, b in act["confusable_pairs"]],
            "mean_duration": [round(float(m), 4) for m in act["mean_duration"]],
        })  # fmt: skip
    np.savez(tmp / PROTOTYPES_FILE, features=np.concatenate(proto_feats).astype(np.float32), labels=np.asarray(proto_labels, dtype=np.int64))
    meta = {"config": config.to_dict(), "activities": meta_acts, "background_id": 0 if any_bg else None}
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    if out.exists():
        out.rmdir()  # empty
    tmp.rename(out)
    return out


def load_prototypes(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The noise-free feature-space prototypes of a generated dataset.

    Args:
        path: the dataset folder returned by :func:`generate_dataset`.

    Returns:
        ``features (M, D)`` float32 and ``labels (M,)`` int64 class ids (the background class
        has ``background_modes`` rows). Features of a frame are these plus drift and noise,
        before any standardisation.
    """
    with np.load(Path(path) / PROTOTYPES_FILE) as data:
        return data["features"], data["labels"]

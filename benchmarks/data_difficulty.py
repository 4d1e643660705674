"""How hard is the data? Per-video MoF of simple baselines on synthetic and real features.

For each dataset (the default synthetic demo data, regenerated in a temporary folder, and the
real Breakfast ``coffee`` sample in ``../shared/data/breakfast_coffee``) and each activity:

* ``kmeans``: k-means (scikit-learn, ``K`` = number of ground-truth classes of the activity)
  on all frames of the activity, then per-frame argmax (nearest centroid);
* ``oracle``: nearest ground-truth class mean per frame (knows the true classes: the
  best a per-frame classifier with one prototype per class can do);
* ``oracle_proto_raw`` (synthetic only): nearest noise-free generator prototype on the raw
  (unstandardised) features; below the class-mean oracle because per-video shifts and offsets
  displace every frame of a video, which is why per-video standardisation and learning matter;
* ``kmeans+smooth`` / ``oracle+smooth``: the same distances averaged over a temporal window of
  2% of the video before the argmax (the simplest temporal reasoning);
* ``kmeans+asot`` / ``oracle+asot``: ASOT (``asot.solve``, the preset's eval solver, cost
  ``1 - cos`` plus the temporal prior ``rho R``) on the same prototypes, when the solver is
  importable.

MoF is per video with its own Hungarian matching (spec section 5, "per video"), averaged over
the videos; features are standardised per video as in the Breakfast preset. Prints a table and
writes JSON (``--out``, default ``benchmarks/results/data_difficulty.json``).

Usage::

    python benchmarks/data_difficulty.py [--shared ../shared] [--out FILE] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

from asot.data import DEMO, generate_dataset, load_dataset, load_prototypes
from asot.data.dataset import VideoCollection, standardise_features
from asot.presets import get_preset

REPO = Path(__file__).resolve().parents[1]
#: temporal window of the smoothing baselines, as a fraction of the video length
SMOOTH_FRACTION = 0.02


def per_video_mof(pred: np.ndarray, gt: np.ndarray) -> float:
    """MoF of one video after a Hungarian matching of predicted clusters to true classes (0-1)."""
    p_ids, p_inv = np.unique(pred, return_inverse=True)
    g_ids, g_inv = np.unique(gt, return_inverse=True)
    overlap = np.zeros((len(p_ids), len(g_ids)), dtype=np.int64)
    np.add.at(overlap, (p_inv, g_inv), 1)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return float(overlap[rows, cols].sum() / len(gt))


def _smooth(dist: np.ndarray) -> np.ndarray:
    width = max(1, int(round(SMOOTH_FRACTION * len(dist))))
    return uniform_filter1d(dist, size=width, axis=0, mode="nearest")


def _sq_dist(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]


def _asot_labels(x: np.ndarray, centres: np.ndarray, preset) -> np.ndarray | None:
    try:
        import torch

        import asot
    except ImportError:
        return None
    if not hasattr(asot, "solve") or not hasattr(asot, "temporal_prior"):
        return None
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    cn = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    cost = torch.from_numpy(1.0 - xn @ cn.T).float()
    cost = cost + asot.temporal_prior(cost.shape[0], cost.shape[1], preset.rho)
    return asot.solve(cost, config=preset.eval_solver).labels.numpy()


def evaluate(videos: VideoCollection, *, seed: int, prototypes: tuple[np.ndarray, np.ndarray] | None = None,
             raw: VideoCollection | None = None, preset=None) -> dict:  # fmt: skip
    """Per-activity and overall mean per-video MoF (percent) of every baseline."""
    preset = preset or get_preset("default")
    scores: dict[str, dict[str, list[float]]] = {}
    for activity, sub in videos.by_activity().items():
        classes = np.array(sub.classes())
        frames = np.concatenate([v.features for v in sub])
        labels = np.concatenate([v.labels for v in sub])
        km = KMeans(n_clusters=len(classes), n_init=4, random_state=seed).fit(frames.astype(np.float64))
        means = np.stack([frames[labels == c].mean(0) for c in classes])
        act_scores: dict[str, list[float]] = {}
        for video in sub:
            x = video.features.astype(np.float64)
            d_km, d_or = _sq_dist(x, km.cluster_centers_), _sq_dist(x, means)
            preds = {
                "kmeans": d_km.argmin(1),
                "oracle": classes[d_or.argmin(1)],
                "kmeans+smooth": _smooth(d_km).argmin(1),
                "oracle+smooth": classes[_smooth(d_or).argmin(1)],
            }
            if prototypes is not None and raw is not None:
                p_feats, p_labels = prototypes
                preds["oracle_proto_raw"] = p_labels[_sq_dist(raw[video.name].features.astype(np.float64), p_feats).argmin(1)]
            for name, centres in (("kmeans+asot", km.cluster_centers_), ("oracle+asot", means)):
                lab = _asot_labels(x, centres, preset)
                if lab is not None:
                    preds[name] = lab
            for name, pred in preds.items():
                act_scores.setdefault(name, []).append(100 * per_video_mof(pred, video.labels))
        scores[activity] = act_scores
    methods = list(next(iter(scores.values())))
    out = {
        "activities": {
            a: {"n_videos": len(videos.select([a])), "n_classes": len(videos.select([a]).classes()),
                **{m: round(float(np.mean(s[m])), 2) for m in methods}}
            for a, s in scores.items()
        },
        "mean": {m: round(float(np.mean([v for s in scores.values() for v in s[m]])), 2) for m in methods},
        "n_videos": len(videos),
        "n_frames": int(sum(v.n_frames for v in videos)),
    }  # fmt: skip
    return out


def _table(results: dict) -> str:
    methods: list[str] = []
    for r in results.values():
        methods += [m for m in r["mean"] if m not in methods]
    head = f"{'data':<38}{'videos':>7}{'K':>4}" + "".join(f"{m:>17}" for m in methods)
    lines = [head, "-" * len(head)]
    for data, r in results.items():
        for a, s in r["activities"].items():
            lines.append(f"{data + ' / ' + a:<38}{s['n_videos']:>7}{s['n_classes']:>4}"
                         + "".join(f"{s[m]:>17.1f}" if m in s else f"{'-':>17}" for m in methods))  # fmt: skip
        lines.append(f"{data + ' (mean over videos)':<38}{r['n_videos']:>7}{'':>4}"
                     + "".join(f"{r['mean'][m]:>17.1f}" if m in r["mean"] else f"{'-':>17}" for m in methods))  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("ASOT_SHARED", REPO.parent / "shared")))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "data_difficulty.json")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = generate_dataset(tmp, DEMO)
        timings["generate_synthetic_s"] = round(time.perf_counter() - t0, 3)
        raw = load_dataset(tmp, DEMO.name)
        std = VideoCollection(raw.name, raw.kind, tuple(v.replace(features=standardise_features(v.features)) for v in raw),
                              raw.mapping, raw.path)  # fmt: skip
        results["synthetic"] = evaluate(std, seed=args.seed, prototypes=load_prototypes(path), raw=raw)
    breakfast = args.shared / "data" / "breakfast_coffee"
    if (breakfast / "Breakfast").is_dir():
        bf = load_dataset(breakfast, "Breakfast", standardise=True)
        results["breakfast_coffee"] = evaluate(bf, seed=args.seed, preset=get_preset("breakfast"))
    else:
        print(f"(real Breakfast sample not found under {breakfast}; skipped)", file=sys.stderr)

    print(_table(results))
    report = {"metric": "per-video MoF (%), Hungarian matching per video", "seed": args.seed,
              "synthetic_config": DEMO.to_dict(), "timings": timings, "results": results}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return report


if __name__ == "__main__":
    main()

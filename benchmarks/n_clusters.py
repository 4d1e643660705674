"""Choosing the number of actions K without labels: candidate criteria on the shared real data
and the synthetic families of ``benchmarks/_quality_cases.py``.

Every criterion scores K = 2 .. K_MAX on the standardised input features of one activity (the
frames k-means initialises from), no training. For each dataset it prints the K each criterion
picks next to the classes present, and writes ``benchmarks/results/n_clusters.json``.

Criteria (scikit-learn; frames evenly subsampled to ``MAX_FRAMES``):

* ``silhouette`` / ``calinski-harabasz`` / ``davies-bouldin`` of k-means on the raw frames;
* the same three on temporally smoothed frames (a centred moving average of ``w`` frames, ``w``
  a fraction of the median video length; the fraction is chosen leave-one-dataset-out);
* ``gmm-bic``: BIC of a diagonal Gaussian mixture;
* ``eigengap``: largest gap of the normalised Laplacian's spectrum of a kNN frame affinity;
* ``segments``: k-means at K labels the smoothed frames; the median number of distinct labels that
  hold a stable segment (at least ``min_share`` of a video) per video ... (see ``segment_count``).

Usage: ``python benchmarks/n_clusters.py [--cases breakfast actrectut ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from _quality_cases import HERE, cases

K_MIN, K_MAX = 2, 15
MAX_FRAMES = 4000
SMOOTH_FRACTIONS = (0.0, 0.005, 0.01, 0.02, 0.04)


def load(case):
    from asot.presets import get_preset
    from asot.training.pipeline import load_videos

    videos = load_videos(case.root, case.dataset, get_preset("default"))
    out = {}
    for act, vids in videos.by_activity().items():
        classes = set()
        for v in vids:
            classes.update(int(c) for c in np.unique(v.labels))
        out[act] = ([v.features.astype(np.float64) for v in vids], [v.labels for v in vids], len(classes))
    return out


def smooth(features: list[np.ndarray], fraction: float) -> list[np.ndarray]:
    from scipy.ndimage import uniform_filter1d

    if fraction <= 0:
        return features
    w = max(1, int(round(fraction * float(np.median([len(f) for f in features])))))
    return [uniform_filter1d(f, size=w, axis=0, mode="nearest") for f in features]


def subsample(frames: np.ndarray, n: int = MAX_FRAMES) -> np.ndarray:
    if len(frames) <= n:
        return frames
    return frames[np.linspace(0, len(frames) - 1, n).round().astype(np.int64)]


def kmeans_scores(frames: np.ndarray, seed: int = 0) -> dict[str, dict[int, float]]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    out = {"silhouette": {}, "calinski-harabasz": {}, "davies-bouldin": {}, "inertia": {}}
    for k in range(K_MIN, K_MAX + 1):
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(frames)
        lab = km.labels_
        out["silhouette"][k] = float(silhouette_score(frames, lab))
        out["calinski-harabasz"][k] = float(calinski_harabasz_score(frames, lab))
        out["davies-bouldin"][k] = -float(davies_bouldin_score(frames, lab))  # higher is better throughout
        out["inertia"][k] = float(km.inertia_)
    return out


def gmm_bic(frames: np.ndarray, seed: int = 0) -> dict[int, float]:
    from sklearn.mixture import GaussianMixture

    return {k: -float(GaussianMixture(k, covariance_type="diag", random_state=seed, n_init=1, max_iter=100)
                      .fit(frames).bic(frames)) for k in range(K_MIN, K_MAX + 1)}  # fmt: skip


def eigengap(frames: np.ndarray, n_neighbors: int = 15) -> dict[int, float]:
    from scipy.sparse.csgraph import laplacian
    from sklearn.neighbors import kneighbors_graph

    x = subsample(frames, 2000)
    a = kneighbors_graph(x, n_neighbors, include_self=False)
    a = 0.5 * (a + a.T)
    lap = laplacian(a.toarray(), normed=True)
    ev = np.sort(np.linalg.eigvalsh(lap))
    return {k: float(ev[k] - ev[k - 1]) for k in range(K_MIN, K_MAX + 1)}


def pick(scores: dict[int, float]) -> int:
    return int(max(scores, key=lambda k: scores[k]))


def elbow(inertia: dict[int, float]) -> int:
    """The K farthest below the chord from K_MIN to K_MAX of the inertia curve (kneedle)."""
    ks = np.array(sorted(inertia))
    y = np.array([inertia[k] for k in ks])
    y = (y - y.min()) / max(y.max() - y.min(), 1e-12)
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    return int(ks[np.argmax((1 - x) - y)])


def evaluate(case) -> dict:
    out = {}
    for act, (feats, _, n_classes) in load(case).items():
        row = {"classes": n_classes, "frames": int(sum(len(f) for f in feats)), "picks": {}, "scores": {}}
        t0 = time.perf_counter()
        for frac in SMOOTH_FRACTIONS:
            frames = subsample(np.concatenate(smooth(feats, frac)))
            scores = kmeans_scores(frames)
            for name, s in scores.items():
                row["scores"][f"{name}@{frac}"] = s
                if name != "inertia":
                    row["picks"][f"{name}@{frac}"] = pick(s)
            row["picks"][f"elbow@{frac}"] = elbow(scores["inertia"])
            if frac in (0.0, 0.01):
                row["picks"][f"gmm-bic@{frac}"] = pick(gmm := gmm_bic(frames))
                row["scores"][f"gmm-bic@{frac}"] = gmm
                row["picks"][f"eigengap@{frac}"] = pick(eg := eigengap(frames))
                row["scores"][f"eigengap@{frac}"] = eg
        row["seconds"] = round(time.perf_counter() - t0, 1)
        out[act] = row
    return out


def trained_sweep(case, ks, seeds, cache: dict, path: Path) -> None:
    """Train the default preset at every K of ``ks`` and seed: MoF, the label-free scores of
    :mod:`asot.training.restarts` and the labels (run-length encoded), cached in ``path``."""
    from restarts import one_run

    for k in ks:
        for seed in seeds:
            key = f"{case.name}/{k}/{seed}"
            if key in cache:
                continue
            cache[key] = one_run(case, seed, n_clusters=k)
            print(f"{key}: MoF {cache[key]['mof']:.1f}", flush=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache))
            os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", nargs="*", default=None)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "n_clusters.json")
    ap.add_argument("--trained", action="store_true", help="also train the default preset at every K (benchmarks/results/n_clusters_runs.json)")
    ap.add_argument("--trained-seeds", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results = json.loads(args.json.read_text())["results"] if args.json.exists() else {}
    if args.trained:
        import logging
        import warnings

        warnings.filterwarnings("ignore")
        logging.disable(logging.WARNING)
        path = HERE / "results" / "n_clusters_runs.json"
        cache = json.loads(path.read_text()) if path.exists() else {}
        for case in cases():
            if args.cases is None or case.name in args.cases:
                trained_sweep(case, range(K_MIN, 13), range(args.trained_seeds), cache, path)
    for case in cases():
        if args.cases is not None and case.name not in args.cases:
            continue
        if case.name not in results:
            results[case.name] = evaluate(case)
            tmp = args.json.with_suffix(".tmp")
            tmp.write_text(json.dumps({"results": results}, indent=1))
            os.replace(tmp, args.json)
        for act, row in results[case.name].items():
            print(f"{case.name}/{act}: {row['classes']} classes, {row['frames']} frames, {row['seconds']} s")
    crits = sorted({c for r in results.values() for a in r.values() for c in a["picks"]})
    names = list(results)
    print(f"{'criterion':<28}" + "".join(f"{n[:11]:>12}" for n in names) + f"{'within30%':>11}")
    print(f"{'classes':<28}" + "".join(f"{next(iter(results[n].values()))['classes']:>12}" for n in names))
    for c in crits:
        ks = [next(iter(results[n].values()))["picks"].get(c) for n in names]
        cls = [next(iter(results[n].values()))["classes"] for n in names]
        ok = sum(k is not None and abs(k - t) <= 0.3 * t for k, t in zip(ks, cls))
        print(f"{c:<28}" + "".join(f"{k if k is not None else '-':>12}" for k in ks) + f"{ok:>8}/{len(names)}")
    meta = {"machine": platform.node(), "load": os.getloadavg(), "k_range": [K_MIN, K_MAX], "max_frames": MAX_FRAMES}
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    os.replace(tmp, args.json)


if __name__ == "__main__":
    main()

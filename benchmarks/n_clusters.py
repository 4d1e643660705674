"""Choosing the number of actions K without labels: candidate rules on the shared real data
and the synthetic families of ``benchmarks/_quality_cases.py``, plus four families with 3 and 10
actions (:func:`k_families`) that show whether a rule follows K at all.

Training-free criteria score K = 2 .. K_MAX on the standardised input features of an activity
(the frames k-means initialises from); frames evenly subsampled to ``MAX_FRAMES``:

* ``silhouette`` / ``calinski-harabasz`` / ``davies-bouldin`` of k-means (scikit-learn), on the
  raw frames and on temporally smoothed ones (a centred moving average over a fraction
  ``@f`` of the median video length);
* ``gmm-bic``: BIC of a diagonal Gaussian mixture; ``eigengap``: largest gap of the normalised
  Laplacian spectrum of a 15-NN frame affinity;
* ``elbow``: the knee (kneedle) of the k-means inertia curve over ``[2, k_max]``.

``--trained`` also trains the ``default`` preset at K = 2 .. 12 (2 seeds; the K families at
3, 6, 10, 12, 15) and records MoF and the labels, for the trained rule ``count`` (train at a
large ``k_big``, count the clusters holding at least ``share`` of the frames) and for MoF at the
chosen K. Rules with constants are scored leave-one-dataset-out over the seven datasets of the
quality benchmark; the K families are scored with the constants chosen on all seven.

Writes ``benchmarks/results/n_clusters.json`` (training runs cached in
``benchmarks/results/n_clusters_runs.json``). Usage:
``python benchmarks/n_clusters.py [--trained] [--cases breakfast ...]``
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


def k_families(root: Path = Path("/tmp/asot-n-clusters-synthetic")) -> list:
    """Families with another number of actions (3 and 10), to see whether a rule follows K at
    all: ``syn-fixed`` and ``syn-recurring`` of ``_quality_cases`` with ``n_actions`` changed."""
    import dataclasses

    from _quality_cases import Case, synthetic_configs

    from asot.data import generate_dataset

    base = synthetic_configs()
    out = []
    for k in (3, 10):
        for name in ("syn-fixed", "syn-recurring"):
            cfg = dataclasses.replace(base[name], name=f"{base[name].name}K{k}", n_actions=(k,), seed=base[name].seed + 100 + k)
            if not (root / cfg.name).is_dir():
                generate_dataset(root, cfg)
            out.append(Case(f"{name}-K{k}", root, cfg.name, None, None))
    return out


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
            row["picks"][f"elbow@{frac}"] = knee(scores["inertia"])
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


#: the knee rule's constants and the values LODO chooses from (the first: the default)
KNEE_GRID = {"k_max": (15, 8, 10, 12), "smooth": SMOOTH_FRACTIONS}
#: the trained alternative: K_big trained, clusters holding >= share of the frames counted
COUNT_GRID = {"k_big": (12, 10), "share": (0.02, 0.01, 0.03, 0.05)}
#: the agreement rule: the K >= k_min whose two trained seeds agree most (adjusted Rand index)
AGREE_GRID = {"k_min": (2, 3, 4)}


def knee(curve: dict[int, float]) -> int:
    """Kneedle: with both axes scaled to [0, 1], the K farthest below the chord of the curve."""
    ks = np.array(sorted(curve), dtype=np.float64)
    w = np.array([curve[int(k)] for k in ks])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    return int(ks[int(np.argmax((1.0 - x) - (w - w.min()) / max(w.max() - w.min(), 1e-12)))])


def knee_k(row: dict, k_max: int, smooth_fraction: float) -> int:
    curve = {int(k): v for k, v in row["scores"][f"inertia@{smooth_fraction}"].items() if int(k) <= k_max}
    return knee(curve)


def count_k(runs: dict, name: str, k_big: int, share: float) -> float:
    """Median over seeds of the clusters holding >= ``share`` of the frames, default preset at K_big."""
    from restarts import unrle

    counts = []
    for key, r in runs.items():
        c, k, _ = key.split("/")
        if c == name and int(k) == k_big:
            labels = np.concatenate([unrle(v) for v in r["labels"].values()])
            counts.append(int((np.bincount(labels, minlength=k_big) / len(labels) >= share).sum()))
    return float(np.median(counts)) if counts else float("nan")


def agreement_k(runs: dict, name: str, k_min: int) -> float:
    """The K >= ``k_min`` at which seeds 0 and 1 of the default preset agree most on every frame
    (adjusted Rand index of their labels; ties: the smaller K); no labels read."""
    from restarts import unrle
    from sklearn.metrics import adjusted_rand_score

    scores = {}
    for key, r in runs.items():
        c, k, seed = key.split("/")
        other = runs.get(f"{c}/{k}/1")
        if c == name and seed == "0" and int(k) >= k_min and other is not None:
            a = np.concatenate([unrle(r["labels"][v]) for v in sorted(r["labels"])])
            b = np.concatenate([unrle(other["labels"][v]) for v in sorted(r["labels"])])
            scores[int(k)] = adjusted_rand_score(a, b)
    return float(min(scores, key=lambda k: (-round(scores[k], 9), k))) if scores else float("nan")


def rel_error(k: float, truth: int) -> float:
    return abs(k - truth) / truth


def lodo(picks: dict[str, dict[tuple, float]], truth: dict[str, int], grid: dict, folds: list[str]) -> dict:
    """Leave one dataset of ``folds`` out: the grid point with the least mean relative K error on
    the other folds (ties: the first, i.e. default, value), applied to the held-out one; every
    other dataset (the K families) is scored with the point chosen on all folds."""
    import itertools

    points = list(itertools.product(*grid.values()))

    def best(names: list[str]) -> tuple:
        err = {p: float(np.mean([rel_error(picks[o][p], truth[o]) for o in names])) for p in points}
        return min(points, key=lambda p: (round(err[p], 9), points.index(p)))

    table = {}
    on_all = best([f for f in folds if f in picks])
    for held in picks:
        point = best([f for f in folds if f in picks and f != held]) if held in folds else on_all
        k = picks[held][point]
        table[held] = {"chosen": dict(zip(grid, point)), "k": k, "classes": truth[held], "held_out_fold": held in folds,
                       "within_30": rel_error(k, truth[held]) <= 0.3}  # fmt: skip
    return table


def mof_at(runs: dict, name: str, k: float) -> float:
    k = int(np.floor(k + 0.5))  # a median of two seeds' counts, x.5, rounds up
    vals = [r["mof"] for key, r in runs.items() if key.split("/")[0] == name and int(key.split("/")[1]) == k]
    return float(np.mean(vals)) if vals else float("nan")


def analyse(results: dict, runs: dict, true_k: dict[str, int], folds: list[str]) -> dict:
    """The LODO tables of the knee rule (on every dataset with inertia curves) and of the trained
    count (where the K_big runs exist), with MoF at the chosen K against MoF at the true K."""
    import itertools

    truth = {n: next(iter(r.values()))["classes"] for n, r in results.items()}
    knee_picks = {n: {p: knee_k(next(iter(r.values())), *p) for p in itertools.product(*KNEE_GRID.values())}
                  for n, r in results.items()}  # fmt: skip
    count_names = [n for n in truth if not np.isnan(count_k(runs, n, COUNT_GRID["k_big"][0], 0.02))
                   and not np.isnan(count_k(runs, n, COUNT_GRID["k_big"][1], 0.02))]  # fmt: skip
    count_picks = {n: {p: count_k(runs, n, *p) for p in itertools.product(*COUNT_GRID.values())} for n in count_names}
    agree_picks = {n: {p: agreement_k(runs, n, *p) for p in itertools.product(*AGREE_GRID.values())} for n in count_names}
    out = {"knee": lodo(knee_picks, truth, KNEE_GRID, folds), "count": lodo(count_picks, truth, COUNT_GRID, folds),
           "agreement": lodo(agree_picks, truth, AGREE_GRID, folds)}
    for rule in out.values():
        for name, row in rule.items():
            row["mof_chosen_k"] = mof_at(runs, name, row["k"])
            row["true_k"] = true_k.get(name, row["classes"])
            row["mof_true_k"] = mof_at(runs, name, row["true_k"])
    return out


def print_lodo(out: dict) -> None:
    for rule, table in out.items():
        print(f"\nLODO, rule '{rule}': constants chosen on the other datasets (least mean |K - classes| / classes); "
              "K families: chosen on all seven")
        print(f"{'held out':<20}{'chosen constants':<30}{'K':>5}{'classes':>8}{'+-30%':>7}{'MoF@K':>8}{'true K':>7}{'MoF@true':>9}")
        for name, r in table.items():
            consts = ", ".join(f"{k} {v:g}" for k, v in r["chosen"].items())
            print(f"{name:<20}{consts:<30}{r['k']:>5g}{r['classes']:>8}{'yes' if r['within_30'] else 'NO':>7}"
                  f"{r['mof_chosen_k']:>8.1f}{r['true_k']:>7}{r['mof_true_k']:>9.1f}")  # fmt: skip


#: the rows of the training-free table in docs/model_selection.md
TABLE_CRITERIA = ("silhouette@0.0", "calinski-harabasz@0.0", "davies-bouldin@0.0", "gmm-bic@0.0", "eigengap@0.0",
                  "elbow@0.0", "elbow@0.02", "silhouette@0.02")  # fmt: skip
TABLE_KS = (*range(2, 13), 15)


def markdown(results: dict, runs: dict, analysis: dict) -> str:
    """The tables of docs/model_selection.md: training-free picks, MoF against K, the LODO tables."""
    names = list(results)
    first = {n: next(iter(results[n].values())) for n in names}
    lines = ["| criterion | " + " | ".join(f"{n} ({first[n]['classes']})" for n in names) + " | within +-30% |",
             "| --- |" + " --- |" * (len(names) + 1)]  # fmt: skip
    for c in TABLE_CRITERIA:
        ks = [first[n]["picks"][c] for n in names]
        ok = sum(rel_error(k, first[n]["classes"]) <= 0.3 for k, n in zip(ks, names))
        lines.append(f"| {c} | " + " | ".join(map(str, ks)) + f" | {ok}/{len(names)} |")
    lines += ["", "| dataset (classes) | " + " | ".join(f"K={k}" for k in TABLE_KS) + " |", "| --- |" + " --- |" * len(TABLE_KS)]
    for n in names:
        cells = []
        for k in TABLE_KS:
            m = mof_at(runs, n, k)
            cell = "-" if np.isnan(m) else f"{m:.1f}"
            cells.append(f"**{cell}**" if k == first[n]["classes"] else cell)
        lines.append(f"| {n} ({first[n]['classes']}) | " + " | ".join(cells) + " |")
    for rule, table in analysis.items():
        lines += ["", f"{rule}:", "", "| held out | constants chosen without it | K | classes | within +-30% | MoF at K | MoF at true K |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for n, r in table.items():
            consts = ", ".join(f"{k} {v:g}" for k, v in r["chosen"].items())
            mk = "-" if np.isnan(r["mof_chosen_k"]) else f"{r['mof_chosen_k']:.1f}"
            lines.append(f"| {n} | {consts} | {r['k']:g} | {r['classes']} | {'yes' if r['within_30'] else 'no'} | {mk} | "
                         f"{r['mof_true_k']:.1f} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", nargs="*", default=None)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "n_clusters.json")
    ap.add_argument("--trained", action="store_true", help="also train the default preset at every K (benchmarks/results/n_clusters_runs.json)")
    ap.add_argument("--trained-seeds", type=int, default=2)
    ap.add_argument("--trained-ks", type=int, nargs="*", default=None, help="the K trained (default 2 .. 12)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the tables as markdown (docs/model_selection.md)")
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
        for case in cases() + k_families():
            if args.cases is None or case.name in args.cases:
                trained_sweep(case, args.trained_ks or range(K_MIN, 13), range(args.trained_seeds), cache, path)
    for case in cases() + k_families():
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
    runs_path = HERE / "results" / "n_clusters_runs.json"
    runs = json.loads(runs_path.read_text()) if runs_path.exists() else {}
    true_k = {c.name: c.k for c in cases() if c.k is not None}  # K of asot train in the quality benchmark (Breakfast: 7)
    analysis = analyse(results, runs, true_k, [c.name for c in cases()])
    print_lodo(analysis)
    if args.markdown:
        args.markdown.write_text(markdown(results, runs, analysis) + "\n")
    meta = {"machine": platform.node(), "load": os.getloadavg(), "k_range": [K_MIN, K_MAX], "max_frames": MAX_FRAMES}
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": results, "lodo": analysis}, indent=1, default=str))
    os.replace(tmp, args.json)


if __name__ == "__main__":
    main()

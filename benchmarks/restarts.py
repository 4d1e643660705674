"""Do label-free criteria pick the better seed? Spearman rank correlation of each criterion of
:mod:`asot.training.restarts` (and the k-means inertia of the initialisation) with full MoF over
seeds, per dataset (``benchmarks/_quality_cases.py``: shared real data + synthetic families),
and the MoF of the seed each criterion picks against the mean single run.

Each run (``--preset default``, the case's K, one seed) is cached in
``benchmarks/results/restarts_runs.json`` (criteria, MoF, labels run-length encoded) so that an
interrupted benchmark resumes; the summary goes to ``benchmarks/results/restarts.json``.

Usage: ``python benchmarks/restarts.py [--seeds 5] [--cases syn-noisy ...]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from _quality_cases import HERE, cases

#: cheapest first (seconds per run on a loaded 2-core machine)
ORDER = ("syn-noisy", "syn-reordered", "syn-long", "actrectut", "syn-recurring", "syn-fixed", "breakfast")


def rle(labels: np.ndarray) -> list[list[int]]:
    from asot.runs import run_length_encode

    runs = run_length_encode(labels)
    return [[int(v), int(n)] for v, n in zip(runs.labels, runs.lengths)]


def unrle(runs: list[list[int]]) -> np.ndarray:
    return np.concatenate([np.full(n, v, dtype=np.int64) for v, n in runs])


def one_run(case, seed: int, n_clusters: int | None = None) -> dict:
    import asot.models.kmeans as kmeans_module
    from asot.training.pipeline import load_videos, train
    from asot.training.restarts import model_scores

    inertia = {}
    fit = kmeans_module.fit_kmeans

    def recording(frames, n_clusters, *, seed=0, what="k-means: {n} frames"):
        km = fit(frames, n_clusters, seed=seed, what=what)
        if what.startswith("k-means init"):
            inertia["value"] = float(km.inertia_) / max(len(frames), 1)
        return km

    kmeans_module.fit_kmeans = recording
    t0 = time.perf_counter()
    try:
        res = train(case.root, case.dataset, None, preset="default", n_clusters=n_clusters or case.k, seed=seed, figures=False, baseline=False)
    finally:
        kmeans_module.fit_kmeans = fit
    seconds = time.perf_counter() - t0
    (act, r), = res.activities.items()
    videos = load_videos(case.root, case.dataset, res.preset).by_activity()[act]
    scores = model_scores(r.module, list(videos))
    scores["inertia"] = inertia.get("value", float("nan"))
    return {"mof": res.metrics["full"]["mof"], "f1": res.metrics["full"]["f1"], "miou": res.metrics["full"]["miou"],
            "per_video_mof": res.metrics["per_video"]["mof"], "scores": scores, "seconds": round(seconds, 1),
            "labels": {n: rle(p) for n, p in r.predictions.items()}}  # fmt: skip


def spearman(x, y) -> float:
    from scipy.stats import spearmanr

    if len(set(x)) < 2 or len(set(y)) < 2:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def restart_gain(mof: list[float], nmi: np.ndarray, r: int) -> dict:
    """``--restarts r`` simulated on the seeds run: over every subset of ``r`` seeds, the MoF of
    the seed most in agreement with the subset's others minus the subset's mean MoF."""
    import itertools

    gains, picked = [], []
    for subset in itertools.combinations(range(len(mof)), r):
        sub = nmi[np.ix_(subset, subset)]
        best = subset[int(np.argmax(sub.sum(axis=1)))]
        picked.append(mof[best])
        gains.append(mof[best] - float(np.mean([mof[i] for i in subset])))
    return {"subsets": len(gains), "mean_gain": float(np.mean(gains)), "mean_picked_mof": float(np.mean(picked)),
            "worst_gain": float(np.min(gains))}  # fmt: skip


def summarise(runs: dict[str, list[dict]]) -> dict:
    from asot.training.restarts import CRITERIA, agreement, pairwise_nmi

    higher = {**CRITERIA, "inertia": False}
    out = {}
    for case, rs in runs.items():
        mof = [r["mof"] for r in rs]
        crit = {c: [r["scores"][c] for r in rs] for c in higher if c != "agreement"}
        labels = [{n: unrle(v) for n, v in r["labels"].items()} for r in rs]
        crit["agreement"] = agreement(labels)
        nmi = pairwise_nmi(labels)
        row = {"seeds": len(rs), "mof": mof, "mean_mof": float(np.mean(mof)), "best_mof": float(np.max(mof)), "criteria": {}}
        for c, vals in crit.items():
            sign = 1.0 if higher[c] else -1.0  # correlation of "better by the criterion" with MoF
            pick = int(np.argmax(sign * np.asarray(vals)))
            row["criteria"][c] = {"values": [float(v) for v in vals], "spearman": spearman([sign * v for v in vals], mof),
                                  "picked_seed": pick, "picked_mof": mof[pick]}  # fmt: skip
        row["restarts"] = {str(r): restart_gain(mof, nmi, r) for r in (3, 5) if r < len(rs)}
        out[case] = row
    names = list(out)
    if names:
        crits = list(next(iter(out.values()))["criteria"])
        out["_mean"] = {c: {"spearman": float(np.nanmean([out[n]["criteria"][c]["spearman"] for n in names])),
                            "gain": float(np.mean([out[n]["criteria"][c]["picked_mof"] - out[n]["mean_mof"] for n in names]))}
                        for c in crits}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cases", nargs="*", default=None)
    ap.add_argument("--cache", type=Path, default=HERE / "results" / "restarts_runs.json")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "restarts.json")
    ap.add_argument("--cached-only", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import torch

    torch.set_num_threads(1)
    cache = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    by_name = {c.name: c for c in cases()}
    names = [n for n in ORDER if n in by_name and (args.cases is None or n in args.cases)]
    for seed in range(args.seeds):  # seed-major: every dataset gets seeds early
        for name in names:
            key = f"{name}/{seed}"
            if key in cache or args.cached_only:
                continue
            cache[key] = one_run(by_name[name], seed)
            print(f"{key}: MoF {cache[key]['mof']:.1f} ({cache[key]['seconds']} s)", flush=True)
            tmp = args.cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache))
            os.replace(tmp, args.cache)
    runs = {n: [cache[f"{n}/{s}"] for s in range(args.seeds) if f"{n}/{s}" in cache] for n in names}
    summary = summarise({n: rs for n, rs in runs.items() if len(rs) >= 2})
    crits = list(next(iter(summary.values()))["criteria"]) if summary else []
    print(f"\nSpearman(criterion says better, MoF) over seeds; picked-seed MoF - mean MoF in brackets")
    print(f"{'dataset':<15}{'seeds':>6}{'mean MoF':>10}" + "".join(f"{c:>20}" for c in crits))
    for n, row in summary.items():
        if n.startswith("_"):
            continue
        cells = "".join(f"{row['criteria'][c]['spearman']:>+11.2f} ({row['criteria'][c]['picked_mof'] - row['mean_mof']:+5.1f})" for c in crits)
        print(f"{n:<15}{row['seeds']:>6}{row['mean_mof']:>10.1f}{cells}")
    if "_mean" in summary:
        print(f"{'mean':<31}" + "".join(f"{summary['_mean'][c]['spearman']:>+11.2f} ({summary['_mean'][c]['gain']:+5.1f})" for c in crits))
    print("\n--restarts R simulated on the seeds run (every subset of R seeds): MoF of the most-agreeing seed - mean MoF")
    print(f"{'dataset':<15}{'mean MoF':>10}{'R=3 gain':>10}{'R=3 worst':>11}{'R=5 gain':>10}{'R=5 worst':>11}")
    for n, row in summary.items():
        if n.startswith("_") or not row.get("restarts"):
            continue
        g = row["restarts"]
        cells = "".join(f"{g[r]['mean_gain']:>+10.1f}{g[r]['worst_gain']:>+11.1f}" if r in g else f"{'-':>10}{'-':>11}" for r in ("3", "5"))
        print(f"{n:<15}{row['mean_mof']:>10.1f}{cells}")
    means = {r: [row["restarts"][r]["mean_gain"] for n, row in summary.items() if not n.startswith("_") and r in row.get("restarts", {})]
             for r in ("3", "5")}  # fmt: skip
    print(f"{'mean':<25}" + "".join(f"{np.mean(v):>+10.1f}{'':>11}" for v in means.values() if v))
    meta = {"machine": platform.node(), "load": os.getloadavg(), "torch_threads": 1, "preset": "default"}
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "summary": summary}, indent=1))
    os.replace(tmp, args.json)


if __name__ == "__main__":
    main()

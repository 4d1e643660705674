"""Real-data benchmark of the ASOT pipeline (issue 5): full-matching MoF / F1 / mIoU over
5 seeds, mean +- std, next to k-means + argmax.

* Breakfast sample (``../shared/data/breakfast_coffee``), activity coffee, ``breakfast`` preset, K = 7;
* ActRecTut (``../shared/data/actrectut``, 2 videos of ~32k frames), ``default`` preset, K = 6.

Usage: ``python benchmarks/pipeline.py [--shared ../shared] [--seeds 5] [--json benchmarks/results/pipeline.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from asot.io.labels import write_json
from asot.training.pipeline import train

CASES = [
    {"name": "Breakfast coffee", "data": "data/breakfast_coffee", "dataset": "Breakfast", "preset": "breakfast", "n_clusters": 7},
    {"name": "ActRecTut", "data": "data/actrectut", "dataset": "ActRecTut", "preset": "default", "n_clusters": 6},
]


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=here.parent.parent / "shared")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=here / "results" / "pipeline.json")
    args = ap.parse_args()
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda"):
        logging.getLogger(name).setLevel(logging.WARNING)

    results = {}
    for case in CASES:
        runs = {"ASOT": [], "k-means + argmax": []}
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            res = train(args.shared / case["data"], case["dataset"], None, preset=case["preset"], n_clusters=case["n_clusters"], seed=seed)
            runs["ASOT"].append(res.metrics["full"])
            runs["k-means + argmax"].append(res.metrics["baseline"]["full"])
        summary = {}
        for method, rows in runs.items():
            summary[method] = {
                k: {"mean": float(np.mean([r[k] for r in rows])), "std": float(np.std([r[k] for r in rows])), "runs": [r[k] for r in rows]}
                for k in ("mof", "f1", "miou")
            }
        results[case["name"]] = {"preset": case["preset"], "K": case["n_clusters"], "seeds": args.seeds,
                                 "seconds": round(time.perf_counter() - t0, 1), "full": summary}  # fmt: skip

    print(f"\n{'dataset':<18}{'method':<20}{'MoF':>14}{'F1':>14}{'mIoU':>14}")
    for ds, r in results.items():
        for method, m in r["full"].items():
            cells = "".join(f"{m[k]['mean']:>8.1f} ± {m[k]['std']:<4.1f}" for k in ("mof", "f1", "miou"))
            print(f"{ds:<18}{method:<20}{cells}")
    print(f"(full Hungarian matching, percent, mean ± std over {args.seeds} seeds)")
    write_json(args.json, results)
    print(f"-> {args.json}")


if __name__ == "__main__":
    main()

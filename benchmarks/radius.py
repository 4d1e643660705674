"""Structure radius: the paper's fraction vs a radius in frames vs ``radius="auto"`` (issue 9).

Full-matching MoF / F1 / mIoU (percent), mean over seeds, on
* ActRecTut (``../shared/data/actrectut``, K = 6, ``default`` preset: r = 0.04, rho = 0.15),
* the Breakfast sample (``../shared/data/breakfast_coffee``, ``breakfast`` preset, K = 7),
* the default synthetic demo data (``default`` preset, K = classes per activity).

Settings per row: ``preset`` (paper values), ``auto (radius + rho)`` (``radius="auto"`` for
training and evaluation and ``rho_auto``; see ``docs/radius.md``), ``auto radius, preset rho``,
and for ActRecTut the hand-tuned ``r 0.005, rho 0``.

Usage: ``python benchmarks/radius.py [--seeds 3] [--shared ../shared] [--json benchmarks/results/radius.json]``
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import numpy as np

from asot.io.labels import write_json
from asot.training.pipeline import train


def settings_for(case: str) -> dict[str, dict]:
    rows = {"preset": {}, "auto (radius + rho)": {"train_radius": "auto", "eval_radius": "auto", "rho_auto": True},
            "auto radius, preset rho": {"train_radius": "auto", "eval_radius": "auto"}}
    if case == "ActRecTut":
        rows["r 0.005, rho 0 (hand-tuned)"] = {"train_radius": 0.005, "eval_radius": 0.005, "rho": 0.0}
    return rows


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=here.parent.parent / "shared")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--synthetic", type=Path, default=None, help="folder of the synthetic demo data (generated if absent)")
    ap.add_argument("--json", type=Path, default=here / "results" / "radius.json")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    from asot.data import DEMO, generate_dataset

    synthetic_root = args.synthetic or Path("/tmp/asot-radius-bench")
    generate_dataset(synthetic_root, DEMO)
    cases = [
        ("ActRecTut", args.shared / "data/actrectut", "ActRecTut", "default", 6),
        ("Breakfast coffee", args.shared / "data/breakfast_coffee", "Breakfast", "breakfast", 7),
        ("Synthetic demo", synthetic_root, "Synthetic", "default", None),
    ]
    results: dict[str, dict] = {}
    for name, root, dataset, preset, k in cases:
        results[name] = {}
        for label, overrides in settings_for(name).items():
            t0 = time.perf_counter()
            runs = [train(root, dataset, None, preset=preset, n_clusters=k, seed=seed, overrides=overrides,
                          figures=False, baseline=False).metrics["full"] for seed in range(args.seeds)]
            results[name][label] = {m: float(np.mean([r[m] for r in runs])) for m in ("mof", "f1", "miou")}
            results[name][label]["runs_mof"] = [r["mof"] for r in runs]
            results[name][label]["seconds"] = round(time.perf_counter() - t0, 1)
            row = results[name][label]
            print(f"{name:<18}{label:<30}{row['mof']:>7.1f}{row['f1']:>7.1f}{row['miou']:>7.1f}", flush=True)
    write_json(args.json, {"seeds": args.seeds, "results": results})
    print(f"(full matching, percent, mean over seeds 0-{args.seeds - 1}) -> {args.json}")


if __name__ == "__main__":
    main()

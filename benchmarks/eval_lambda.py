"""The evaluation solver's action-marginal weight beyond the leave-one-out grid.

``benchmarks/quality.py`` chooses the data-driven default's evaluation ``lambda`` from
{0.10, 0.01, 0.05} and picked its largest value, 0.10, on every fold, so the grid stopped where
the choice did. This script trains the ``default`` preset as shipped (``asot train --preset
default``, K as in ``quality.py``) on every dataset of ``benchmarks/_quality_cases.py`` and
re-scores each trained model with the evaluation solver at lambda in {0.1, 0.2, 0.3, 0.5, 1.0}
(eps 0.04; the evaluation solver does not change training). Full MoF, mean +- std over seeds;
prints the table and writes JSON (runs cached in the JSON, so an interrupted run resumes).

Usage: ``python benchmarks/eval_lambda.py [--seeds 5] [--json benchmarks/results/eval_lambda.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from asot.io.atomic import atomic_write_text

from _quality_cases import HERE, cases, eval_key, mean_std, open_results, run

LAMBDAS = (0.1, 0.2, 0.3, 0.5, 1.0)
EPS = 0.04


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "eval_lambda.json")
    args = parser.parse_args(argv)
    out, runs = open_results(args.json)
    grid = tuple((EPS, lam) for lam in LAMBDAS)
    for case in cases():
        for seed in range(args.seeds):
            key = f"{case.name} seed {seed}"
            if key in runs:
                continue
            r = run(case, "default", seed, {}, eval_settings=grid, baselines=True)
            runs[key] = {"case": case.name, "seed": seed, "shipped_mof": r["full"]["mof"],
                         "mof": {f"{lam:g}": r["eval"][eval_key(EPS, lam)]["full"]["mof"] for lam in LAMBDAS},
                         "baselines_mof": {m: v["full"]["mof"] for m, v in r["baselines"].items()}}  # fmt: skip
            out["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()}
            atomic_write_text(args.json, json.dumps(out, indent=2))
    names = list(dict.fromkeys(r["case"] for r in runs.values()))
    table = {}
    header = "| dataset | " + " | ".join(f"lambda {lam:g}" for lam in LAMBDAS) + " | best training-free baseline |"
    lines = [header, "| --- " * (len(LAMBDAS) + 2) + "|"]
    for name in names:
        rows = [r for r in runs.values() if r["case"] == name and r["seed"] < args.seeds]
        cells = {f"{lam:g}": mean_std(r["mof"][f"{lam:g}"] for r in rows) for lam in LAMBDAS}
        best = max(mean_std(r["baselines_mof"][m] for r in rows)[0] for m in rows[0]["baselines_mof"])
        table[name] = {"seeds": len(rows), "mof": cells, "best_baseline_mof": best}
        lines.append(f"| {name} | " + " | ".join(f"{m:.1f} +- {s:.1f}" for m, s in cells.values()) + f" | {best:.1f} |")
    out["table"] = table
    atomic_write_text(args.json, json.dumps(out, indent=2))
    print("\n".join(lines))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

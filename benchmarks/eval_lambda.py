"""The evaluation solver's action-marginal weight beyond the leave-one-out grid, and on fresh draws.

``benchmarks/quality.py`` chooses the data-driven default's evaluation ``lambda`` from
{0.10, 0.01, 0.05}. This script trains the ``default`` preset as shipped (``asot train --preset
default``, K as in ``quality.py``) on every dataset of ``benchmarks/_quality_cases.py`` (seeds
``--seeds``) and on the fresh draws of the synthetic families (``_quality_cases.fresh_draws``,
seeds ``--fresh-seeds``; nothing was tuned on them), and re-scores each trained model with the
evaluation solver at lambda in :data:`LAMBDAS` (eps 0.04; the evaluation solver does not change
training). Full MoF, mean +- std over seeds; prints the tables and writes JSON (runs cached in
the JSON, so an interrupted run resumes). ``results/eval_lambda_paper_anchor.json`` is the same
for the default before its prior was centred (lambda 0.1 ... 1, no fresh draws).

Usage: ``python benchmarks/eval_lambda.py [--seeds 5] [--fresh-seeds 2] [--json benchmarks/results/eval_lambda.json]``
"""

from __future__ import annotations

import json
import os
import platform

from asot.io.atomic import atomic_write_text

from _quality_cases import cases, eval_key, fresh_draws, mean_std, open_results, run, seeds_parser

LAMBDAS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
EPS = 0.04


def main(argv=None) -> None:
    args = seeds_parser(__doc__, "eval_lambda.json").parse_args(argv)
    out, runs = open_results(args.json)
    grid = tuple((EPS, lam) for lam in LAMBDAS)
    main_cases, fresh = cases(), fresh_draws()
    plan = [(c, seed) for c in main_cases for seed in range(args.seeds)] + [(c, seed) for c in fresh for seed in range(args.fresh_seeds)]
    for case, seed in plan:
        key = f"{case.name} seed {seed}"
        if key in runs:
            continue
        r = run(case, "default", seed, {}, eval_settings=grid, baselines=True)
        runs[key] = {"case": case.name, "seed": seed, "shipped_mof": r["full"]["mof"],
                     "mof": {f"{lam:g}": r["eval"][eval_key(EPS, lam)]["full"]["mof"] for lam in LAMBDAS},
                     "baselines_mof": {m: v["full"]["mof"] for m, v in r["baselines"].items()}}  # fmt: skip
        out["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()}
        atomic_write_text(args.json, json.dumps(out, indent=2))
    table = {}
    header = "| dataset | " + " | ".join(f"lambda {lam:g}" for lam in LAMBDAS) + " | best training-free baseline |"
    lines = [header, "| --- " * (len(LAMBDAS) + 2) + "|"]
    groups = [(c.name, [c.name], args.seeds) for c in main_cases]
    families = list(dict.fromkeys(c.name.split("@")[0] for c in fresh))
    groups += [(f"{fam} fresh draws", [c.name for c in fresh if c.name.split("@")[0] == fam], args.fresh_seeds) for fam in families]
    groups.append(("all fresh draws", [c.name for c in fresh], args.fresh_seeds))
    for label, members, n_seeds in groups:
        # a dataset's mean over its seeds, then the mean over the datasets of the group
        per = {name: [r for r in runs.values() if r["case"] == name and r["seed"] < n_seeds] for name in members}
        cells = {f"{lam:g}": mean_std(mean_std(r["mof"][f"{lam:g}"] for r in rs)[0] for rs in per.values()) if len(members) > 1
                 else mean_std(r["mof"][f"{lam:g}"] for r in per[members[0]]) for lam in LAMBDAS}  # fmt: skip
        best = float(sum(max(mean_std(r["baselines_mof"][m] for r in rs)[0] for m in rs[0]["baselines_mof"])
                         for rs in per.values()) / len(per))  # fmt: skip
        table[label] = {"datasets": members, "seeds": n_seeds, "mof": cells, "best_baseline_mof": best}
        lines.append(f"| {label} | " + " | ".join(f"{m:.1f} +- {s:.1f}" for m, s in cells.values()) + f" | {best:.1f} |")
    out["table"] = table
    atomic_write_text(args.json, json.dumps(out, indent=2))
    print("\n".join(lines))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Where the temporal prior anchors an action, and the order retraining's weight, by leave-one-dataset-out.

The paper's prior ``R_ij = |i/N - j/K|`` expects action ``j`` around ``j/K``, the START of the
``j``-th of ``K`` equal parts, so its boundaries fall half a part early (action 0 gets half a
part, the last action one and a half). The centred prior ``|(i + 1/2)/N - (j + 1/2)/K|``
(:func:`asot.temporal_prior`, ``centred=True``) compares centres. This script trains the
``default`` preset (``asot train --data ROOT --dataset NAME --out RUN --n-clusters K``, K as in
``benchmarks/quality.py``) on every dataset of ``benchmarks/_quality_cases.py`` with

* the prior: paper or centred (``prior_centred``);
* the weight of the order-consistency retraining (``asot.training.order_prior.ORDERED_RHO``):
  none (the first model kept), 0.3, 0.45 or 0.6 (and, with the centred prior and 0.3, the
  retraining threshold ``ORDER_THRESHOLD`` 0.95 instead of 0.9),

and chooses the pair by leave-one-dataset-out: for each held-out dataset, the pair with the best
mean full MoF over the other datasets, scored on the held-out one. Then it checks the choice on
**fresh draws** of the synthetic families (other generator seeds, ``_quality_cases.fresh_draws``;
seeds 0-1 of training, :data:`FRESH_VARIANTS`), which nothing was tuned on. To explain the
results it also reports, from the labels (a diagnostic, not used by any rule), how far each
prior's partition is from the truth: the mean over videos and segments of ``|true segment
centre - the partition's centre|`` for the segments in their order of appearance (paper: action 0
takes ``[0, 1/(2K)]``, the last one ``[1 - 3/(2K), 1]``; centred: ``K`` equal parts). Full MoF,
mean +- std over seeds; prints the tables and writes JSON (runs cached in the JSON, so an
interrupted run resumes).

Usage: ``python benchmarks/prior_anchor.py [--seeds 5] [--fresh-seeds 2] [--json benchmarks/results/prior_anchor.json]``
"""

from __future__ import annotations

import json
import os
import platform

import numpy as np

from asot.io.atomic import atomic_write_text

from _quality_cases import cases, fresh_draws, mean_std, open_results, run, seeds_parser

#: variant -> (prior_centred, ORDERED_RHO or None: no retraining, ORDER_THRESHOLD)
VARIANTS = {f"{anchor}, {'no retraining' if rho is None else f'retrain rho {rho:g}'}": (anchor == "centred", rho, 0.9)
            for anchor in ("paper", "centred") for rho in (None, 0.3, 0.45, 0.6)}  # fmt: skip
#: the retraining threshold that quality.py's leave-one-out leaned to with the centred prior
VARIANTS["centred, retrain rho 0.3, threshold 0.95"] = (True, 0.3, 0.95)
NO_RETRAINING = 1.1  # an ORDER_THRESHOLD no Kendall tau reaches
#: the variants trained on the fresh draws: the previous and the new default, and each anchor without retraining
FRESH_VARIANTS = ("paper, retrain rho 0.6", "centred, retrain rho 0.3", "centred, retrain rho 0.6", "paper, no retraining",
                  "centred, no retraining", "centred, retrain rho 0.3, threshold 0.95")  # fmt: skip


def partition_error(case) -> dict[str, float]:
    """Mean ``|true segment centre - partition centre|`` of each anchor (see the module doc)."""
    from asot.data import load_dataset

    errors: dict[str, list[float]] = {"paper": [], "centred": []}
    for video in load_dataset(case.root, case.dataset):
        labels = np.asarray(video.labels)
        edges = np.r_[0, np.flatnonzero(np.diff(labels)) + 1, labels.size] / labels.size
        centres, k = (edges[:-1] + edges[1:]) / 2, edges.size - 1
        part = np.arange(k, dtype=np.float64)
        paper = part / k
        paper[0], paper[-1] = 0.25 / k, (k - 0.75) / k  # the paper prior's first / last parts
        if k == 1:
            paper[0] = 0.5
        errors["paper"].append(float(np.abs(centres - paper).mean()))
        errors["centred"].append(float(np.abs(centres - (part + 0.5) / k).mean()))
    return {a: float(np.mean(e)) for a, e in errors.items()}


def train_variant(case, seed: int, centred: bool, ordered_rho: float | None, threshold: float) -> dict:
    constants = {"ORDER_THRESHOLD": NO_RETRAINING} if ordered_rho is None else {"ORDERED_RHO": ordered_rho, "ORDER_THRESHOLD": threshold}
    r = run(case, "default", seed, {"prior_centred": centred}, constants=constants, baselines=True)
    return {"case": case.name, "seed": seed, "mof": r["full"]["mof"], "f1": r["full"]["f1"], "miou": r["full"]["miou"],
            "baselines_mof": {m: v["full"]["mof"] for m, v in r["baselines"].items()}, "seconds": r["seconds"]}  # fmt: skip


def leave_one_out(means: dict[str, dict[str, float]]) -> dict[str, dict]:
    names = list(means)
    out = {}
    for held in names:
        others = [n for n in names if n != held]
        chosen = max(VARIANTS, key=lambda v: sum(means[n][v] for n in others) / len(others))
        out[held] = {"chosen": chosen, "held_out_mof": means[held][chosen]}
    return out


def main(argv=None) -> None:
    args = seeds_parser(__doc__, "prior_anchor.json").parse_args(argv)
    out, runs = open_results(args.json)
    all_cases, fresh = cases(), fresh_draws()
    plan = [(case, variant, seed) for seed in range(args.seeds) for case in all_cases for variant in VARIANTS]
    plan += [(case, variant, seed) for seed in range(args.fresh_seeds) for case in fresh for variant in FRESH_VARIANTS]
    for case, variant, seed in plan:
        key = f"{case.name} | {variant} | seed {seed}"
        if key not in runs:
            runs[key] = {"variant": variant, **train_variant(case, seed, *VARIANTS[variant])}
            out["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()}
            atomic_write_text(args.json, json.dumps(out, indent=2))
    out["partition_error"] = {c.name: partition_error(c) for c in all_cases + fresh}
    names = [c.name for c in all_cases]
    table, means = {}, {}
    lines = ["| dataset | " + " | ".join(VARIANTS) + " | best training-free baseline (paper / centred prior) | partition error paper / centred |",
             "| --- " * (len(VARIANTS) + 3) + "|"]  # fmt: skip
    for name in names:
        rows = {v: [r for r in runs.values() if r["case"] == name and r["variant"] == v and r["seed"] < args.seeds] for v in VARIANTS}
        cells = {v: mean_std(r["mof"] for r in rs) for v, rs in rows.items()}
        best = {}
        for anchor in ("paper", "centred"):
            rs = rows[f"{anchor}, no retraining"]
            best[anchor] = max(mean_std(r["baselines_mof"][m] for r in rs)[0] for m in rs[0]["baselines_mof"])
        table[name] = {"seeds": len(rows[next(iter(VARIANTS))]), "mof": cells, "best_baseline_mof": best}
        means[name] = {v: m for v, (m, _) in cells.items()}
        lines.append(f"| {name} | " + " | ".join(f"{m:.1f} +- {s:.1f}" for m, s in cells.values())
                     + f" | {best['paper']:.1f} / {best['centred']:.1f} | {out['partition_error'][name]['paper']:.3f} / "
                       f"{out['partition_error'][name]['centred']:.3f} |")  # fmt: skip
    lines.append("| mean | " + " | ".join(f"{sum(means[n][v] for n in names) / len(names):.1f}" for v in VARIANTS) + " | | |")
    lodo = leave_one_out(means)
    lines += ["", "| held-out dataset | chosen on the other datasets | held-out MoF |", "| --- | --- | --- |"]
    lines += [f"| {n} | {c['chosen']} | {c['held_out_mof']:.1f} |" for n, c in lodo.items()]
    lines.append(f"| mean | | {sum(c['held_out_mof'] for c in lodo.values()) / len(lodo):.1f} |")
    lines += ["", "Fresh draws (seeds 0-%d of training; partition error: paper / centred, from the labels):" % (args.fresh_seeds - 1), "",
              "| draw | " + " | ".join(FRESH_VARIANTS) + " | partition error paper / centred |", "| --- " * (len(FRESH_VARIANTS) + 2) + "|"]
    fresh_table: dict[str, dict] = {}
    for case in fresh:
        rows = {v: [r for r in runs.values() if r["case"] == case.name and r["variant"] == v and r["seed"] < args.fresh_seeds]
                for v in FRESH_VARIANTS}  # fmt: skip
        cells = {v: mean_std(r["mof"] for r in rs)[0] for v, rs in rows.items()}
        err = out["partition_error"][case.name]
        fresh_table[case.name] = {"mof": cells, "partition_error": err}
        lines.append(f"| {case.name} | " + " | ".join(f"{m:.1f}" for m in cells.values())
                     + f" | {err['paper']:.3f} / {err['centred']:.3f} |")  # fmt: skip
    families = sorted({n.split("@")[0] for n in fresh_table}, key=[c.name for c in all_cases].index)
    for fam in families + ["all draws"]:
        draws = [t for n, t in fresh_table.items() if fam == "all draws" or n.split("@")[0] == fam]
        lines.append(f"| {fam} mean | " + " | ".join(f"{np.mean([d['mof'][v] for d in draws]):.1f}" for v in FRESH_VARIANTS)
                     + f" | {np.mean([d['partition_error']['paper'] for d in draws]):.3f} / "
                       f"{np.mean([d['partition_error']['centred'] for d in draws]):.3f} |")  # fmt: skip
    out["table"], out["lodo"], out["fresh"] = table, lodo, fresh_table
    atomic_write_text(args.json, json.dumps(out, indent=2))
    print("\n".join(lines))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

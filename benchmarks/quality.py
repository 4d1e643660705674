"""Segmentation quality on data nobody tuned on: datasets x methods x seeds, and the
leave-one-dataset-out (LODO) choice of the data-driven default's constants.

Datasets (``benchmarks/_quality_cases.py``): the Breakfast sample and ActRecTut from
``../shared/data`` and five synthetic families. Methods per dataset:

* ``paper preset`` -- the paper's preset where the paper has one (Breakfast), else the
  ``default`` preset with the paper's fixed values (r = 0.04, rho = 0.15, the paper's prior |i/N - j/K|);
* ``data-driven default`` -- ``asot train --preset default`` as shipped (``docs/defaults.md``);
* the training-free baselines of the data-driven run (``asot.training.baselines``).

Full and per-video MoF / F1 / mIoU (percent, Hungarian matching as ``asot train``), mean +- std
over seeds, seconds per run. ``--lodo`` also trains the variants of the rule's constants and
writes the leave-one-dataset-out table (each dataset scored with constants chosen on the
others). Every run is cached in ``benchmarks/results/quality_runs.json`` so that an interrupted
benchmark resumes.

Usage: ``python benchmarks/quality.py [--seeds 3] [--lodo] [--lodo-seeds 2]``
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

from _quality_cases import HERE, cases, eval_key, mean_std, run

PAPER_VALUES = {"train_radius": 0.04, "eval_radius": 0.04, "rho_auto": False, "prior_centred": False}
#: the rule's constants and the values LODO chooses from (the first is the shipped value)
GRID = {
    "SEGMENT_RADIUS_PER_SEGMENT": (1 / 3, 1 / 6, 2 / 3),
    "RECURRING_RADIUS_PER_SEGMENT": (0.125, 0.0625, 0.25),
    "rho": (0.15, 0.3, 0.6),
    "prior_centred": (True, False),
    "ORDER_THRESHOLD": (0.9, 0.8, 0.95),
    "ORDERED_RHO": (0.3, 0.6, 1.0),
    "eval_eps": (0.04, 0.02, 0.07),
    "eval_lambda": (0.1, 0.01, 0.05),
}
#: constants of the grid that are preset fields (given as overrides; the rest are module constants)
PRESET_FIELDS = ("rho", "prior_centred")
#: constants of the evaluation solver: every data-driven run is re-scored on the whole grid of them
EVAL = ("eval_eps", "eval_lambda")
METRICS = ("mof", "f1", "miou")
#: the trained methods of the table (each dataset x method x seed is one cached run; the
#: baselines come with the data-driven run). A new method adds its name here and a branch in
#: :func:`run_method`.
METHODS = ("paper preset", "data-driven default", "default, restarts 3")
#: ``--restarts`` of the restarts row (docs/model_selection.md)
RESTARTS = 3
#: the version of the data-driven rule, part of its runs' cache keys: change it whenever the
#: rule changes so that no stale run is reused ("occurrences": the flicker-robust recurrence
#: test and the actions-present radius of asot.ot.radius; "+order": the retraining with the
#: stronger prior where the trained model's order of actions is consistent, asot.training.order_prior;
#: "+centred": the prior compares centres, asot.temporal_prior(centred=True), and the retraining's weight is 0.3;
#: "+minrun": the final segmentation keeps no run shorter than half a structure radius, min_run_radii 0.5)
RULE = "occurrences+order+centred+minrun"


class Cache:
    def __init__(self, path: Path, cached_only: bool = False) -> None:
        self.path = path
        self.cached_only = cached_only
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def get(self, key: str, compute):
        if key not in self.data:
            if self.cached_only:
                return None
            self.data[key] = compute()
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, default=str))
            os.replace(tmp, self.path)
        return self.data[key]


def rule_values(changes: dict[str, float] | None = None) -> dict[str, float]:
    """The training constants of a data-driven run: the shipped values (first of each grid) with
    ``changes`` (the evaluation eps is re-scored on the same run, not trained)."""
    values = {k: v[0] for k, v in GRID.items() if k not in EVAL}
    return {**values, **(changes or {})}


def variant_key(case: str, method: str, seed: int, **extra) -> str:
    return json.dumps([case, method, seed, sorted(extra.items())])


def run_method(cache: Cache, case, method: str, seed: int, changes: dict[str, float] | None = None) -> dict:
    """One cached run. A data-driven run is keyed by the rule version and all its constants, so
    the shipped run and a LODO variant with the same values are one run."""
    if method == "paper preset":
        preset, overrides = (case.paper_preset, {}) if case.paper_preset else ("default", dict(PAPER_VALUES))
        return cache.get(variant_key(case.name, method, seed), lambda: run(case, preset, seed, overrides))
    from asot import get_preset

    shipped_eval = get_preset("default").eval_solver  # the run's own metrics are at the preset's evaluation solver
    preset_eval = [shipped_eval.eps, shipped_eval.lambda_actions]
    if method == "default, restarts 3":  # seeds 3s, 3s + 1, 3s + 2 (disjoint over s), the most-agreeing kept
        key = variant_key(case.name, method, seed, rule=RULE, preset_eval=preset_eval)
        return cache.get(key, lambda: run(case, "default", RESTARTS * seed, restarts=RESTARTS))
    values = rule_values(changes)
    constants = {k: v for k, v in values.items() if k not in PRESET_FIELDS}
    grid = tuple((e, l) for e in GRID["eval_eps"] for l in GRID["eval_lambda"])
    key = variant_key(case.name, method, seed, rule=RULE, eval=[list(g) for g in grid], preset_eval=preset_eval, **values)
    overrides = {k: values[k] for k in PRESET_FIELDS}
    return cache.get(key, lambda: run(case, "default", seed, overrides, eval_settings=grid, constants=constants,
                                      baselines=True))  # fmt: skip


def score(r: dict, eps: float | None = None, lambda_actions: float | None = None) -> float:
    """Full MoF of a run (re-scored with another evaluation eps / lambda when given; NaN for a
    run not cached)."""
    if r is None:
        return float("nan")
    if eps is None and lambda_actions is None:
        return r["full"]["mof"]
    eps = GRID["eval_eps"][0] if eps is None else eps
    lambda_actions = GRID["eval_lambda"][0] if lambda_actions is None else lambda_actions
    return r["eval"][eval_key(eps, lambda_actions)]["full"]["mof"]


def lodo(cache: Cache, all_cases, seeds) -> dict:
    """Coordinate-wise choice of each constant on the other datasets; the held-out dataset scored
    at the chosen combination (trained there when it is not in the cache)."""
    names = [c.name for c in all_cases]
    by_name = {c.name: c for c in all_cases}
    recurring = {}
    for c in all_cases:
        first = run_method(cache, c, "data-driven default", seeds[0])
        chosen = (first or {}).get("chosen") or {}
        recurring[c.name] = any(v.get("recurring") for v in chosen.values())

    def relevant(constant: str, case: str) -> bool:  # a constant that cannot change a dataset's run
        if constant == "SEGMENT_RADIUS_PER_SEGMENT":
            return not recurring[case]
        if constant == "RECURRING_RADIUS_PER_SEGMENT":
            return recurring[case]
        if constant in ("rho", "prior_centred", "ORDER_THRESHOLD", "ORDERED_RHO"):
            return not recurring[case]  # rho_auto switches the prior off when actions recur
        return True

    def mof(case: str, constant: str, value: float) -> float:
        c = by_name[case]
        vals = []
        for seed in seeds:
            if constant in EVAL:
                rescore = {"eps": value} if constant == "eval_eps" else {"lambda_actions": value}
                vals.append(score(run_method(cache, c, "data-driven default", seed), **rescore))
            elif value == GRID[constant][0] or not relevant(constant, case):
                vals.append(score(run_method(cache, c, "data-driven default", seed)))
            else:
                vals.append(score(run_method(cache, c, "data-driven default", seed, {constant: value})))
        return float(np.nanmean(vals))

    table = {}
    for held in names:
        others = [n for n in names if n != held]
        chosen = {}
        for constant, values in GRID.items():
            means = {v: float(np.nanmean([mof(o, constant, v) for o in others])) for v in values}
            chosen[constant] = max(values, key=lambda v: (round(means[v], 6), v == values[0]))
        # the held-out score at the chosen combination (trained there when not in the cache)
        train_changes = {k: v for k, v in chosen.items() if k not in EVAL and v != GRID[k][0] and relevant(k, held)}
        held_scores = [score(run_method(cache, by_name[held], "data-driven default", seed, train_changes), chosen["eval_eps"],
                             chosen["eval_lambda"]) for seed in seeds]  # fmt: skip
        shipped = [score(run_method(cache, by_name[held], "data-driven default", s)) for s in seeds]
        table[held] = {"chosen": {k: round(v, 4) for k, v in chosen.items()}, "held_out_mof": float(np.nanmean(held_scores)),
                       "shipped_mof": float(np.nanmean(shipped))}  # fmt: skip
    variants = {n: {f"{k} {v:.4g}": round(mof(n, k, v), 2) for k, values in GRID.items() for v in values} for n in names}
    return {"seeds": list(seeds), "grid": {k: list(v) for k, v in GRID.items()}, "recurring": recurring, "table": table,
            "variants": variants}  # fmt: skip


def summarise(runs: list[dict]) -> dict:
    out = {}
    for protocol in ("full", "per_video"):
        out[protocol] = {m: mean_std(r[protocol][m] for r in runs) for m in METRICS}
    out["runs_mof"] = [r["full"]["mof"] for r in runs]
    out["n_seeds"] = len(runs)
    out["seconds"] = mean_std(r["seconds"] for r in runs)[0]
    return out


def markdown(out: dict) -> str:
    lines = ["| dataset | method | seeds | MoF | F1 | mIoU | MoF per video | F1 per video | mIoU per video | s / run |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for case, rows in out["results"].items():
        for method, row in rows.items():
            f, v = row["full"], row["per_video"]
            cells = [f"{f[m][0]:.1f} +- {f[m][1]:.1f}" for m in METRICS] + [f"{v[m][0]:.1f} +- {v[m][1]:.1f}" for m in METRICS]
            secs = "-" if row["seconds"] != row["seconds"] else f"{row['seconds']:.0f}"
            lines.append(f"| {case} | {method} | {row['n_seeds']} | " + " | ".join(cells) + f" | {secs} |")
    if "lodo" in out:
        lines += ["", "| held-out dataset | constants chosen on the other datasets | held-out MoF | shipped constants MoF |",
                  "| --- | --- | --- | --- |"]  # fmt: skip
        for held, row in out["lodo"]["table"].items():
            chosen = ", ".join(f"{k} {v:g}" for k, v in row["chosen"].items())
            lines.append(f"| {held} | {chosen} | {row['held_out_mof']:.1f} | {row['shipped_mof']:.1f} |")
        variants = out["lodo"].get("variants", {})
        if variants:
            names = list(next(iter(variants.values())))
            lines += ["", "| dataset | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
            lines += [f"| {case} | " + " | ".join(f"{row[n]:.1f}" for n in names) + " |" for case, row in variants.items()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--lodo", action="store_true")
    ap.add_argument("--lodo-seeds", type=int, default=2)
    ap.add_argument("--cases", nargs="*", default=None)
    ap.add_argument("--methods", nargs="*", default=None, help=f"the trained methods to run (default: all of {', '.join(METHODS)}); "
                    "the paper preset and the data-driven default are always run")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the tables as markdown to this file (docs/defaults.md)")
    ap.add_argument("--cached-only", action="store_true", help="report the cached runs only (missing seeds left out)")
    ap.add_argument("--cache", type=Path, default=HERE / "results" / "quality_runs.json")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "quality.json")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import torch

    cache = Cache(args.cache, args.cached_only)
    all_cases = [c for c in cases() if args.cases is None or c.name in args.cases]
    seeds = list(range(args.seeds))
    results: dict[str, dict] = {}
    t0 = time.perf_counter()
    print(f"{'dataset':<15}{'method':<22}{'MoF':>13}{'F1':>13}{'mIoU':>13}{'MoF/video':>13}{'s/run':>7}", flush=True)
    for case in all_cases:
        results[case.name] = {}
        runs = {m: [r for r in (run_method(cache, case, m, s) for s in seeds) if r is not None]
                for m in METHODS if m in ("paper preset", "data-driven default") or args.methods is None or m in args.methods}  # fmt: skip
        if not runs["data-driven default"] or not runs["paper preset"]:
            continue
        rows = {m: summarise(rs) for m, rs in runs.items() if rs}
        for method in runs["data-driven default"][0]["baselines"]:
            rows[method] = summarise([{**r["baselines"][method], "seconds": float("nan")} for r in runs["data-driven default"]])
        rows["data-driven default"]["chosen"] = runs["data-driven default"][0]["chosen"]
        for method, row in rows.items():
            results[case.name][method] = row
            f, v = row["full"], row["per_video"]
            print(f"{case.name:<15}{method:<22}" + "".join(f"{f[m][0]:>7.1f}+-{f[m][1]:<4.1f}" for m in METRICS)
                  + f"{v['mof'][0]:>7.1f}+-{v['mof'][1]:<4.1f}{row['seconds']:>7.1f}", flush=True)  # fmt: skip
    out = {"seeds": seeds, "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                                       "load_average": os.getloadavg()},  # fmt: skip
           "reductions": "seeds 0-%d (LODO: seeds 0-%d), the presets' epochs, synthetic families of 6-10 videos of one activity"
                         % (args.seeds - 1, args.lodo_seeds - 1),
           "rule": RULE,
           "results": results}  # fmt: skip
    if args.lodo:
        out["lodo"] = lodo(cache, all_cases, list(range(args.lodo_seeds)))
        print("\nleave-one-dataset-out (constants chosen on the other datasets; full MoF, seeds 0-%d)" % (args.lodo_seeds - 1))
        for held, row in out["lodo"]["table"].items():
            print(f"{held:<15} held-out {row['held_out_mof']:6.1f}  shipped {row['shipped_mof']:6.1f}  chosen {row['chosen']}")
    out["seconds_total"] = round(time.perf_counter() - t0, 1)
    if args.markdown:
        args.markdown.write_text(markdown(out) + "\n")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1, default=str))
    print(f"-> {args.json}")


if __name__ == "__main__":
    main()

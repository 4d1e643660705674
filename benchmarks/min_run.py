"""A minimum-run (flicker) filter on the default preset's final segmentation, by leave-one-dataset-out.

Trains the ``default`` preset (``asot train --data ROOT --dataset NAME --out RUN --n-clusters K``,
K as in ``benchmarks/quality.py``) on every dataset of ``benchmarks/_quality_cases.py``, seeds
0-4, and on the fresh draws of the synthetic families (``_quality_cases.fresh_draws``, seeds 0-1
of training, nothing tuned on them). The trained model's test labels (what ``metrics.json``
scores) are then filtered with :func:`asot.runs.min_run` for every fraction ``f`` in
:data:`FRACTIONS`: runs shorter than ``L = max(1, round(f N))`` frames are merged, shortest first,
into the neighbour whose label costs those frames less on the model's cost ``1 - X A^T + rho R``
(``"cost"``; the variant ``"longer"`` always takes the longer neighbour). Full Hungarian MoF / F1 /
mIoU with the project's metrics (``asot.metrics``, the matching of the quality benchmark).

Criterion, fixed before the runs: for each held-out dataset, ``f`` maximises the mean full F1 over
the other six datasets among the ``f`` whose mean full MoF over them is at most
:data:`MOF_TOLERANCE` below that of ``f = 0`` (no filter); the held-out dataset is scored with it.

Exploratory, added after the first leave-one-out (its ActRecTut fold chose ``f = 0.03`` and lost
4.5 MoF: a fraction of the video is the wrong scale for 43 segments per recording): ``L = round(c
r_b N)``, a multiple ``c`` of the structure radius ``r_b`` that the evaluation solver measured for
the video (``radius="auto"``: a third of the mean segment when actions occur once, an eighth of the
self-similarity scale when they recur), chosen by the same criterion over :data:`RADIUS_FACTORS`
(:data:`RADIUS_EXTRA` only shown).

Runs are cached in the JSON (scores only, about 3 kB per run), so an interrupted run resumes.

Usage: ``python benchmarks/min_run.py [--seeds 5] [--fresh-seeds 2] [--json benchmarks/results/min_run.json]``
"""

from __future__ import annotations

import json
import os
import platform
import time

import numpy as np

from asot.io.atomic import atomic_write_text

from _quality_cases import cases, fresh_draws, mean_std, open_results, seeds_parser

FRACTIONS = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.03)
RULES = ("cost", "longer")
#: exploratory, added after the fraction's leave-one-out (ActRecTut's fold): ``L = round(c r_b N)``, ``r_b`` the
#: structure radius the evaluation solver measured for the video (a fraction of it), merge rule ``"cost"``
RADIUS_FACTORS = (0.125, 0.25, 0.5, 1.0)
#: larger factors, scored and shown but not in the leave-one-out grid (where does the filter start to hurt?)
RADIUS_EXTRA = (2.0, 4.0)
MOF_TOLERANCE = 0.2
METRICS = ("mof", "f1", "miou")


def rounded(obj, digits: int = 3):
    """``obj`` with every float rounded (keeps the JSON small)."""
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v, digits) for v in obj]
    return obj


def fkey(rule: str, f: float) -> str:
    return f"{rule} f {f:g}"


def train_and_filter(case, seed: int) -> dict:
    """Train the default preset on ``case``; scores of the test labels filtered with every ``f``."""
    import torch

    from asot.data import load_dataset
    from asot.runs import count_runs, min_run
    from asot.training.pipeline import aggregate_activities, evaluate_predictions, train

    t0 = time.perf_counter()
    res = train(case.root, case.dataset, None, preset="default", n_clusters=case.k, seed=seed, figures=False, baseline=False)
    seconds = time.perf_counter() - t0
    exclude = res.preset.exclude_labels
    costs: dict[str, dict[str, np.ndarray]] = {}
    radius: dict[str, float] = {}
    for act, r in res.activities.items():
        vids = load_dataset(case.root, case.dataset, activities=[act], standardise=res.preset.standardise, mapping=res.preset.mapping)
        module = r.module
        with torch.no_grad():
            costs[act] = {}
            for v in vids:
                x = torch.from_numpy(v.features)[None]
                mask = torch.ones(x.shape[:2], dtype=torch.bool)
                costs[act][v.name] = module.asot_cost(module.similarity(x), mask)[0].double().numpy()
                radius[v.name] = float(module.radii(module.eval_solver, x, mask)[0])
    out = {"case": case.name, "seed": seed, "seconds": round(seconds, 2), "shipped_full": res.metrics["full"], "scores": {}}
    for rule in RULES:
        for f in FRACTIONS:
            if rule == "longer" and f == 0:
                continue
            per_act, runs_per_video = {}, []
            for act, r in res.activities.items():
                preds = {n: min_run(p, f, costs[act][n] if rule == "cost" else None) for n, p in r.predictions.items()}
                runs_per_video += [count_runs(p) for p in preds.values()]
                per_act[act] = (preds, r.ground_truth, evaluate_predictions(preds, r.ground_truth, exclude))
            full = aggregate_activities(per_act, exclude)["full"]
            out["scores"][fkey(rule, f)] = {**{m: float(full[m]) for m in METRICS}, "runs_per_video": float(np.mean(runs_per_video))}
    for c in (*RADIUS_FACTORS, *RADIUS_EXTRA):
        per_act, runs_per_video = {}, []
        for act, r in res.activities.items():
            preds = {n: min_run(p, min(c * radius[n], 0.5), costs[act][n]) for n, p in r.predictions.items()}
            runs_per_video += [count_runs(p) for p in preds.values()]
            per_act[act] = (preds, r.ground_truth, evaluate_predictions(preds, r.ground_truth, exclude))
        full = aggregate_activities(per_act, exclude)["full"]
        out["scores"][f"radius c {c:g}"] = {**{m: float(full[m]) for m in METRICS}, "runs_per_video": float(np.mean(runs_per_video))}
    out["radius"] = radius
    gt_runs = [count_runs(g) for r in res.activities.values() for g in r.ground_truth.values()]
    out["true_runs_per_video"] = float(np.mean(gt_runs))
    return out


def table_of(runs: dict, names: list[str], n_seeds: int) -> dict[str, dict[str, dict[str, tuple[float, float]]]]:
    """``{dataset: {fkey: {metric: (mean, std)}}}`` over the seeds."""
    out = {}
    for name in names:
        rows = [r for r in runs.values() if r["case"] == name and r["seed"] < n_seeds]
        out[name] = {k: {m: mean_std(r["scores"][k][m] for r in rows) for m in (*METRICS, "runs_per_video")} for k in rows[0]["scores"]}
        out[name]["seeds"] = len(rows)  # type: ignore[assignment]
    return out


def grid(rule: str) -> dict[float, str]:
    """``{setting: score key}`` of a family; setting 0 is no filter."""
    if rule == "radius":
        return {0.0: fkey("cost", 0.0), **{c: f"radius c {c:g}" for c in RADIUS_FACTORS}}
    return {f: fkey(rule if f else "cost", f) for f in FRACTIONS}


def choose(table: dict, names: list[str], rule: str) -> float:
    """The setting of the criterion (module doc) on datasets ``names``."""
    keys = grid(rule)

    def mean(f, m):
        return float(np.mean([table[n][keys[f]][m][0] for n in names]))

    ok = [f for f in keys if mean(f, "mof") >= mean(0.0, "mof") - MOF_TOLERANCE]
    return max(ok, key=lambda f: (mean(f, "f1"), -f))


def main(argv=None) -> None:
    args = seeds_parser(__doc__, "min_run.json").parse_args(argv)
    out, runs = open_results(args.json)
    out["machine_start"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                            "affinity": sorted(os.sched_getaffinity(0))}  # fmt: skip
    all_cases, fresh = cases(), fresh_draws()
    plan = [(c, s) for s in range(args.seeds) for c in all_cases] + [(c, s) for s in range(args.fresh_seeds) for c in fresh]
    for case, seed in plan:
        key = f"{case.name} | default | seed {seed}"
        if key not in runs or f"radius c {RADIUS_EXTRA[-1]:g}" not in runs[key]["scores"]:
            runs[key] = rounded(train_and_filter(case, seed), 4)
            out["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                              "affinity": sorted(os.sched_getaffinity(0))}  # fmt: skip
            atomic_write_text(args.json, json.dumps(out, indent=2))
            print(f"{key}: {runs[key]['seconds']:.1f} s", flush=True)
    names = [c.name for c in all_cases]
    fnames = [c.name for c in fresh]
    table = table_of(runs, names, args.seeds)
    ftable = table_of(runs, fnames, args.fresh_seeds)
    lines = []

    def cell(t, k, m):
        mu, sd = t[k][m]
        return f"{mu:.1f} +- {sd:.1f}"

    for rule in (*RULES, "radius"):
        keys = list(grid(rule).values()) + ([f"radius c {c:g}" for c in RADIUS_EXTRA] if rule == "radius" else [])
        what = "L = round(c r_b N)" if rule == "radius" else f"L = round(f N), merge rule {rule!r}"
        lines += ["", f"{what}: full MoF / F1 / mIoU (mean over seeds) (runs per video)", "",
                  "| dataset | " + " | ".join(keys) + " | true runs / video |", "| --- " * (len(keys) + 2) + "|"]
        for t, ns in ((table, names), (ftable, fnames)):
            for n in ns:
                truth = np.mean([r["true_runs_per_video"] for r in runs.values() if r["case"] == n])
                lines.append(f"| {n} | " + " | ".join(f"{t[n][k]['mof'][0]:.1f} / {t[n][k]['f1'][0]:.1f} / {t[n][k]['miou'][0]:.1f} "
                                                     f"({t[n][k]['runs_per_video'][0]:.1f})" for k in keys) + f" | {truth:.1f} |")
            lines.append(("| mean, seven datasets | " if t is table else "| mean, fresh draws | ")
                         + " | ".join(" / ".join(f"{np.mean([t[n][k][m][0] for n in ns]):.1f}" for m in METRICS) for k in keys) + " | |")
    lodo: dict[str, dict] = {}
    for rule in (*RULES, "radius"):
        lodo[rule] = {}
        for held in names:
            f = choose(table, [n for n in names if n != held], rule)
            k0, kf = fkey("cost", 0.0), grid(rule)[f]
            lodo[rule][held] = {"chosen_f": f, **{f"{m}_f0": table[held][k0][m][0] for m in METRICS},
                                **{f"{m}_chosen": table[held][kf][m][0] for m in METRICS}}  # fmt: skip
        f_all = choose(table, names, rule)
        lodo[rule]["_all_seven"] = {"chosen_f": f_all}
        lines += ["", f"Leave-one-dataset-out, {'c of L = round(c r_b N)' if rule == 'radius' else f'f, merge rule {rule!r}'} (criterion: max mean F1 over six, mean MoF at most {MOF_TOLERANCE} below f 0)", "",
                  "| held-out dataset | chosen | MoF f 0 | MoF chosen | F1 f 0 | F1 chosen | mIoU f 0 | mIoU chosen |", "| --- " * 8 + "|"]
        for held in names:
            c = lodo[rule][held]
            lines.append(f"| {held} | {c['chosen_f']:g} | " + " | ".join(f"{c[f'{m}_f0']:.1f} | {c[f'{m}_chosen']:.1f}" for m in METRICS) + " |")
        lines.append("| mean | | " + " | ".join(f"{np.mean([lodo[rule][h][f'{m}_f0'] for h in names]):.1f} | "
                                                 f"{np.mean([lodo[rule][h][f'{m}_chosen'] for h in names]):.1f}" for m in METRICS) + " |")
        k0, kf = fkey("cost", 0.0), grid(rule)[f_all]
        fr = {m: (float(np.mean([ftable[n][k0][m][0] for n in fnames])), float(np.mean([ftable[n][kf][m][0] for n in fnames]))) for m in METRICS}
        worst = min(ftable[n][kf]["mof"][0] - ftable[n][k0]["mof"][0] for n in fnames)
        lodo[rule]["_fresh"] = {"f": f_all, **{m: fr[m] for m in METRICS}, "worst_mof_change": worst}
        lines += ["", f"Fresh draws with {'c' if rule == 'radius' else 'f'} {f_all:g} (chosen on all seven): " + ", ".join(f"{m} {a:.1f} -> {b:.1f}" for m, (a, b) in fr.items())
                  + f"; worst per-draw MoF change {worst:+.1f}"]
    out["table"], out["fresh_table"], out["lodo"] = table, ftable, lodo
    out["machine_end"] = {"load_avg": os.getloadavg()}
    atomic_write_text(args.json, json.dumps(rounded(out), indent=1))
    print("\n".join(lines))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

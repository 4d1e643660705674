"""Solver speed of two source trees side by side: A/B on a busy machine.

Each round runs one fresh interpreter per tree, alternating (a, b, a, b, ...), so load changes
hit both alike. A child times, with the settings of ``benchmarks/solver.py`` (float32,
25 iterations): N = 16,384 x 19 and B64 x 256 x 10 on 1 and 2 threads (``asot.solve``, the
fused kernel), the exp floor (25 single-thread ``torch.exp`` passes over the 16k array), and
the torch path on a training-size problem (B2 x 256 x 8, balanced, 2 threads). Per case it
keeps the minimum wall time and the minimum process CPU time over its repeats; the report
takes the minimum over rounds, and the ratio ``a / b`` per case. CPU time is the steadier
number on a loaded machine for the 1-thread cases (a preempted thread's waiting is not
counted), wall time the one that counts for 2 threads.

Usage::

    python benchmarks/solver_ab.py --tree before=/path/to/old/src --tree after=src \\
        [--rounds 5] [--repeats 7] [--json benchmarks/results/solver_ab.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import json, sys, time, torch, asot
settings = dict(eps=0.07, alpha=0.3, radius=0.04, lambda_actions=0.05, n_iters=25)
config = asot.SolverConfig(**settings)
repeats = int(sys.argv[1])
def timed(fn):
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    wall.sort()
    return dict(wall_min_ms=1e3 * wall[0], wall_median_ms=1e3 * wall[len(wall) // 2], cpu_min_ms=1e3 * min(cpu))
gen = torch.Generator().manual_seed(0)
n16k = torch.rand(16384, 19, generator=gen) * 2.0
b64 = torch.rand(64, 256, 10, generator=gen) * 2.0
small = torch.rand(2, 256, 8, generator=gen) * 2.0
out = {}
for threads in (1, 2):
    torch.set_num_threads(threads)
    out[f"16k_{threads}thread"] = timed(lambda: asot.solve(n16k, config=config))
    out[f"b64_{threads}thread"] = timed(lambda: asot.solve(b64, config=config))
torch.set_num_threads(2)
balanced = config.replace(unbalanced_actions=False)
out["torch_b2x256x8_balanced_2thread"] = timed(lambda: asot.solve(small, config=balanced, backend="torch"))
torch.set_num_threads(1)
buf = torch.empty_like(n16k)
out["exp_floor_1thread"] = timed(lambda: [torch.exp(n16k, out=buf) for _ in range(25)])
print(json.dumps(out))
"""


def run_child(src: str, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    load = os.getloadavg()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repeats)], capture_output=True, text=True, env=env, check=True)
    return dict(load_avg=load, cases=json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="NAME=SRC_DIR (the folder holding the asot package)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=str(HERE / "results" / "solver_ab.json"))
    args = parser.parse_args(argv)
    trees = dict(item.split("=", 1) for item in args.tree)
    if len(trees) != 2:
        parser.error("--tree: expected exactly two NAME=SRC_DIR")
    for name, src in trees.items():
        if not (Path(src) / "asot" / "__init__.py").is_file():
            parser.error(f"--tree {name}={src}: expected a folder holding asot/__init__.py")
    runs = {name: [] for name in trees}
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for r in range(args.rounds):
        for name, src in trees.items():
            runs[name].append(run_child(src, args.repeats))
            print(f"round {r + 1} {name}: load {runs[name][-1]['load_avg'][0]:.2f}", flush=True)
    a, b = trees
    best = {name: {case: {key: min(run["cases"][case][key] for run in runs[name]) for key in runs[name][0]["cases"][case]}
                   for case in runs[name][0]["cases"]} for name in trees}
    print(f"\n{'case':<34} {a + ' wall':>12} {b + ' wall':>12} {'ratio':>6} {a + ' CPU':>11} {b + ' CPU':>11} {'ratio':>6}")
    table = {}
    for case in best[a]:
        x, y = best[a][case], best[b][case]
        table[case] = dict(a=x, b=y, wall_ratio=x["wall_min_ms"] / y["wall_min_ms"], cpu_ratio=x["cpu_min_ms"] / y["cpu_min_ms"])
        print(f"{case:<34} {x['wall_min_ms']:12.2f} {y['wall_min_ms']:12.2f} {table[case]['wall_ratio']:6.2f} "
              f"{x['cpu_min_ms']:11.2f} {y['cpu_min_ms']:11.2f} {table[case]['cpu_ratio']:6.2f}")
    for name in trees:
        ratio = best[name]["16k_1thread"]["cpu_min_ms"] / best[name]["exp_floor_1thread"]["cpu_min_ms"]
        print(f"{name}: 1-thread asot / exp floor (CPU time) {ratio:.1f}x")
    sys.path.insert(0, str(HERE))
    from solver import machine_info  # noqa: E402  (benchmarks/solver.py)

    results = dict(started=started, machine=dict(machine_info(), load_avg_end=os.getloadavg()), trees=trees,
                   rounds=args.rounds, repeats=args.repeats, best=best, ratios=table, runs=runs)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2))
    os.replace(tmp, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

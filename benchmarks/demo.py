"""``asot demo`` wall time from a fresh clone: cold (new numba cache, new data cache) and warm.

Clones this checkout's ``HEAD`` into a temporary folder (no numba cache files, no ``.pyc``), then
runs the demo there in fresh interpreters (``PYTHONPATH=<clone>/src``, this environment's
packages), each into its own run folder:

1. ``cold``: first run: numba compiles the kernel, the synthetic dataset is generated into an
   empty ``$ASOT_CACHE``;
2. ``warm``: the same again (compiled kernel and dataset reused);
3. ``warm, one process``: the ablations trained after ASOT in the same process
   (``run_demo(parallel=False)``, the behaviour before they moved to a second process).

Per run: wall seconds, the seconds of each method, the table (the same in every run, checked)
and the largest peak RSS of any process of the runs so far (``RUSAGE_CHILDREN`` ``ru_maxrss``:
the demo processes and their second processes). The machine, CPU count and
load average are recorded. Target (issue 18): <= 60 s cold and warm on a quiet 2-core machine.

Usage::

    python benchmarks/demo.py [--json benchmarks/results/demo.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from pipeline_scale import machine  # noqa: E402  (benchmarks/pipeline_scale.py: CPU model, cores, versions)

RUNS = {
    "cold": "from asot.training.demo import run_demo; run_demo({out!r})",
    "warm": "from asot.training.demo import run_demo; run_demo({out!r})",
    "warm, one process": "from asot.training.demo import run_demo; run_demo({out!r}, parallel=False)",
}


def _child_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run(clone: Path, cache: Path, out: Path, code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(clone / "src"), "ASOT_CACHE": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code.format(out=str(out))], cwd=clone, env=env,
                          capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"demo failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {"wall_s": round(wall, 1), "table": summary["table"],
            "seconds_per_method": {k: v.get("seconds") for k, v in summary["methods"].items()}}  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=HERE / "results" / "demo.json")
    args = ap.parse_args(argv)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    result = {"commit": head, "machine": machine(), "load_start": [round(x, 2) for x in os.getloadavg()], "runs": {}}
    with tempfile.TemporaryDirectory(prefix="asot-demo-bench-") as tmp:
        tmp = Path(tmp)
        clone = tmp / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        cache = tmp / "cache"
        for name, code in RUNS.items():
            row = run(clone, cache, tmp / name.replace(" ", "_").replace(",", ""), code)
            row["children_peak_mb_so_far"] = round(_child_peak_mb(), 1)
            result["runs"][name] = row
            print(f"{name:<20} {row['wall_s']:7.1f} s   per method {row['seconds_per_method']}", flush=True)
    tables = [json.dumps(r["table"], sort_keys=True) for r in result["runs"].values()]
    result["same_table"] = len(set(tables)) == 1
    result["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["target"] = {"wall_s_le": 60, "met": {k: r["wall_s"] <= 60 for k, r in result["runs"].items()}}
    print(f"same table in every run: {result['same_table']}; load {result['load_start']} -> {result['load_end']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

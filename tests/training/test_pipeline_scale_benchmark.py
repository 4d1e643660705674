"""benchmarks/pipeline_scale.py: its phase clock (exclusive seconds, per-phase peak memory) and
one timed run of the pipeline on the tiny dataset, every phase seen."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import pipeline_scale as bench  # noqa: E402

from asot.data.synthetic import TINY  # noqa: E402


def test_phase_clock_counts_inner_phases_once_and_tracks_their_peak():
    clock = bench.PhaseClock()
    t0 = time.perf_counter()
    with clock.phase("epochs"):
        time.sleep(0.05)
        with clock.phase("init"):
            block = np.ones(40 * 2**20 // 8)  # 40 MB touched inside the inner phase only
            time.sleep(0.05)
            del block
    total = time.perf_counter() - t0
    assert clock.seconds["epochs"] >= 0.05 and clock.seconds["init"] >= 0.05  # each phase its own sleep
    assert abs(clock.seconds["epochs"] + clock.seconds["init"] - total) < 0.01  # the inner one not counted twice
    assert clock.calls == {**{p: 0 for p in bench.PHASES}, "epochs": 1, "init": 1}
    assert clock.peak_mb["init"] >= clock.peak_mb["epochs"] - 1 and clock.peak_mb["init"] > 40


def test_breakfast_scale_config_matches_the_issue():
    cfg = bench.dataset_config(1)
    assert (cfg.n_activities, cfg.n_videos, cfg.n_frames, cfg.feature_dim) == (1, 170, (600, 6000), 64)
    assert cfg.activity_names == ("coffee",) and cfg.n_actions == (7,)
    assert bench.dataset_config(10).n_activities == 10 and len(set(bench.dataset_config(10).n_actions)) > 1


def test_child_run_times_every_phase(tiny_root, tmp_path):
    row = bench.run_child(tiny_root, TINY.name, tmp_path / "run", 1, time.perf_counter())
    phases = row["phases"]
    assert set(phases) == set(bench.PHASES)
    for name in ("load", "init", "epochs", "segment", "baselines", "metrics", "write", "other"):
        assert phases[name]["calls"] >= 1, name
    assert row["videos"] == TINY.n_activities * TINY.n_videos and (tmp_path / "run" / "metrics.json").is_file()
    assert abs(sum(p["s"] for p in phases.values()) - row["wall_s"]) < 0.5
    assert row["peak_mb"] >= max(p["peak_mb"] for p in phases.values()) - 1

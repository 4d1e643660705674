"""PNG figures people can read: class names, an unmatched entry, MoF per row, nothing clipped;
``asot evaluate --plot`` and ``asot segment --plot --gt``."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from asot import plot
from asot.cli import app
from asot.io.labels import write_label_file

runner = CliRunner()


def assert_nothing_clipped(fig):
    """Everything drawn (labels, titles, legend) lies inside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    drawn = fig.get_tightbbox(canvas.get_renderer())  # inches
    width, height = fig.get_size_inches()
    assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01 and drawn.x1 <= width + 0.01 and drawn.y1 <= height + 0.01, \
        f"drawn area {drawn} exceeds the figure ({width} x {height} in)"


def test_segmentation_legend_has_names_unmatched_entry_and_row_mof():
    gt = np.array([0, 0, 1, 1, 2, 2, -1, -1])
    pred = np.array([0, 0, 1, plot.UNMATCHED_LABEL, 2, 2, 2, 2])
    fig = plot.plot_segmentation(gt, {"ASOT": pred}, names={0: "state_1", 1: "state_2", 2: "state_3", -1: "background"},
                                 scores={"ASOT": 62.5}, title="a rather long title for one video")  # fmt: skip
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["background", "state_1", "state_2", "state_3", "unmatched cluster"]
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == ["GT", "ASOT\nMoF 62.5%"]
    # the unmatched span is black, the named background light grey
    from tests.test_plot import _bar_colors

    assert _bar_colors(fig.axes[1])[(3.0, 4.0)] == tuple(np.round(plot.UNMATCHED_COLOR, 6))
    assert _bar_colors(fig.axes[0])[(6.0, 8.0)] == tuple(np.round(plot.BACKGROUND_CLASS_COLOR, 6))
    assert_nothing_clipped(fig)


def test_loss_curve_labels_are_not_clipped():
    fig = plot.plot_loss_curve([0, 1, 2, 3], [1.4, 1.2, 1.1, 1.05], title="coffee: training loss")
    assert "pseudo-labels" in fig.axes[0].get_ylabel()
    assert_nothing_clipped(fig)
    with pytest.raises(ValueError, match="epochs"):
        plot.plot_loss_curve([0, 1], [1.0])


def test_evaluate_plot_writes_named_matched_figures(tmp_path):
    gt_dir, pred_dir, figs = tmp_path / "gt", tmp_path / "pred", tmp_path / "figs"
    (tmp_path / "mapping.txt").write_text("0 state_1\n1 state_2\n2 state_3\n")
    for i in range(3):
        truth = np.repeat([0, 1, 2], 10 + i)
        write_label_file(gt_dir / f"v{i}", truth)
        write_label_file(pred_dir / f"v{i}", (truth + 1) % 3)
    r = runner.invoke(app, ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--mapping", str(tmp_path / "mapping.txt"),
                            "--plot", str(figs), "--figures", "2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in figs.iterdir()) == ["v0.png", "v1.png"]
    from asot.report.figures import write_matched_figures

    gts = {f"v{i}": np.repeat([0, 1, 2], 10 + i) for i in range(3)}
    preds = {"prediction": {k: (v + 1) % 3 for k, v in gts.items()}}
    paths = write_matched_figures(tmp_path / "f2", gts, preds, names={0: "state_1", 1: "state_2", 2: "state_3"})
    assert len(paths) == 3 and all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_segment_plot_with_ground_truth_and_report(tmp_path):
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1, 2], 20)
    probs = np.full((60, 3), 0.1, np.float32)
    probs[np.arange(60), truth] = 0.8
    probs = (probs + rng.random((60, 3)).astype(np.float32) * 0.05)
    probs /= probs.sum(1, keepdims=True)
    np.save(tmp_path / "v.npy", probs)
    write_label_file(tmp_path / "gt" / "v", truth)
    out = tmp_path / "out"
    r = runner.invoke(app, ["segment", str(tmp_path / "v.npy"), "--kind", "prob", "--out", str(out), "--plot", "--gt",
                            str(tmp_path / "gt"), "--report", "--no-progress"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (out / "figures" / "v.png").is_file() and (out / "report.html").is_file()
    from tests.report.test_report import embedded

    data = embedded(out / "report.html")
    assert data["rows"] == ["GT", "ASOT"] and data["videos"][0]["mof"]["ASOT"] == 100.0
    r = runner.invoke(app, ["segment", str(tmp_path / "v.npy"), "--kind", "prob", "--out", str(tmp_path / "o2"), "--plot",
                            "--gt", str(tmp_path / "nothere"), "--no-progress"])  # fmt: skip
    assert r.exit_code != 0 and "gt" in r.output and "Traceback" not in r.output

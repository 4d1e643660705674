"""Figures (asot.plot): consistent class colours, heatmaps with boundaries, atomic PNG writes."""

from __future__ import annotations

import numpy as np
import pytest

from asot import plot


def _bar_colors(ax) -> dict[tuple[float, float], tuple]:
    """``{(start, end): facecolor}`` of the spans drawn on a segmentation row (one rectangle
    collection per row, spanning the row's height)."""
    out = {}
    for coll in ax.collections:
        for path, color in zip(coll.get_paths(), coll.get_facecolors()):
            xs, ys = path.vertices[:, 0], path.vertices[:, 1]
            assert ys.min() == 0.0 and ys.max() == 1.0 and ax.get_ylim() == (0.0, 1.0)  # the full row
            out[(float(xs.min()), float(xs.max()))] = tuple(np.round(color, 6))
    return out


def test_matplotlib_is_imported_lazily_and_pyplot_never():
    assert not any(name.startswith("matplotlib") for name in vars(plot))  # imported inside the functions
    fig = plot.plot_segmentation(np.array([0, 1]), {})
    assert type(fig).__module__ == "matplotlib.figure"  # a bare Figure: no pyplot state to close


def test_segmentation_bars_use_one_colour_per_class():
    gt = np.array([0] * 10 + [1] * 10 + [2] * 10)
    pred = np.array([0] * 5 + [2] * 5 + [1] * 20)
    fig = plot.plot_segmentation(gt, {"ASOT": pred}, names=["a", "b", "c"], title="v")
    rows = fig.axes[:2]
    assert [ax.get_ylabel() for ax in rows] == ["GT", "ASOT"]
    colors = plot.class_colors(3)
    gt_spans = _bar_colors(rows[0])
    pred_spans = _bar_colors(rows[1])
    assert gt_spans[(20.0, 30.0)] == tuple(np.round(colors[2], 6))
    assert pred_spans[(5.0, 10.0)] == gt_spans[(20.0, 30.0)]  # class 2 has the same colour in both rows
    assert pred_spans[(10.0, 30.0)] == gt_spans[(10.0, 20.0)]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b", "c"]


def test_segmentation_colours_fixed_by_n_classes_and_background_black():
    fig = plot.plot_segmentation(None, {"pred": np.array([-1, -1, 4, 4])}, n_classes=6, legend=False)
    spans = _bar_colors(fig.axes[0])
    assert spans[(0.0, 2.0)] == tuple(np.round(plot.BACKGROUND_COLOR, 6))
    assert spans[(2.0, 4.0)] == tuple(np.round(plot.class_colors(6)[4], 6))


def test_segmentation_errors():
    with pytest.raises(ValueError, match="same number of frames"):
        plot.plot_segmentation(np.zeros(5, int), {"p": np.zeros(4, int)})
    with pytest.raises(ValueError, match="n_classes"):
        plot.plot_segmentation(np.array([0, 5]), {}, n_classes=3)
    with pytest.raises(ValueError, match="nothing to plot"):
        plot.plot_segmentation(None, {})
    with pytest.raises(ValueError, match="1-D integer"):
        plot.plot_segmentation(np.zeros((2, 2), int), {})


def test_class_colors_are_distinct_for_many_classes():
    colors = plot.class_colors(70)
    assert colors.shape == (70, 4)
    assert len({tuple(np.round(c, 4)) for c in colors}) == 70


def test_coupling_heatmaps_mark_ground_truth_boundaries():
    rng = np.random.default_rng(0)
    affinity = rng.random((50, 4))
    coupling = np.eye(4)[np.repeat([0, 1, 3], [20, 20, 10])]
    gt = np.repeat([0, 1, 3], [20, 20, 10])
    fig = plot.plot_coupling(affinity, coupling, gt, title="video")
    heat = [ax for ax in fig.axes if ax.get_title() in ("affinity", "ASOT coupling")]
    assert len(heat) == 2
    for ax in heat:
        image = ax.images[0].get_array()
        assert image.shape == (4, 50)  # classes x frames
        xs = sorted(line.get_xdata()[0] for line in ax.lines)
        assert xs == [20, 40]
    np.testing.assert_allclose(heat[1].images[0].get_array(), coupling.T)


def test_coupling_errors():
    with pytest.raises(ValueError, match="same shape"):
        plot.plot_coupling(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="gt has 4 frames"):
        plot.plot_coupling(np.zeros((5, 3)), np.zeros((5, 3)), np.zeros(4, int))


def test_save_figure_writes_a_png(tmp_path):
    fig = plot.plot_segmentation(np.array([0, 0, 1]), {"p": np.array([0, 1, 1])})
    path = plot.save_figure(fig, tmp_path / "sub" / "fig.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["fig.png"]


def test_save_figure_is_atomic(tmp_path, monkeypatch):
    fig = plot.plot_segmentation(np.array([0, 0, 1]), {"p": np.array([0, 1, 1])})
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")

    def broken(handle, **kwargs):
        handle.write(b"\x89PNG partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plot.save_figure(fig, target)
    assert target.read_bytes() == b"old"  # the old file survives, no partial file
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]  # and no temporary left behind
    with pytest.raises(RuntimeError):
        plot.save_figure(fig, tmp_path / "new.png")
    assert not (tmp_path / "new.png").exists()


def test_segmentation_row_is_one_artist_however_many_segments():
    pred = np.arange(2000) % 3  # 2,000 one-frame segments: one rectangle collection per row
    fig = plot.plot_segmentation(np.zeros(2000, int), {"flicker": pred}, n_classes=3)
    gt_row, pred_row = fig.axes[:2]
    assert len(pred_row.collections) == 1 and len(pred_row.patches) == 0
    spans = _bar_colors(pred_row)
    assert len(spans) == 2000 and spans[(4.0, 5.0)] == tuple(np.round(plot.class_colors(3)[1], 6))
    assert list(_bar_colors(gt_row)) == [(0.0, 2000.0)]

"""The encoder and the ASOT LightningModule (spec section 4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from asot.ot.config import SolverConfig
from asot.data.sampling import collate_videos, FrameDataset
from asot.data.dataset import Video
from asot.models import ASOTModule, MLPEncoder


def _module(**kw):
    return ASOTModule((8, 16, 4), 3, SolverConfig(), SolverConfig(eps=0.04, alpha=0.6, lambda_actions=0.01), **kw)


def _batch(n=(40, 30), d=8, seed=0):
    rng = np.random.default_rng(seed)
    vids = [Video(f"v{i}", "a", rng.standard_normal((m, d)).astype(np.float32), rng.integers(0, 3, m)) for i, m in enumerate(n)]
    return collate_videos([FrameDataset(vids, mode="test")[i] for i in range(len(vids))])


def test_encoder_output_is_unit_norm_and_shapes():
    enc = MLPEncoder((8, 16, 4))
    y = enc(torch.randn(2, 5, 8))
    assert y.shape == (2, 5, 4)
    torch.testing.assert_close(y.norm(dim=-1), torch.ones(2, 5))
    assert sum(isinstance(m, torch.nn.ReLU) for m in enc.modules()) == 1
    with pytest.raises(ValueError, match="8 dims"):
        enc(torch.randn(3, 7))
    with pytest.raises(ValueError):
        MLPEncoder((8,))


def test_loss_matches_spec_formula_and_pseudo_labels_have_no_gradient():
    m = _module(rho=0.1)
    batch = _batch()
    loss = m.model_step(batch)
    # by hand: T = ASOT(1 - X A^T + rho R) (train config), loss = mean over valid frames of -sum T log P
    from asot import solve
    from asot.ot.structure import batched_temporal_prior

    x = m.encoder(batch.features)
    a = torch.nn.functional.normalize(m.actions, dim=-1)
    sim = x @ a.T
    prior = batched_temporal_prior(batch.mask, 3, 0.1)
    t = solve((1 - sim + prior).detach(), batch.mask, m.train_solver).coupling
    ref = -(t * torch.log_softmax(sim / 0.1, -1)).sum(-1)[batch.mask].mean()
    torch.testing.assert_close(loss, ref)
    loss.backward()
    assert m.actions.grad is not None and torch.isfinite(m.actions.grad).all()


def test_kmeans_init_sets_unit_centroids_and_flag():
    m = _module()
    assert not bool(m.actions_initialised)
    before = m.actions.detach().clone()
    m.initialise_actions([_batch()])
    assert bool(m.actions_initialised)
    assert not torch.allclose(before, m.actions)
    torch.testing.assert_close(m.actions.norm(dim=-1), torch.ones(3))
    assert bool(_module(kmeans_init=False).actions_initialised)  # "No k-means": random init kept


def test_kmeans_init_streamed_over_its_subsample_is_the_same_fit(monkeypatch):
    import asot.models.kmeans as K

    # 110 frames, k-means on an even subsample of 50 (the defaults are bound at definition)
    monkeypatch.setattr(K.EvenSubsample.__init__, "__defaults__", (50, np.float64))
    monkeypatch.setattr(K.subsample_rows, "__defaults__", (50, np.float64))
    batches = [_batch(seed=0), _batch(n=(25, 15), seed=1)]
    whole, streamed = _module(), _module()
    streamed.load_state_dict(whole.state_dict())  # the same encoder
    whole.initialise_actions(batches)
    streamed.initialise_actions(batches, n_frames=110)
    torch.testing.assert_close(whole.actions, streamed.actions, rtol=0, atol=0)
    with pytest.raises(ValueError, match="110 frames given, 111 announced"):
        _module().initialise_actions(batches, n_frames=111)


class _OneBatchAtATime:
    """A re-iterable loader that checks, as it yields each batch, that no batch before the
    previous one is still referenced (the consumer may hold the one it is finishing, never all of
    them: the measurement keeps labels, not every video's features)."""

    def __init__(self, batches):
        self.batches, self.passes = batches, 0

    def __iter__(self):
        import gc
        import weakref

        self.passes += 1
        alive = []
        for seed, n in self.batches:
            gc.collect()
            assert all(ref() is None for ref in alive[:-1]), "an earlier batch's features are still held"
            batch = _batch(n=n, seed=seed)
            alive.append(weakref.ref(batch.features))
            yield batch
            del batch


def test_measure_videos_holds_one_batch_at_a_time_and_measures_each_video():
    from asot.ot.radius import measure_radius

    m = _module(rho=0.1, rho_auto=True)
    m.eval_solver = m.eval_solver.replace(radius="auto")  # the radius rule measured on every video
    loader = _OneBatchAtATime([(0, (40, 30)), (1, (25, 15)), (2, (35,))])
    radii = m.measure_videos(loader)
    assert loader.passes == 2 and len(radii) == 5
    # the same as labelling each video and measuring it on its own, in batch order
    videos = [(b.features[i : i + 1, :n], b.mask[i : i + 1, :n]) for seed, sizes in loader.batches
              for b in [_batch(n=sizes, seed=seed)] for i, n in enumerate(sizes)]  # fmt: skip
    expected = [measure_radius(f[0].numpy(), m._structure_labels(f, k), recurring=bool(m.recurring)) for f, k in videos]
    assert radii == pytest.approx(expected, rel=0, abs=0)


def test_segment_masks_padding_and_rejects_bad_k():
    m = _module()
    labels = m.segment(_batch().features, _batch().mask)
    assert labels.shape == (2, 40) and (labels[1, 30:] == -1).all() and (labels[0] >= 0).all()
    with pytest.raises(ValueError, match="n_clusters"):
        ASOTModule((8, 4), 0, SolverConfig(), SolverConfig())


def _flickering_module(min_run_radii):
    """A module whose two actions alternate every 3 frames on a 300-frame video (flicker, by its
    cost): eval radius 0.04, so ``L = round(c * 0.04 * 300)`` frames."""
    module = ASOTModule((2, 2), 2, SolverConfig(), SolverConfig(radius=0.04, alpha=0.0, eps=0.02), rho=0.0,
                        min_run_radii=min_run_radii, kmeans_init=False)
    with torch.no_grad():
        module.encoder.net = torch.nn.Identity()
        module.actions.copy_(torch.eye(2))
    t = torch.arange(300)
    first = ((t // 3) % 2 == 0) | ((t >= 100) & (t < 200))  # a long run of action 0 in the middle
    features = torch.stack([first.double(), (~first).double()], dim=1).float()
    return module, features


def test_segment_merges_runs_shorter_than_the_factor_of_the_radius():
    """``min_run_radii`` c: no run of the labels is shorter than round(c r N) frames; 0 keeps the
    solver's labels (3-frame flicker), and the filtered labels only use labels of the solver's."""
    from asot.runs import run_length_encode

    raw_module, features = _flickering_module(0.0)
    raw = raw_module.segment(features).numpy()
    assert run_length_encode(raw).lengths.min() <= 3  # the solver follows the flicker
    for c in (0.5, 1.0):
        module, _ = _flickering_module(c)
        module.load_state_dict(raw_module.state_dict())
        labels = module.segment(features).numpy()
        runs = run_length_encode(labels)
        assert runs.lengths.min() >= round(c * 0.04 * 300) or runs.labels.size == 1
        assert set(np.unique(labels)) <= set(np.unique(raw))
        assert (labels[110:190] == raw[110:190]).all()  # the long run is kept
    with pytest.raises(ValueError, match="min_run_radii"):
        ASOTModule((2, 2), 2, SolverConfig(), SolverConfig(), min_run_radii=-1.0)


def test_checkpoints_from_before_the_min_run_option_keep_the_solvers_labels(tmp_path):
    import lightning

    module = ASOTModule((2, 2), 2, SolverConfig(), SolverConfig(), min_run_radii=1.0)
    state = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
             "pytorch-lightning_version": lightning.__version__}
    del state["hyper_parameters"]["min_run_radii"]  # as written before the option existed
    torch.save(state, tmp_path / "old.ckpt")
    loaded = ASOTModule.load_from_checkpoint(tmp_path / "old.ckpt", weights_only=False)
    assert loaded.min_run_radii == 0.0


def test_checkpoints_from_before_the_anchor_option_keep_the_papers_prior(tmp_path):
    """A checkpoint whose hyperparameters have no ``prior_centred`` (written before the option)
    loads with the paper's prior; a centred module's checkpoint keeps the centred one."""
    import lightning

    from asot.ot.structure import batched_temporal_prior

    mask = torch.ones(1, 12, dtype=torch.bool)
    sim = torch.zeros(1, 12, 3)
    for centred in (True, False):
        module = ASOTModule((4, 8, 4), 3, SolverConfig(), SolverConfig(), rho=0.2, prior_centred=centred)
        path = tmp_path / f"m{centred}.ckpt"
        state = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                 "pytorch-lightning_version": lightning.__version__}
        if not centred:
            del state["hyper_parameters"]["prior_centred"]  # as written before the option existed
        torch.save(state, path)
        loaded = ASOTModule.load_from_checkpoint(path, weights_only=False)
        assert loaded.prior_centred is centred
        expected = batched_temporal_prior(mask, 3, 0.2, centred=centred)
        torch.testing.assert_close(loaded.asot_cost(sim, mask) - 1.0, expected)

"""Training and prediction run with one torch / OpenMP thread and give the caller's settings back."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_info

from asot.data.synthetic import TINY
from asot.training import pipeline as P
from asot.training.threads import TRAIN_THREADS, training_threads


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_training_threads_limits_torch_and_openmp_and_restores(two_threads):
    with training_threads():
        assert torch.get_num_threads() == TRAIN_THREADS == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), training_threads():
        raise RuntimeError("restored on errors too")
    assert torch.get_num_threads() == 2


class _Stop(Exception):
    pass


def test_train_fits_each_activity_on_one_thread(tiny_root, two_threads, monkeypatch):
    seen = []

    def fit(*args, **kwargs):
        seen.append(torch.get_num_threads())
        raise _Stop

    monkeypatch.setattr(P, "fit_activity", fit)
    with pytest.raises(_Stop):
        P.train(tiny_root, TINY.name, None, epochs=1)
    assert seen == [1] and torch.get_num_threads() == 2

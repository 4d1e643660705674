"""Per-frame MLP encoder of the ASOT pipeline (spec section 4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["MLPEncoder"]


class MLPEncoder(nn.Module):
    """Per-frame MLP ``f_theta``: ``Linear -> ReLU -> Linear``, output L2-normalised.

    Args:
        layer_sizes: ``(input, hidden, output)`` (the paper's one hidden layer); ``(input,
            output)`` gives a single linear layer; longer tuples add ReLU hidden layers.

    Input ``(..., D_in)``, output ``(..., D_out)`` with unit L2 norm along the last dim.
    """

    def __init__(self, layer_sizes: Sequence[int]) -> None:
        super().__init__()
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"MLPEncoder: expected at least two positive layer sizes (input, [hidden,] output), got {list(layer_sizes)}")
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(a, b))
        self.net = nn.Sequential(*layers)
        self.layer_sizes = tuple(sizes)

    @property
    def input_dim(self) -> int:
        return self.layer_sizes[0]

    @property
    def output_dim(self) -> int:
        return self.layer_sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.input_dim:
            raise ValueError(f"MLPEncoder: expected features with {self.input_dim} dims, got shape {tuple(x.shape)}")
        return F.normalize(self.net(x), dim=-1)

"""Models of the unsupervised pipeline (spec section 4): the frame encoder and the
LightningModule that learns it with ASOT pseudo-labels."""

from asot.models.encoder import MLPEncoder
from asot.models.lit_module import ASOTModule

__all__ = ["ASOTModule", "MLPEncoder"]

"""asot: temporally consistent action segmentation with optimal transport.

Implements ASOT (Xu & Gould, CVPR 2024); see ``../shared/spec/ASOT.md`` for the method.
"""

from asot.config import SolverConfig

__all__ = ["SolverConfig"]
__version__ = "0.1.0"

"""asot: temporally consistent action segmentation with optimal transport.

Implements ASOT (Xu & Gould, CVPR 2024); see ``../shared/spec/ASOT.md`` for the method.
"""

from asot.config import SolverConfig
from asot.problem import ASOTProblem
from asot.solver import ASOTResult, ASOTSolver, solve
from asot.structure import structure_product, temporal_prior

__all__ = ["SolverConfig", "ASOTProblem", "ASOTResult", "ASOTSolver", "solve", "structure_product", "temporal_prior"]
__version__ = "0.1.0"

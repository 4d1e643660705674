"""The out-of-the-box settings, defined once (the table in ``docs/defaults.md``).

=============================================  ==========================================
entry point                                    settings used when none are given
=============================================  ==========================================
``asot.solve(cost)``, ``ASOTSolver()``         :data:`SOLVE` = ``SolverConfig()``: the paper's
                                               training solver (eps 0.07, alpha 0.3, r 0.04,
                                               lambda 0.05, 25 iterations)
``asot.decode``, ``asot segment``,             :data:`DECODE`: the paper's evaluation solver
``asot compare``, test-time segmentation       (eps 0.04, alpha 0.6, r 0.04, lambda 0.01)
``asot train`` / ``asot.train``                the ``default`` preset: :data:`TRAIN_SOLVER`
                                               with lambda 0.10 for pseudo-labels,
                                               :data:`DECODE` with lambda 0.10 for
                                               evaluation, both with the measured radius,
                                               rho 0.15 unless the actions recur, 20 epochs
``ASOTModule(...)``                            the keyword defaults of ``Preset`` (the paper's
                                               fixed values)
=============================================  ==========================================

The structure radius default is :data:`asot.ot.radius.DEFAULT_RADIUS` (the paper's 0.04) in all of
them. Paper presets (:mod:`asot.presets`) start from :data:`TRAIN_SOLVER` / :data:`EVAL_SOLVER`
and change only the values the paper gives per dataset.
"""

from __future__ import annotations

from asot.ot.config import SolverConfig

__all__ = ["TRAIN_SOLVER", "EVAL_SOLVER", "SOLVE", "DECODE"]

#: the paper's training solver (spec section 3 "defaults elsewhere"): ``SolverConfig()``
TRAIN_SOLVER = SolverConfig()
#: the paper's evaluation (test-time segmentation) solver
EVAL_SOLVER = TRAIN_SOLVER.replace(eps=0.04, alpha=0.6, lambda_actions=0.01)
#: what ``asot.solve`` / ``ASOTSolver`` use without a config
SOLVE = TRAIN_SOLVER
#: what the decoders, ``asot segment`` / ``compare`` and test-time segmentation use by default
DECODE = EVAL_SOLVER

r"""Per-dataset settings of the paper (spec section 3): the one source of defaults.

The library, the command line and config files all start from a :class:`Preset`; nothing else
hard-codes a hyperparameter. The training and evaluation solvers are two
:class:`~asot.ot.config.SolverConfig` instances (``train_solver`` / ``eval_solver``).

=====================  =============================  ======  ======  ====  =====  ======  ==============
preset                 K                              epochs  rho     lam   r      alpha   MLP
=====================  =============================  ======  ======  ====  =====  ======  ==============
``breakfast``          per activity (coffee 7, ...)   15      0.20    0.10  0.04   .4/.7   64-128-40
``yti``                per activity (cpr 7, ...)      10      0.15    0.12  0.04   .3/.6   3000-32-32
``50salads-eval``      12                             30      0.15    0.11  0.04   .3/.6   64-128-40
``50salads-mid``       19                             30      0.15    0.15  0.04   .3/.6   64-128-40
``desktop-assembly``   22                             30      0.25    0.16  0.02   .3/.6   512-128-40
``default``            classes in the data            20      0.15    0.10  0.04   .3/.6   64-128-40
=====================  =============================  ======  ======  ====  =====  ======  ==============

All: unbalanced actions, lr 1e-3, weight decay 1e-4, 256 frames per video, batch 2, softmax
temperature 0.1, validation every 5 epochs, eps 0.07 (train) / 0.04 (eval), lambda 0.01 (eval),
25 mirror-descent iterations; the paper's prior ``|i/N - j/K|``. ``default`` (alias
``synthetic``) is the generic preset used for the built-in synthetic data and any dataset without
published settings; it chooses radius and prior from the data, its prior compares centres
(``prior_centred``) and its evaluation lambda is 0.10 (``docs/defaults.md``).

Example::

    p = get_preset("breakfast", epochs=5, train_eps=0.06)
    p.n_clusters_for("coffee")        # 7
    p.train_solver.alpha, p.eval_solver.alpha   # 0.4, 0.7
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asot.ot.config import SolverConfig
from asot.defaults import DECODE, EVAL_SOLVER, TRAIN_SOLVER

__all__ = ["PRESETS", "DEFAULT_DECODE_CONFIG", "Preset", "get_preset", "preset_names"]

#: solver settings shared by every preset before per-dataset changes (spec section 3 "Defaults elsewhere")
_TRAIN_BASE = TRAIN_SOLVER
_EVAL_BASE = EVAL_SOLVER

_SOLVER_FIELDS = tuple(f.name for f in dataclasses.fields(SolverConfig))


@dataclass(frozen=True)
class Preset:
    """Every hyperparameter of one experiment (spec sections 3 and 4).

    Attributes:
        name: preset name.
        dataset: default dataset folder name under ``ROOT`` (``None``: must be given).
        n_clusters: number of actions ``K``: an int, a per-activity dict, or ``None`` (use the
            number of ground-truth classes of each activity, minus excluded labels).
        epochs: training epochs.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        n_frames: frames sampled per video for training and validation.
        batch_size: videos per batch.
        temperature: softmax temperature ``tau`` of ``P = softmax(X A^T / tau)``.
        rho: temporal-prior weight for pseudo-labels and test-time segmentation.
        rho_auto: keep ``rho`` only when the actions appear about once per video, switch the
            prior off (0) when they recur (decided after the k-means init; ``docs/radius.md``).
        prior_centred: the prior compares the centres of frames and of the ``K`` equal parts,
            ``|(i + 1/2)/N - (j + 1/2)/K|``, instead of the paper's ``|i/N - j/K|``
            (:func:`asot.temporal_prior`; the ``default`` preset only, ``docs/defaults.md``).
        min_run_radii: the final segmentation keeps no run shorter than this many structure
            radii, ``L_b = round(c r_b N_b)`` frames (:func:`asot.runs.min_run`: a shorter run joins
            the neighbour whose label costs its frames less); 0 keeps the solver's labels as they
            are (the paper presets; ``docs/defaults.md``).
        layer_sizes: MLP sizes ``(input, hidden, output)``; the input size is the feature
            dimension (see :meth:`layer_sizes_for`).
        standardise: standardise features per video when loading.
        exclude_labels: class ids excluded from evaluation (YTI background -1).
        mapping: mapping file inside ``mapping/``.
        val_every: validate every this many epochs.
        kmeans_init: initialise the action embeddings with k-means (``False``: the "No k-means" ablation).
        seed: random seed.
        train_solver: ASOT settings for training pseudo-labels.
        eval_solver: ASOT settings for test-time segmentation.
    """

    name: str = "default"
    dataset: str | None = None
    n_clusters: int | dict[str, int] | None = None
    epochs: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-4
    n_frames: int = 256
    batch_size: int = 2
    temperature: float = 0.1
    rho: float = 0.15
    rho_auto: bool = False
    prior_centred: bool = False
    min_run_radii: float = 0.0
    layer_sizes: tuple[int, ...] = (64, 128, 40)
    standardise: bool = True
    exclude_labels: tuple[int, ...] = ()
    mapping: str = "mapping.txt"
    val_every: int = 5
    kmeans_init: bool = True
    seed: int = 0
    train_solver: SolverConfig = field(default_factory=lambda: _TRAIN_BASE.replace(lambda_actions=0.10))
    eval_solver: SolverConfig = field(default_factory=lambda: _EVAL_BASE)

    def __post_init__(self) -> None:
        _validate(self)
        if isinstance(self.n_clusters, Mapping):
            object.__setattr__(self, "n_clusters", dict(self.n_clusters))
        object.__setattr__(self, "layer_sizes", tuple(self.layer_sizes))
        object.__setattr__(self, "exclude_labels", tuple(self.exclude_labels))

    def __hash__(self) -> int:  # n_clusters may be a dict
        return hash(repr(sorted(self.to_dict().items(), key=lambda kv: kv[0])))

    # ---------------------------------------------------------------------------------------

    @property
    def activities(self) -> tuple[str, ...]:
        """Activities with their own ``K`` (empty unless ``n_clusters`` is a dict)."""
        return tuple(self.n_clusters) if isinstance(self.n_clusters, dict) else ()

    def n_clusters_for(self, activity: str | None = None, default: int | None = None) -> int:
        """``K`` for an activity.

        ``default`` (e.g. the number of ground-truth classes) is used when ``n_clusters`` is
        ``None`` or the activity is not in the per-activity dict.
        """
        k = self.n_clusters
        if isinstance(k, dict):
            if activity in k:
                return k[activity]
            if default is not None:
                return default
            raise KeyError(f"preset {self.name!r}: no K for activity {activity!r}; known: {sorted(k)} (pass n_clusters=...)")
        if k is not None:
            return k
        if default is None:
            raise ValueError(f"preset {self.name!r}: n_clusters is None (use the data's classes); pass a default")
        return default

    def layer_sizes_for(self, input_dim: int) -> tuple[int, ...]:
        """MLP sizes with the input size set to the data's feature dimension."""
        return (int(input_dim), *self.layer_sizes[1:])

    def replace(self, **overrides: Any) -> "Preset":
        """A validated copy with some settings changed (see :func:`get_preset` for the keys)."""
        return _apply(self, overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain (JSON-able) dict; solvers as nested dicts."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["train_solver"] = self.train_solver.to_dict()
        out["eval_solver"] = self.eval_solver.to_dict()
        out["layer_sizes"] = list(self.layer_sizes)
        out["exclude_labels"] = list(self.exclude_labels)
        if isinstance(self.n_clusters, dict):
            out["n_clusters"] = dict(self.n_clusters)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Preset":
        """Inverse of :meth:`to_dict` (unknown keys raise)."""
        return _apply(cls(), dict(data))


# --------------------------------------------------------------------------------------------
# validation


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _validate(p: Preset) -> None:
    def fail(name: str, expected: str) -> None:
        value = getattr(p, name)
        raise ValueError(f"preset {p.name!r}: {name}: expected {expected}, got {value!r}")

    if not isinstance(p.name, str) or not p.name:
        raise ValueError(f"Preset.name: expected a non-empty string, got {p.name!r}")
    if p.dataset is not None and (not isinstance(p.dataset, str) or not p.dataset):
        fail("dataset", "a folder name or None")
    k = p.n_clusters
    if isinstance(k, Mapping):
        if not k or not all(isinstance(a, str) and _is_int(v) and v >= 1 for a, v in k.items()):
            fail("n_clusters", "a dict of activity -> integer >= 1")
    elif k is not None and not (_is_int(k) and k >= 1):
        fail("n_clusters", "an integer >= 1, a per-activity dict, or None")
    for name in ("epochs", "n_frames", "batch_size", "val_every"):
        if not (_is_int(getattr(p, name)) and getattr(p, name) >= 1):
            fail(name, "an integer >= 1")
    if not (_is_int(p.seed) and p.seed >= 0):
        fail("seed", "a non-negative integer")
    for name in ("lr", "temperature"):
        if not (_is_real(getattr(p, name)) and getattr(p, name) > 0):
            fail(name, "a positive number")
    for name in ("weight_decay", "rho", "min_run_radii"):
        if not (_is_real(getattr(p, name)) and getattr(p, name) >= 0):
            fail(name, "a non-negative number")
    sizes = p.layer_sizes
    if not isinstance(sizes, (tuple, list)) or len(sizes) < 2 or not all(_is_int(s) and s >= 1 for s in sizes):
        fail("layer_sizes", "at least two positive integers (input, [hidden,] output)")
    for name in ("standardise", "kmeans_init", "rho_auto", "prior_centred"):
        if not isinstance(getattr(p, name), bool):
            fail(name, "a bool")
    if not isinstance(p.exclude_labels, (tuple, list)) or not all(_is_int(e) for e in p.exclude_labels):
        fail("exclude_labels", "a list of integer class ids")
    if not isinstance(p.mapping, str) or not p.mapping:
        fail("mapping", "a mapping file name")
    for name in ("train_solver", "eval_solver"):
        if not isinstance(getattr(p, name), SolverConfig):
            fail(name, "a SolverConfig")


def _apply(base: Preset, overrides: Mapping[str, Any]) -> Preset:
    """Apply overrides: preset fields, ``train_solver``/``eval_solver`` (a SolverConfig or a
    partial dict), and the shorthands ``train_<solver field>`` / ``eval_<solver field>``."""
    fields = {f.name for f in dataclasses.fields(Preset)}
    changes: dict[str, Any] = {}
    solver_changes: dict[str, dict[str, Any]] = {"train_solver": {}, "eval_solver": {}}
    unknown = []
    for key, value in overrides.items():
        if key in ("train_solver", "eval_solver"):
            if isinstance(value, SolverConfig):
                changes[key] = value
            elif isinstance(value, Mapping):
                solver_changes[key].update(value)
            else:
                raise ValueError(f"preset {base.name!r}: {key}: expected a SolverConfig or a dict of its fields, got {value!r}")
        elif key in fields:
            if key in ("layer_sizes", "exclude_labels") and isinstance(value, list):
                value = tuple(value)
            changes[key] = value
        elif key.startswith(("train_", "eval_")):
            which, sub = key.split("_", 1)
            if sub not in _SOLVER_FIELDS:
                unknown.append(key)
                continue
            solver_changes[f"{which}_solver"][sub] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(
            f"preset {base.name!r}: unknown setting(s) {sorted(unknown)}; valid: {sorted(fields)} "
            f"and train_<f>/eval_<f> for the solver fields {list(_SOLVER_FIELDS)}"
        )
    for key, sub in solver_changes.items():
        if sub:
            start = changes.get(key, getattr(base, key))
            try:
                changes[key] = SolverConfig.from_dict({**start.to_dict(), **sub})
            except (TypeError, ValueError) as err:
                raise ValueError(f"preset {base.name!r}: {key}: {err}") from None
    try:
        return dataclasses.replace(base, **changes)
    except TypeError as err:  # e.g. an unhashable / wrong-typed value reaching a comparison
        raise ValueError(f"preset {base.name!r}: {err}") from None


# --------------------------------------------------------------------------------------------
# the presets (spec section 3)

BREAKFAST_K = {
    "pancake": 14, "salat": 8, "friedegg": 9, "scrambledegg": 12, "sandwich": 9,
    "juice": 8, "milk": 5, "tea": 7, "cereals": 5, "coffee": 7,
}  # fmt: skip
YTI_K = {"changing_tire": 11, "coffee": 10, "cpr": 7, "jump_car": 12, "repot": 8}
#: YTI's background class id (spec section 6), excluded from evaluation
YTI_BACKGROUND = -1


def _make(name: str, *, lambda_train: float, alpha: tuple[float, float], radius: float | str,
          lambda_eval: float = _EVAL_BASE.lambda_actions, **kw: Any) -> Preset:  # fmt: skip
    train = _TRAIN_BASE.replace(lambda_actions=lambda_train, alpha=alpha[0], radius=radius)
    evaluate = _EVAL_BASE.replace(alpha=alpha[1], radius=radius, lambda_actions=lambda_eval)
    return Preset(name=name, train_solver=train, eval_solver=evaluate, **kw)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _make("breakfast", dataset="Breakfast", n_clusters=BREAKFAST_K, epochs=15, rho=0.2,
              lambda_train=0.10, radius=0.04, alpha=(0.4, 0.7), layer_sizes=(64, 128, 40), standardise=True),
        _make("yti", dataset="YTI", n_clusters=YTI_K, epochs=10, rho=0.15, lambda_train=0.12, radius=0.04,
              alpha=(0.3, 0.6), layer_sizes=(3000, 32, 32), standardise=False, exclude_labels=(YTI_BACKGROUND,)),
        _make("50salads-eval", dataset="FS", n_clusters=12, epochs=30, rho=0.15, lambda_train=0.11, radius=0.04,
              alpha=(0.3, 0.6), layer_sizes=(64, 128, 40), standardise=False, mapping="mappingeval.txt"),
        _make("50salads-mid", dataset="FS", n_clusters=19, epochs=30, rho=0.15, lambda_train=0.15, radius=0.04,
              alpha=(0.3, 0.6), layer_sizes=(64, 128, 40), standardise=False, mapping="mapping.txt"),
        _make("desktop-assembly", dataset="desktop_assembly", n_clusters=22, epochs=30, rho=0.25,
              lambda_train=0.16, radius=0.02, alpha=(0.3, 0.6), layer_sizes=(512, 128, 40), standardise=False),
        # the generic preset chooses radius and prior from the data; its prior compares centres
        # and its evaluation action marginal is looser than the paper's 0.01 (docs/defaults.md)
        _make("default", dataset=None, n_clusters=None, epochs=20, rho=0.15, rho_auto=True, prior_centred=True, min_run_radii=0.5,
              lambda_train=0.10, radius="auto", alpha=(0.3, 0.6), lambda_eval=0.10, layer_sizes=(64, 128, 40), standardise=True),
    )
}  # fmt: skip

_ALIASES = {
    "synthetic": "default",
    "generic": "default",
    "bf": "breakfast",
    "youtube-instructions": "yti",
    "fs": "50salads-mid",
    "fs-mid": "50salads-mid",
    "fseval": "50salads-eval",
    "fs-eval": "50salads-eval",
    "50salads": "50salads-mid",
    "desktop_assembly": "desktop-assembly",
    "da": "desktop-assembly",
}


def preset_names() -> tuple[str, ...]:
    """Canonical preset names."""
    return tuple(PRESETS)


def get_preset(name: str = "default", **overrides: Any) -> Preset:
    """A preset by name (case-insensitive; ``_`` and ``-`` alike; a few aliases), with overrides.

    Overrides are preset fields (``epochs=5``, ``n_clusters=8``), whole solvers
    (``train_solver=SolverConfig(...)`` or a partial dict ``eval_solver={"alpha": 0.5}``) or
    solver-field shorthands ``train_<field>=`` / ``eval_<field>=`` (``train_eps=0.06``). Every
    value is validated.

    Raises:
        ValueError: unknown preset name (listing the valid names) or invalid override.
    """
    if not isinstance(name, str):
        raise TypeError(f"get_preset: expected a preset name, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, _ALIASES.get(key.replace("-", "_"), key))
    if key not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)} (aliases: {', '.join(_ALIASES)})")
    preset = PRESETS[key]
    return preset.replace(**overrides) if overrides else preset


#: ASOT settings for decoding: :data:`asot.defaults.DECODE`, the paper's evaluation solver (spec
#: section 3 "defaults elsewhere": eps 0.04, alpha 0.6, r 0.04, lambda 0.01, 25 iterations,
#: unbalanced actions; the ``default`` preset's evaluation solver is this with the measured radius)
#: -- one source of defaults shared with training and evaluation. Re-exported by
#: :mod:`asot.decoders`; known without torch.
DEFAULT_DECODE_CONFIG: SolverConfig = DECODE

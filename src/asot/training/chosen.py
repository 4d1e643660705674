"""The settings a run actually used, per activity and per video (``"chosen"`` in ``config.json``
and ``metrics.json``), and their one-line summary for the command line.

With the data-driven ``default`` preset (``radius="auto"``, ``rho_auto``; ``docs/defaults.md``)
the prior weight, the recurrence decision and each training video's structure radius are chosen
from the data at the start of training, and the prior's weight again after it from the trained
model's order of actions (``order_prior``); the paper presets record their fixed values the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["chosen_settings", "summary_lines"]


def _radius(config) -> Any:
    if config.radius_frames is not None:
        return {"frames": int(config.radius_frames)}
    return config.radius


def chosen_settings(results: Mapping[str, Any], groups: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """``{activity: {...}}``: K, the prior weight used, recurrence, the radius policies, the
    evaluation eps / lambda and (``radius="auto"``) the measured radius of every training video."""
    out: dict[str, Any] = {}
    for act, r in results.items():
        module = r.module
        if module is None:
            continue
        entry: dict[str, Any] = {
            "n_clusters": int(r.n_clusters),
            "rho": float(module.rho_used),
            "rho_auto": bool(module.hparams.rho_auto),
            "prior": "centred" if module.prior_centred else "paper",
            "min_run_radii": module.min_run_radii,
            "recurring": bool(module.recurring),
            "recurrence": None if getattr(module, "recurrence", None) is None else round(float(module.recurrence), 3),
            "train_radius": _radius(module.train_solver),
            "eval_radius": _radius(module.eval_solver),
            "eval_eps": float(module.eval_solver.eps),
            "eval_lambda_actions": float(module.eval_solver.lambda_actions),
        }
        radii = getattr(module, "training_radii", None)
        if radii is not None:
            names = [v.name for v in groups[act]]
            entry["radius_per_video"] = {n: round(float(x), 6) for n, x in zip(names, radii)}
        restarts = getattr(r, "restarts", None)
        if restarts is not None:
            entry["restarts"] = restarts
        order = getattr(r, "order_prior", None)
        if order is not None:
            entry["order_prior"] = order
        out[act] = entry
    return out


def summary_lines(chosen: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per activity: what was chosen."""
    lines = []
    for act, c in chosen.items():
        parts = [f"K {c['n_clusters']}"]
        rec = c.get("recurrence")
        prior = f"rho {c['rho']:g}" + (" centred" if c.get("prior") == "centred" and c["rho"] > 0 else "")
        if c.get("rho_auto") and rec is not None:
            prior += f" ({'actions recur' if c['recurring'] else 'once each'}: {rec:.1f} occurrences/action)"
        parts.append(prior)
        radii = c.get("radius_per_video")
        if radii:
            values = sorted(radii.values())
            parts.append(f"radius auto r {values[0]:.4g}-{values[-1]:.4g}" if len(values) > 1 else f"radius auto r {values[0]:.4g}")
        else:
            parts.append(f"radius {c['eval_radius']}")
        parts.append(f"eval eps {c['eval_eps']:g} lambda {c['eval_lambda_actions']:g}")
        if c.get("min_run_radii"):
            parts.append(f"runs >= {c['min_run_radii']:g} radii")
        order = c.get("order_prior")
        if order and order.get("applied", True) and order.get("consistency") is not None:
            verdict = f"retrained with rho {order['rho']:g}" if order.get("retrained") else "kept"
            parts.append(f"order consistency {order['consistency']:.2f} ({verdict})")
        if c.get("restarts"):
            r = c["restarts"]
            parts.append(f"seed {r['chosen_seed']} of {len(r['seeds'])} restarts (most in agreement)")
        lines.append(f"chosen for {act}: " + ", ".join(parts))
    return lines

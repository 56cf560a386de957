"""`attnviz class-stats`."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import AttnvizError
from .common import print_table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`attnviz class-stats`."""
    p = sub.add_parser("class-stats", help="how much every gate depends on the class (from a profile)",
                       description="Per gate of a profile, on the value compared across classes: eta squared "
                                   "(mean over channels of the one-way ANOVA's between-class share), its 95% "
                                   "parametric-bootstrap interval and its noise floor, omega squared, the "
                                   "F-test p-value (Bonferroni over channels), class specificity with its "
                                   "interval and noise floor, and the verdicts of attnviz.analysis.claims (class "
                                   "dependence, the depth trend, saturation).")
    p.add_argument("profile", help="a profile made with `attnviz profile`")
    p.add_argument("--classes", help="comma-separated class names (default: every class with images)")
    p.add_argument("--scale", type=float, default=1.0, help="zoom of the profile (default 1.0)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis import claims
    from ..profiles.class_stats import MIN_IMAGES_PER_CLASS, class_dependence, compared_path, value_label
    from ..profiles.profile import load_profile

    profile = load_profile(args.profile)
    if args.classes:
        wanted = [c.strip() for c in args.classes.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in profile.class_names]
        if unknown:
            raise AttnvizError(f"{args.profile} has no class {unknown[0]!r}; its classes are "
                               + ", ".join(profile.class_names))
        classes = [profile.class_names.index(c) for c in wanted]
    else:
        classes = None
    try:
        scale_index = profile.scale_index(args.scale)
    except KeyError as exc:
        raise AttnvizError(str(exc.args[0])) from None
    gates = list(profile.gates)
    deps = [class_dependence(profile, g.name, classes, scale_index) for g in gates]
    reading = claims.excitation_reading(profile, gates, classes, scale_index, deps)
    rows: list[dict[str, Any]] = []
    for g, d, verdict in zip(gates, deps, reading.verdicts.values(), strict=True):
        rows.append({"gate": d.gate, "kind": g.kind.name, "path": compared_path(g), "value": value_label(g),
                     **d.as_dict(), "verdict": verdict})
    trends: dict[str, dict[str, Any]]
    trends = {name: {"blocks": list(t.blocks), "rho": t.test.rho, "p": t.test.p, "n": t.n,
                     "exact": t.test.exact, "verdict": t.verdict}
              for name, t in (("eta_squared", reading.eta_trend), ("specificity", reading.specificity_trend))}
    saturation = [{"gate": s.gate, "share_at_least_0.9": s.share_high, "mean": s.mean, "saturated": s.saturated}
                  for s in reading.last_stage]
    if args.json:
        print(json.dumps({"profile": profile.model, "data": profile.data, "scale": profile.scales[scale_index],
                          "min_images_per_class": MIN_IMAGES_PER_CLASS, "gates": rows, "depth_trend": trends,
                          "last_stage_saturation": saturation}, indent=1, allow_nan=False,
                         default=lambda _value: None))
        return 0
    print(f"class statistics of {profile.model} over {profile.data or args.profile} "
          f"({deps[0].images} images, {deps[0].classes} classes, scale {profile.scales[scale_index]:g})")

    def _pair(v: list | None) -> str:
        return "-" if v is None or v[0] is None else f"{v[0]:.3f}-{v[1]:.3f}"

    print_table([{"gate": r["gate"], "eta2": f"{r['eta_squared']:.3f}", "95% interval": _pair(r["eta_squared_interval"]),
                   "null (mean/q95)": f"{r['eta_squared_null'] or float('nan'):.4f}/{r['eta_squared_null_q95'] or float('nan'):.4f}",
                   "omega2": f"{r['omega_squared'] or float('nan'):.3f}",
                   "p": f"{r['p'] if r['p'] is not None else float('nan'):.2g}",
                   "specificity": f"{r['specificity']:.3f}", "spec. null q95": f"{r['specificity_null_q95'] or float('nan'):.4f}",
                   "verdict": claims.VERDICTS[r["verdict"]]} for r in rows],
                 ["gate", "eta2", "95% interval", "null (mean/q95)", "omega2", "p", "specificity", "spec. null q95",
                  "verdict"])
    for name, t in trends.items():
        print(f"{name} with depth over {t['n']} blocks before the last stage: rho = {t['rho']:+.2f}, "
              f"p = {t['p']:.2g} -> {claims.TRENDS[t['verdict']]}")
    for s in saturation:
        print(f"{s['gate']}: {s['share_at_least_0.9']:.1%} of values >= 0.9 -> "
              f"{'saturated' if s['saturated'] else 'not saturated'}")
    return 0

"""Figure of docs/theory.md §7b from the JSON of `stochsyn theory local-entropy --y sigma0 ... --json`.

Usage: python scripts/theory/plot_sigma0.py runs/sigma0.json docs/figures/theory_sigma0.png
Left: S* (free reference) and S*_c (reference a solution, first order) against d, one
marker per continued branch; right: y*(d). Reads only the file; computes nothing.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str, dst: str) -> None:
    doc = json.load(open(src))
    rows = doc["curves"] if isinstance(doc, dict) else doc
    fig, (ax, ay) = plt.subplots(1, 2, figsize=(10, 4))
    for k, a in enumerate(sorted({r["alpha"] for r in rows})):
        color = f"C{k}"
        for b in sorted({r.get("branch", 0) for r in rows if r["alpha"] == a}):
            pts = sorted((r for r in rows if r["alpha"] == a and r.get("branch", 0) == b and r["y_star"] == r["y_star"]),
                         key=lambda r: r["d"])
            if not pts:
                continue
            ds = [r["d"] for r in pts]
            mk = "o" if b == 0 else "s"
            lab = f"α={a:g}" + ("" if b == 0 else f" (branch {b})")
            ax.plot(ds, [r["local_entropy"] for r in pts], mk + "-", color=color, ms=3, label=f"{lab}, free ref.")
            ax.plot(ds, [r["constrained_local_entropy"] for r in pts], mk + "--", color=color, ms=3, alpha=0.7,
                    label=f"{lab}, ref. a solution")
            ay.plot(ds, [r["y_star"] for r in pts], mk + "-", color=color, ms=3, label=lab)
    ax.set_xlabel("d")
    ax.set_ylabel("local entropy at Σ(y*) = 0")
    ax.legend(fontsize=7)
    ay.set_xlabel("d")
    ay.set_ylabel("y*")
    ay.legend(fontsize=7)
    fig.suptitle("densest regions that exist (RS, κ = 0)")
    fig.tight_layout()
    fig.savefig(dst, dpi=120)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Draw PNG figures from the .npy and .csv files sdeflow's programs write.

Needs Debian's python3-matplotlib (and python3-numpy, which it pulls in); run it with /usr/bin/python3
(`bash scripts/install-deps.sh --plot` installs them). Subcommands:

  plot.py demo DIR [--out OUT]            every figure of a gmm_ring_demo output directory
  plot.py samples SAMPLES.npy [--density GRID.npy] --out FIG.png
                                          samples over the contours of an exact density
  plot.py trajectories PATHS.npy [--density GRID.npy] --out FIG.png
                                          paths of shape (T, n, 2) over the density
  plot.py nfe TABLE.csv --out FIG.png     error against NFE on log axes, the exact draw's noise floor marked

A density grid is what gmm_ring_demo writes: shape (g*g, 3), columns x, y, density, x varying fastest.
Exit code 2 on a bad argument or a missing or malformed file, with a message naming it.
"""
import argparse
import csv
import os
import sys

try:
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write(f"plot.py: {e.name} is missing: install python3-matplotlib "
                     f"(bash scripts/install-deps.sh --plot) and run with /usr/bin/python3\n")
    sys.exit(2)


class BadInput(Exception):
    pass


def load(path, ndim=None):
    if not os.path.isfile(path):
        raise BadInput(f"{path}: no such file")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise BadInput(f"{path}: not a .npy array ({e})")
    if ndim is not None and a.ndim != ndim:
        raise BadInput(f"{path}: expected a {ndim}-dimensional array, got shape {a.shape}")
    return a


def draw_density(ax, grid_path):
    """Contours of the density grid (x, y, p rows, x fastest) on ax."""
    if grid_path is None:
        return
    t = load(grid_path, 2)
    if t.shape[1] != 3:
        raise BadInput(f"{grid_path}: expected columns x, y, density, got shape {t.shape}")
    g = int(round(np.sqrt(t.shape[0])))
    if g * g != t.shape[0]:
        raise BadInput(f"{grid_path}: {t.shape[0]} rows is not a square grid")
    x = t[:g, 0]
    y = t[::g, 1]
    p = t[:, 2].reshape(g, g)
    ax.contour(x, y, p, levels=8, colors="0.55", linewidths=0.7)


def finish(ax, title):
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    ax.set_xlim(-6, 6)
    ax.set_ylim(-6, 6)
    ax.tick_params(labelsize=7)


def samples_panel(ax, samples_path, grid_path, title, limit=4000):
    x = load(samples_path, 2)
    if x.shape[1] != 2:
        raise BadInput(f"{samples_path}: expected 2-D samples (n, 2), got shape {x.shape}")
    draw_density(ax, grid_path)
    ax.scatter(x[:limit, 0], x[:limit, 1], s=1.5, alpha=0.35, color="tab:blue", linewidths=0)
    finish(ax, title)


def trajectories_panel(ax, paths_path, grid_path, title):
    p = load(paths_path, 3)
    if p.shape[2] != 2:
        raise BadInput(f"{paths_path}: expected paths of shape (T, n, 2), got {p.shape}")
    draw_density(ax, grid_path)
    for i in range(p.shape[1]):
        ax.plot(p[:, i, 0], p[:, i, 1], lw=0.6, alpha=0.7, color="tab:orange")
    ax.scatter(p[-1, :, 0], p[-1, :, 1], s=4, color="tab:red", zorder=3, label="x at t_end")
    ax.scatter(p[0, :, 0], p[0, :, 1], s=4, color="0.3", zorder=3, label="x_T")
    ax.legend(fontsize=7, loc="upper right")
    finish(ax, title)


def read_table(path):
    if not os.path.isfile(path):
        raise BadInput(f"{path}: no such file")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"process", "method", "nfe", "mmd2", "sliced_w2"}
    if not rows or not need.issubset(rows[0].keys()):
        raise BadInput(f"{path}: expected the columns {sorted(need)} (gmm_ring_demo's nfe_vs_error.csv)")
    return rows


def nfe_figure(table_path, out):
    rows = read_table(table_path)
    processes = sorted({r["process"] for r in rows}, key=lambda s: (s != "VP", s))
    metrics = [("mmd2", "MMD² to the exact mixture"), ("sliced_w2", "sliced W2 to an exact draw")]
    fig, axes = plt.subplots(len(metrics), len(processes), figsize=(4.2 * len(processes), 3.4 * len(metrics)),
                             squeeze=False)
    for c, proc in enumerate(processes):
        mine = [r for r in rows if r["process"] == proc]
        floor = {m: abs(float(r[m])) for r in mine if r["method"] == "exact draw" for m, _ in metrics}
        methods = [m for m in dict.fromkeys(r["method"] for r in mine) if m != "exact draw"]
        for rr, (metric, label) in enumerate(metrics):
            ax = axes[rr][c]
            for method in methods:
                pts = sorted((int(r["nfe"]), float(r[metric])) for r in mine if r["method"] == method)
                nfe = [p[0] for p in pts]
                # MMD² is unbiased and can dip below 0 at the floor: show |value| and mark the floor.
                val = [max(abs(p[1]), 1e-7) for p in pts]
                ax.plot(nfe, val, marker="o", ms=3, lw=1.2, label=method)
            if metric in floor:
                ax.axhline(max(floor[metric], 1e-7), color="k", ls="--", lw=0.9, label="|value| for an exact draw (noise floor)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("score evaluations (NFE)", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.set_title(f"{proc}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(True, which="both", alpha=0.25)
            if rr == 0 and c == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out


def demo(directory, out):
    os.makedirs(out, exist_ok=True)
    written = []
    procs = [p for p in ("VP", "VE") if os.path.isfile(os.path.join(directory, f"{p}_exact_samples.npy"))]
    if not procs:
        raise BadInput(f"{directory}: no <process>_exact_samples.npy here (run gmm_ring_demo DIR first)")
    methods = ["exact", "reverse-SDE-EM", "PF-ODE-Euler", "PF-ODE-RK4"]
    fig, axes = plt.subplots(len(procs), len(methods), figsize=(3.0 * len(methods), 3.1 * len(procs)), squeeze=False)
    for r, proc in enumerate(procs):
        grid = os.path.join(directory, f"{proc}_exact_density_grid.npy")
        for c, method in enumerate(methods):
            path = os.path.join(directory, f"{proc}_{method}_samples.npy")
            title = f"{proc}: exact draw" if method == "exact" else f"{proc}: {method}, 1000 NFE"
            samples_panel(axes[r][c], path, grid, title)
    fig.tight_layout()
    written.append(os.path.join(out, "ring_samples.png"))
    fig.savefig(written[-1], dpi=130)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(procs), figsize=(4.0 * len(procs), 4.0), squeeze=False)
    for c, proc in enumerate(procs):
        trajectories_panel(axes[0][c], os.path.join(directory, f"{proc}_PF-ODE-RK4_trajectories.npy"),
                           os.path.join(directory, f"{proc}_exact_density_grid.npy"),
                           f"{proc}: probability-flow paths (RK4, 25 steps)")
    fig.tight_layout()
    written.append(os.path.join(out, "ring_trajectories.png"))
    fig.savefig(written[-1], dpi=130)
    plt.close(fig)

    written.append(nfe_figure(os.path.join(directory, "nfe_vs_error.csv"), os.path.join(out, "nfe_vs_error.png")))
    return written


def single_panel(panel, path, density, out):
    """One panel (samples_panel or trajectories_panel) of the file at path, saved as out."""
    fig, ax = plt.subplots(figsize=(4, 4))
    panel(ax, path, density, os.path.basename(path))
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out


def main(argv):
    ap = argparse.ArgumentParser(prog="plot.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="every figure of a gmm_ring_demo output directory")
    d.add_argument("dir")
    d.add_argument("--out", help="where the PNGs go (default: the directory itself)")
    s = sub.add_parser("samples", help="samples over an exact density")
    s.add_argument("samples")
    s.add_argument("--density")
    s.add_argument("--out", required=True)
    t = sub.add_parser("trajectories", help="paths (T, n, 2) over an exact density")
    t.add_argument("paths")
    t.add_argument("--density")
    t.add_argument("--out", required=True)
    n = sub.add_parser("nfe", help="error against NFE, log axes, noise floor marked")
    n.add_argument("table")
    n.add_argument("--out", required=True)
    a = ap.parse_args(argv)  # exits 2 on a bad argument, with argparse's message
    try:
        if a.cmd == "demo":
            written = demo(a.dir, a.out or a.dir)
        elif a.cmd == "samples":
            written = [single_panel(samples_panel, a.samples, a.density, a.out)]
        elif a.cmd == "trajectories":
            written = [single_panel(trajectories_panel, a.paths, a.density, a.out)]
        else:
            written = [nfe_figure(a.table, a.out)]
    except BadInput as e:
        sys.stderr.write(f"plot.py: {e}\n")
        return 2
    for w in written:
        print(f"plot.py: wrote {os.path.abspath(w)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

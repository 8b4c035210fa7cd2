#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Train a rectified flow on two moons by conditional flow matching, or reflow it on pairs from C++.

On sdeflow's clock (data at t = 0, noise at t = 1; processes/rectified_flow.hpp) the interpolant is
x_t = (1 - t) x_0 + t x_1 and the network v(x_t, t) regresses the straight-line velocity x_1 - x_0
(Liu et al. 2022, "Flow straight and fast"; Lipman et al. 2022, "Flow matching for generative
modeling"):

    loss = E_{t ~ U(0, 1), (x_0, x_1)} |v(x_t, t) - (x_1 - x_0)|^2

1-rectified flow: x_0 from the data, x_1 ~ N(0, I) independent of it. Reflow (2-rectified flow): the
pairs (x_1, x_0) = (noise, the 1-RF flow's sample from it), generated in C++ by sdeflow's coupling
generator and read here from .npy, so that the new flow's paths are straighter.

The network is sdeflow::mlp's architecture (the same as scripts/train_two_moons.py): input
[x, sin(w t), cos(w t)], SiLU hidden layers, linear output, prediction "flow". Outputs, in --out:

    <name>.safetensors   float32 weights and metadata (prediction = flow, process = rectified_flow)
    <name>.pt            the same network as TorchScript, forward(x: (n, 2), t: (n,))
    <name>_loss.csv      step, training loss (the mean of the last 100 batches), learning rate

Run with Debian's interpreter (python3-torch): /usr/bin/python3 scripts/train_flow.py
    --name flow_1rf                                     # 1-rectified flow on two moons
    --name flow_2rf --pairs pairs.npy                   # reflow on (x_1, x_0) pairs, shape (n, 2, 2)
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_two_moons import EpsNet, export_torchscript, two_moons, write_safetensors  # noqa: E402


def load_pairs(path, ap):
    """(x_1, x_0) pairs: a float array of shape (n, 2, d) ([:, 0] noise, [:, 1] sample). Exit code 2 otherwise."""
    if not os.path.isfile(path):
        ap.error(f"--pairs {path}: no such file")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as e:
        ap.error(f"--pairs {path}: not a .npy array ({e})")
    if a.ndim != 3 or a.shape[1] != 2 or a.shape[2] != 2:
        ap.error(f"--pairs {path}: expected shape (n, 2, 2), got {a.shape}")
    return torch.as_tensor(a[:, 0], dtype=torch.float32), torch.as_tensor(a[:, 1], dtype=torch.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "examples", "data"))
    ap.add_argument("--name", default="flow_1rf", help="output file stem")
    ap.add_argument("--pairs", help="reflow on these (x_1, x_0) pairs (.npy, shape (n, 2, 2)) instead of "
                                    "independent noise and data")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.steps < 1 or args.batch < 2 or args.hidden < 1 or args.depth < 1 or args.threads < 1:
        ap.error("--steps, --hidden, --depth and --threads must be >= 1 and --batch >= 2")

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    if args.pairs:
        x1_all, x0_all = load_pairs(args.pairs, ap)
        source = f"reflow on {x0_all.shape[0]} pairs from {os.path.basename(args.pairs)}"
    else:
        x0_all = torch.as_tensor(two_moons(20000, 0.05, rng), dtype=torch.float32)
        x1_all = None
        source = "two moons (20000 points, noise 0.05) and independent N(0, I)"

    net = EpsNet(2, np.geomspace(1.0, 256.0, 8), args.hidden, args.depth)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps, eta_min=1e-5)
    os.makedirs(args.out, exist_ok=True)
    curve_path = os.path.join(args.out, f"{args.name}_loss.csv")
    recent = []
    start = time.time()
    with open(curve_path, "w", newline="") as f:
        curve = csv.writer(f)
        curve.writerow(["step", "loss", "lr"])
        for step in range(args.steps):
            idx = torch.randint(0, x0_all.shape[0], (args.batch,))
            x0 = x0_all[idx]
            x1 = x1_all[idx] if x1_all is not None else torch.randn_like(x0)
            t = torch.rand(args.batch)
            xt = (1 - t)[:, None] * x0 + t[:, None] * x1
            loss = ((net(xt, t) - (x1 - x0)) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            recent = (recent + [loss.item()])[-100:]
            if step % 100 == 99 or step + 1 == args.steps:
                curve.writerow([step + 1, f"{np.mean(recent):.6f}", f"{sched.get_last_lr()[0]:.3e}"])
            if step % 2000 == 0 or step + 1 == args.steps:
                print(f"step {step:6d}  loss {np.mean(recent):.4f}  ({time.time() - start:.0f} s)", flush=True)

    tensors = {"time_embedding.frequencies": (net.frequencies.numpy(), "F32")}
    for i, layer in enumerate(net.layers):
        tensors[f"layers.{i}.weight"] = (layer.weight.detach().numpy(), "F32")
        tensors[f"layers.{i}.bias"] = (layer.bias.detach().numpy(), "F32")
    meta = {"architecture": "mlp", "activation": "silu", "prediction": "flow", "process": "rectified_flow",
            "clock": "data at t = 0, noise at t = 1", "data": "two_moons", "data_noise": 0.05,
            "trained_on": source, "seed": args.seed, "steps": args.steps, "trainer": f"torch {torch.__version__}"}
    write_safetensors(os.path.join(args.out, f"{args.name}.safetensors"), tensors, meta)
    export_torchscript(net, os.path.join(args.out, f"{args.name}.pt"))
    for suffix in (".safetensors", ".pt", "_loss.csv"):
        print(f"train_flow.py: wrote {os.path.abspath(os.path.join(args.out, args.name + suffix))}")


if __name__ == "__main__":
    main()

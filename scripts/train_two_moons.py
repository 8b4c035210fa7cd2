#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Train sdeflow's example noise-prediction network on two moons and write it as safetensors.

Denoising score matching (Vincent 2011; Ho et al. 2020's epsilon form) under the VP SDE with the
linear beta schedule beta(t) = 0.1 + 19.9 t on [0, 1] (Song et al. 2021), the same process as
sdeflow::vp_process<sdeflow::linear_beta<double>>:

    x_t = s(t) x_0 + sigma(t) eps,   s = exp(-B/2),  sigma = sqrt(1 - exp(-B)),  B = 0.1 t + 9.95 t^2
    loss = E_{t ~ U(t_min, 1), x_0, eps} |eps_theta(x_t, t) - eps|^2

The network is sdeflow::mlp's architecture (include/sdeflow/models/mlp.hpp): input
[x, sin(w t), cos(w t)], SiLU hidden layers, linear output. Outputs (committed, so C++ needs no Python):

    examples/data/two_moons_eps.safetensors     F32 weights, metadata describing process and data
    examples/data/two_moons_golden.safetensors  F64 inputs, outputs and input-Jacobian traces of the
                                                network evaluated in float64 by PyTorch, plus held-out data

    examples/data/two_moons_eps.pt              the same network as TorchScript (float32), for sdeflow's
                                                optional LibTorch adapter (include/sdeflow/torch/torch.hpp):
                                                forward(x: (n, 2), t: (n,)) -> eps: (n, 2)

Run with Debian's interpreter (python3-torch): /usr/bin/python3 scripts/train_two_moons.py
With --export-torchscript it trains nothing: it reads the committed two_moons_eps.safetensors and
writes two_moons_eps.pt with exactly those weights.
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch

BETA_MIN, BETA_MAX = 0.1, 20.0
T_MIN = 1e-3
SHIFT = np.array([0.5, 0.25])   # two moons' mean
SCALE = np.array([2.0, 2.0])    # spread to roughly unit scale per axis


def two_moons(n, noise, rng):
    """Two interleaving half circles (the usual toy set), with isotropic Gaussian noise, standardised."""
    upper = rng.random(n) < 0.5
    theta = rng.random(n) * math.pi
    x = np.where(upper, np.cos(theta), 1.0 - np.cos(theta))
    y = np.where(upper, np.sin(theta), 0.5 - np.sin(theta))
    pts = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    return (pts - SHIFT) * SCALE


def vp_coefficients(t):
    big_b = BETA_MIN * t + (BETA_MAX - BETA_MIN) * t * t / 2
    return torch.exp(-big_b / 2), torch.sqrt(-torch.expm1(-big_b))


class EpsNet(torch.nn.Module):
    def __init__(self, d, frequencies, hidden, depth):
        super().__init__()
        self.register_buffer("frequencies", torch.as_tensor(frequencies, dtype=torch.float32))
        widths = [d + 2 * len(frequencies)] + [hidden] * depth + [d]
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x, t):
        wt = t[:, None] * self.frequencies[None, :]
        h = torch.cat([x, torch.sin(wt), torch.cos(wt)], dim=1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i + 1 < len(self.layers):
                h = torch.nn.functional.silu(h)
        return h


def read_safetensors(path):
    """The tensors of a safetensors file as float32 torch tensors (F32 only: what write_safetensors wrote)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out


def export_torchscript(net, path):
    """TorchScript of the network in float32; forward(x: (n, d), t: (n,))."""
    scripted = torch.jit.script(net.float().eval())
    scripted.save(path)


def export_committed(out_dir):
    """two_moons_eps.pt from the committed safetensors weights, bit for bit."""
    w = read_safetensors(os.path.join(out_dir, "two_moons_eps.safetensors"))
    depth = sum(1 for k in w if k.endswith(".weight")) - 1
    hidden = w["layers.0.weight"].shape[0]
    net = EpsNet(2, w["time_embedding.frequencies"].numpy(), hidden, depth)
    with torch.no_grad():
        net.frequencies.copy_(w["time_embedding.frequencies"])
        for i, layer in enumerate(net.layers):
            layer.weight.copy_(w[f"layers.{i}.weight"])
            layer.bias.copy_(w[f"layers.{i}.bias"])
    path = os.path.join(out_dir, "two_moons_eps.pt")
    export_torchscript(net, path)
    print(f"wrote {os.path.abspath(path)} (TorchScript of the committed weights)")


def write_safetensors(path, tensors, metadata):
    """safetensors: u64 little-endian header length, JSON header, little-endian row-major data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, (array, dtype) in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f8" if dtype == "F64" else "<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(array)), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "examples", "data"))
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--export-torchscript", action="store_true",
                    help="train nothing: write two_moons_eps.pt from the committed two_moons_eps.safetensors")
    args = ap.parse_args()
    if args.export_torchscript:
        export_committed(args.out)
        return

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)
    noise = 0.05
    train = torch.as_tensor(two_moons(20000, noise, rng), dtype=torch.float32)
    heldout = two_moons(4000, noise, np.random.default_rng(args.seed + 1))

    frequencies = np.geomspace(1.0, 256.0, 8)  # rad per unit time: resolves the fast change near t = 0
    net = EpsNet(2, frequencies, args.hidden, args.depth)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps, eta_min=1e-5)
    start = time.time()
    for step in range(args.steps):
        idx = torch.randint(0, train.shape[0], (args.batch,))
        x0 = train[idx]
        t = T_MIN + (1 - T_MIN) * torch.rand(args.batch)
        s, sd = vp_coefficients(t)
        eps = torch.randn_like(x0)
        xt = s[:, None] * x0 + sd[:, None] * eps
        loss = ((net(xt, t) - eps) ** 2).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 2000 == 0 or step + 1 == args.steps:
            print(f"step {step:6d}  loss {loss.item():.4f}  ({time.time() - start:.0f} s)", flush=True)

    os.makedirs(args.out, exist_ok=True)
    tensors = {"time_embedding.frequencies": (net.frequencies.numpy(), "F32")}
    for i, layer in enumerate(net.layers):
        tensors[f"layers.{i}.weight"] = (layer.weight.detach().numpy(), "F32")
        tensors[f"layers.{i}.bias"] = (layer.bias.detach().numpy(), "F32")
    meta = {"architecture": "mlp", "activation": "silu", "prediction": "epsilon", "process": "vp_linear",
            "beta_min": BETA_MIN, "beta_max": BETA_MAX, "t_min": T_MIN, "data": "two_moons",
            "data_noise": noise, "data_shift": "0.5,0.25", "data_scale": "2,2", "seed": args.seed,
            "steps": args.steps, "trainer": f"torch {torch.__version__}"}
    write_safetensors(os.path.join(args.out, "two_moons_eps.safetensors"), tensors, meta)

    # Golden pairs: the float32 weights evaluated in float64, so C++ (double) can match to ~1e-12.
    net64 = net.double()
    grng = np.random.default_rng(args.seed + 2)
    times = np.array([T_MIN, 0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0])
    gx, gt = [], []
    for t in times:
        x0 = two_moons(8, noise, grng)
        s, sd = (v.item() for v in vp_coefficients(torch.tensor(t, dtype=torch.float64)))
        gx.append(s * x0 + sd * grng.standard_normal(x0.shape))
        gt.append(np.full(8, t))
    gx, gt = np.concatenate(gx), np.concatenate(gt)
    xt = torch.as_tensor(gx, dtype=torch.float64)
    tt = torch.as_tensor(gt, dtype=torch.float64)
    with torch.no_grad():
        out = net64(xt, tt).numpy()
    # Trace of d eps / d x per sample, by reverse-mode autograd: an independent check of mlp's Jacobian.
    traces = []
    for j in range(xt.shape[0]):
        jac = torch.autograd.functional.jacobian(lambda v: net64(v[None, :], tt[j:j + 1])[0], xt[j])
        traces.append(torch.trace(jac).item())
    golden = {"x": (gx, "F64"), "t": (gt, "F64"), "eps": (out, "F64"),
              "eps_jacobian_trace": (np.array(traces), "F64"), "heldout": (heldout, "F64")}
    write_safetensors(os.path.join(args.out, "two_moons_golden.safetensors"), golden,
                      {"about": "x, t: inputs; eps: float64 PyTorch outputs; heldout: two-moons test data"})
    export_torchscript(net, os.path.join(args.out, "two_moons_eps.pt"))
    print(f"wrote {args.out}: {sum(p.numel() for p in net.parameters())} parameters, "
          f"final loss {loss.item():.4f}, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()

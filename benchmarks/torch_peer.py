#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch-on-CPU timing peer for benchmarks/peers_bench.cpp, launched by scripts/bench.sh.

Times, with torch's own thread count set to --threads:
  EM/torch            Euler-Maruyama on the OU SDE, 2 x 1e5 batch, 20 steps, torch.randn noise
  MLP/torch_forward   the two-moons network (same layer sizes and SiLU, weights from the safetensors
                      file) forward on 4096 samples, float32 and float64
  DPM/torch           DPM-Solver++(2M) (Lu et al. 2022, the multistep data-prediction update in the
                      sigma form of Karras et al. 2022), 20 steps on the Karras grid 80 -> 0.002 -> 0,
                      with the exact denoiser of the ring mixture (8 modes, radius 4, std 0.3) under
                      x = x0 + sigma eps, on 1e6 float64 samples: samples per second
Prints one line per benchmark: name, ns per item (element-step or sample). Exits 0 with a message when
torch is not installed (Debian: python3-torch)."""
import argparse
import json
import math
import struct
import sys
import time


def best_of(fn, repeats=7, inner=1):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--weights", required=True, help="two_moons_eps.safetensors")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("torch_peer: PyTorch is not installed (apt-get install python3-torch); skipped")
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    # Euler-Maruyama on OU: theta = 1, mu = 0, c = 0.5, h = 1/20, 2 x 1e5.
    n, steps, h = 100000, 20, 1.0 / 20
    x = torch.ones(2, n, dtype=torch.float64)

    def em():
        nonlocal x
        for _ in range(steps):
            x = x + h * (-(x - 0.0)) + 0.5 * (h ** 0.5) * torch.randn(2, n, dtype=torch.float64)

    t = best_of(em)
    print(f"EM/torch_threads_{args.threads} {t / (steps * 2 * n) * 1e9:.3f}")

    # The two-moons MLP: layer shapes from the file header, SiLU, time embedding [sin(w t), cos(w t)].
    with open(args.weights, "rb") as f:
        raw = f.read()
    hlen = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + hlen])
    shapes = [header[f"layers.{i}.weight"]["shape"] for i in range(len([k for k in header if k.endswith(".weight")]))]
    freqs = header["time_embedding.frequencies"]["shape"][0]
    for dtype, name in ((torch.float32, "f32"), (torch.float64, "f64")):
        layers = [torch.nn.Linear(s[1], s[0]).to(dtype) for s in shapes]
        w = torch.linspace(1.0, 8.0, freqs, dtype=dtype)
        xb = torch.ones(4096, 2, dtype=dtype)
        tval = [0.5]

        def forward():
            tval[0] = 0.1 if tval[0] > 0.9 else tval[0] + 1e-3
            emb = torch.cat([torch.sin(w * tval[0]), torch.cos(w * tval[0])]).expand(4096, 2 * freqs)
            hdn = torch.cat([xb, emb], dim=1)
            for i, layer in enumerate(layers):
                hdn = layer(hdn)
                if i + 1 < len(layers):
                    hdn = torch.nn.functional.silu(hdn)
            return hdn

        with torch.no_grad():
            t = best_of(forward, repeats=7, inner=50)
        print(f"MLP/torch_forward_{name}_4096_threads_{args.threads} {t / 4096 * 1e9:.3f}")

    # DPM-Solver++(2M) with the exact ring-mixture denoiser, 1e6 samples (same grid and model as DPM/sdeflow).
    K, radius, std, n_dpm, steps_dpm = 8, 4.0, 0.3, 1000000, 20
    ang = torch.arange(K, dtype=torch.float64) * (2 * torch.pi / K)
    mu = torch.stack([radius * torch.cos(ang), radius * torch.sin(ang)], dim=1)  # K x 2

    def denoise(x, sigma):  # x: n x 2; E[x0 | x] for equal-weight isotropic components
        v = std * std + sigma * sigma
        logits = -((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1) / (2 * v)  # n x K
        r = torch.softmax(logits, dim=1)
        mean_mu = r @ mu
        return mean_mu + (std * std / v) * (x - mean_mu)

    rho, smin, smax = 7.0, 0.002, 80.0
    i = torch.arange(steps_dpm, dtype=torch.float64) / (steps_dpm - 1)
    sig = (smax ** (1 / rho) + i * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    sigmas = torch.cat([sig, torch.zeros(1, dtype=torch.float64)]).tolist()
    x_start = torch.randn(n_dpm, 2, dtype=torch.float64) * smax

    def dpm():
        x = x_start
        old, h_last = None, None
        for k in range(steps_dpm):
            d = denoise(x, sigmas[k])
            if sigmas[k + 1] == 0:
                x = d
            else:
                h = math.log(sigmas[k]) - math.log(sigmas[k + 1])
                dd = d if old is None else (1 + 1 / (2 * h_last / h)) * d - (1 / (2 * h_last / h)) * old
                x = (sigmas[k + 1] / sigmas[k]) * x - math.expm1(-h) * dd
                h_last = h
            old = d
        return x

    with torch.no_grad():
        t = best_of(dpm, repeats=2)
    print(f"DPM/torch_threads_{args.threads} samples_per_s {n_dpm / t:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

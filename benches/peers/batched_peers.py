"""Peer figures for benches/batched.rs (issue 17): the 64-32-10 sigmoid network, squared-error
cost summed over a batch, gradient with respect to all weights and biases, one CPU thread.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install jax torch   # torch optional
    /tmp/peers/bin/python benches/peers/batched_peers.py

Prints microseconds per gradient (best of 15 repeats of 200 calls, after warm-up), for JAX (jit)
in f64 and f32 and, when installed, PyTorch (eager autograd, one thread). Not run by CI (no
Python there). candle, the Rust peer, is the standalone project in benches/peers/candle.
"""

import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

IN, HID, OUT = 64, 32, 10


def best_us(f, reps=200, repeats=15):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        times.append((time.perf_counter() - t) / reps)
    return min(times) * 1e6


def data(batch, dtype):
    r = np.random.default_rng(1)
    p = [0.3 * r.uniform(-1, 1, s).astype(dtype) for s in [(HID, IN), (HID,), (OUT, HID), (OUT,)]]
    xs = r.uniform(0, 1, (batch, IN)).astype(dtype)
    ys = np.eye(OUT, dtype=dtype)[np.arange(batch) % OUT]
    return p, xs, ys


def jax_figures(batch):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def cost(p, xs, ys):
        w1, b1, w2, b2 = p
        h = jax.nn.sigmoid(xs @ w1.T + b1)
        o = jax.nn.sigmoid(h @ w2.T + b2)
        return jnp.sum((o - ys) ** 2)

    grad = jax.jit(jax.value_and_grad(cost))
    out = {}
    for name, dtype in [("f64", np.float64), ("f32", np.float32)]:
        p, xs, ys = data(batch, dtype)
        p = [jnp.asarray(a) for a in p]
        xs, ys = jnp.asarray(xs), jnp.asarray(ys)
        out[name] = best_us(lambda: jax.block_until_ready(grad(p, xs, ys)))
    return out


def torch_figures(batch):
    import torch

    torch.set_num_threads(1)
    out = {}
    for name, dtype in [("f64", torch.float64), ("f32", torch.float32)]:
        p, xs, ys = data(batch, np.float64)
        p = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in p]
        xs, ys = torch.tensor(xs, dtype=dtype), torch.tensor(ys, dtype=dtype)

        def step():
            w1, b1, w2, b2 = p
            h = torch.sigmoid(xs @ w1.T + b1)
            o = torch.sigmoid(h @ w2.T + b2)
            c = ((o - ys) ** 2).sum()
            return torch.autograd.grad(c, p)

        out[name] = best_us(step)
    return out


if __name__ == "__main__":
    for batch in (256, 1):
        print(f"batch {batch}:")
        for peer, run in [("JAX (jit)", jax_figures), ("PyTorch", torch_figures)]:
            try:
                figures = run(batch)
            except ImportError:
                print(f"  {peer}: not installed")
                continue
            print("  " + peer + ": " + ", ".join(f"{k} {v:.1f} µs" for k, v in figures.items()))

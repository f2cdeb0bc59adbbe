"""PyTorch's side of `npm run bench`: W1-W4 as bench/workloads/spec.ts defines them,
written as a PyTorch user would (torch.nn.functional, torch.optim.SGD), timed the
way bench/timing.ts times every runner, at each thread count asked for.

    python bench/workloads/torch.py [--quick] [--threads=1,2] [--only=W1,W4] [--thread-cpu]

Prints one RunnerResult per thread count (spec.ts) as a JSON list on its last
line. compare.ts runs it when a Python with torch is found (PYTHON=...), in
rounds alternating with convae's runner.

Same numbers as the other runners: the inputs and the W4 weights come from
spec.ts's LCG (`fill_uniform` below is `fillUniform`, bit for bit once rounded
to float32), so W4's logits can be checked against convae's. Same networks:
- W1/W2: conv 5x5 + bias -> tanh -> max_pool2d 2x2 with indices -> max_unpool2d
  -> conv_transpose2d with the *same* weight tensor (tied) + its own bias ->
  identity -> MSE as convae's mse_loss (sum of squares / (2 n)) -> backward -> SGD.
- W3: the CNN (conv 20, tanh, pool, conv 50, tanh, pool, dense 500 relu,
  dense 10), cross-entropy (mean over the batch) -> backward -> SGD.
- W4: the W3 network's logits on 256 images, under torch.inference_mode().
A training step is zero_grad + forward + backward + optimizer.step, as convae's
runner does it (zeroGrad + trainStep + optimizer.step).
"""
import json
import math
import os
import re
import sys
import time

# This file is named torch.py (the name): drop its own folder from the
# module path, or `import torch` would import this file.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BATCH = {"W1": 64, "W2": 64, "W3": 64, "W4": 256}
INPUT_SHAPE = {"W1": (1, 28, 28), "W2": (20, 12, 12), "W3": (1, 28, 28), "W4": (1, 28, 28)}
LR = 0.01
IDS = ["W1", "W2", "W3", "W4"]
# bench/timing.ts: warm-up calls, warm-up ms, min samples, max samples, min ms.
QUICK = (1, 0, 2, 20, 150)
FULL = (3, 500, 10, 200, 3000)
# spec.ts W4_PARAMS: name, shape, fan in, fan out.
W4_PARAMS = [
    ("block0.conv0.weight", (20, 1, 5, 5), 25, 500),
    ("block0.conv0.bias", (20,), 25, 500),
    ("block1.conv0.weight", (50, 20, 5, 5), 500, 1250),
    ("block1.conv0.bias", (50,), 500, 1250),
    ("dense0.weight", (500, 800), 800, 500),
    ("dense0.bias", (500,), 800, 500),
    ("logits.weight", (10, 500), 500, 10),
    ("logits.bias", (10,), 500, 10),
]


def fill_uniform(n, seed, lo=-1.0, hi=1.0):
    """spec.ts fillUniform: the LCG s = s*1103515245 + 12345 (mod 2^32), lo + (hi - lo) s / 2^32."""
    s = seed & 0xFFFFFFFF
    out = [0.0] * n
    for i in range(n):
        s = (s * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = lo + (hi - lo) * (s / 4294967296.0)
    return out


def inputs(wid, batch=None):
    batch = batch or BATCH[wid]
    c, h, w = INPUT_SHAPE[wid]
    x = fill_uniform(batch * c * h * w, 7 + ord(wid[1]), -1.0 if wid == "W2" else 0.0, 1.0)
    x = torch.tensor(x, dtype=torch.float32).reshape(batch, c, h, w)
    labels = torch.tensor([(i * 7 + 3) % 10 for i in range(batch)], dtype=torch.int64)
    return x, labels


def w4_weights():
    out = {}
    for i, (name, shape, fan_in, fan_out) in enumerate(W4_PARAMS):
        limit = math.sqrt(6 / (fan_in + fan_out)) * (0.1 if name.endswith("bias") else 1)
        n = math.prod(shape)
        out[name] = torch.tensor(fill_uniform(n, 1000 + i, -limit, limit), dtype=torch.float32).reshape(shape)
    return out


def glorot(shape, fan_in, fan_out):
    limit = math.sqrt(6 / (fan_in + fan_out))
    return torch.empty(shape).uniform_(-limit, limit).requires_grad_()


# --thread-cpu: samples from this thread's CPU time instead of the wall clock
# (one thread only: torch runs a 1-thread op on the calling thread). For
# comparing with native_bench's thread-CPU figures on a machine whose cores
# other processes share; compare.ts never passes it.
clock = time.perf_counter


def measure(images, call, timing):
    """bench/timing.ts `measure`: warm-up, then one images/s sample per call."""
    warm_calls, warm_ms, min_samples, max_samples, min_ms = timing
    t0 = time.perf_counter()
    i = 0
    while i < warm_calls or (time.perf_counter() - t0) * 1000 < warm_ms:
        call()
        i += 1
    rates = []
    t1 = time.perf_counter()
    while len(rates) < min_samples or ((time.perf_counter() - t1) * 1000 < min_ms and len(rates) < max_samples):
        s = clock()
        call()
        rates.append(images / (clock() - s))
    return rates


def cae_step(wid):
    c = INPUT_SHAPE[wid][0]
    f = 20 if wid == "W1" else 50
    x, _ = inputs(wid)
    w = glorot((f, c, 5, 5), c * 25, f * 25)
    b = torch.zeros(f, requires_grad=True)
    bd = torch.zeros(c, requires_grad=True)
    opt = torch.optim.SGD([w, b, bd], lr=LR)

    def step():
        opt.zero_grad()
        h = torch.tanh(F.conv2d(x, w, b))
        p, idx = F.max_pool2d(h, 2, return_indices=True)
        u = F.max_unpool2d(p, idx, 2, output_size=h.shape[-2:])
        y = F.conv_transpose2d(u, w, bd)  # tied: the encoder's weight, PyTorch's [in, out, kh, kw] of the transpose
        loss = ((y - x) ** 2).sum() / (2 * x.numel())
        loss.backward()
        opt.step()
        return loss.item()

    return step


def cnn_params(weights=None):
    if weights:
        return [weights[name].clone().requires_grad_() for name, *_ in W4_PARAMS]
    return [
        glorot((20, 1, 5, 5), 25, 500),
        torch.zeros(20, requires_grad=True),
        glorot((50, 20, 5, 5), 500, 1250),
        torch.zeros(50, requires_grad=True),
        glorot((500, 800), 800, 500),
        torch.zeros(500, requires_grad=True),
        glorot((10, 500), 500, 10),
        torch.zeros(10, requires_grad=True),
    ]


def cnn_logits(p, x):
    h = F.max_pool2d(torch.tanh(F.conv2d(x, p[0], p[1])), 2)
    h = F.max_pool2d(torch.tanh(F.conv2d(h, p[2], p[3])), 2)
    h = F.relu(F.linear(h.flatten(1), p[4], p[5]))
    return F.linear(h, p[6], p[7])


def cnn_step():
    x, labels = inputs("W3")
    p = cnn_params()
    opt = torch.optim.SGD(p, lr=LR)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(cnn_logits(p, x), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def run(wid, timing):
    if wid == "W4":
        x, _ = inputs("W4")
        p = [t.detach() for t in cnn_params(w4_weights())]

        def infer():
            with torch.inference_mode():
                return cnn_logits(p, x)

        rates = measure(BATCH["W4"], infer, timing)
        return {"workload": "W4", "status": "ok", "batch": BATCH["W4"], "imagesPerSecond": rates,
                "logits": [float(v) for v in infer().flatten()]}
    step = cnn_step() if wid == "W3" else cae_step(wid)
    return {"workload": wid, "status": "ok", "batch": BATCH[wid], "imagesPerSecond": measure(BATCH[wid], step, timing)}


def describe():
    """What computes: the BLAS / oneDNN / CPU kernels this build of torch uses."""
    blas = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    blas = blas and blas.group(1)
    parts = []
    if blas == "generic":
        # Debian's torch calls whatever libblas.so.3 resolves to: name the file loaded.
        try:
            with open("/proc/self/maps") as f:
                libs = {line.split()[-1] for line in f if "blas" in os.path.basename(line.split()[-1])}
            blas = "generic: " + ", ".join(sorted(os.path.basename(p) for p in libs)) if libs else blas
        except OSError:
            pass
    if blas:
        parts.append(f"BLAS {blas}")
    if torch.backends.mkldnn.is_available():
        parts.append("oneDNN")
    cap = getattr(torch.backends.cpu, "get_cpu_capability", None) if hasattr(torch.backends, "cpu") else None
    if cap:
        parts.append(cap())
    return ", ".join(parts)


def main():
    args = sys.argv[1:]
    arg = lambda name: next((a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")), None)
    timing = QUICK if "--quick" in args else FULL
    only = (arg("only") or ",".join(IDS)).split(",")
    counts = [int(t) for t in (arg("threads") or "1").split(",")]
    if "--thread-cpu" in args:
        if counts != [1]:
            sys.exit("--thread-cpu measures one thread: use --threads=1")
        global clock
        clock = time.thread_time
    torch.manual_seed(1)
    version = torch.__version__.split("+")[0]
    what = describe()
    results = []
    for n in counts:
        torch.set_num_threads(n)
        rows = [run(wid, timing) for wid in only]
        results.append({
            "key": f"torch-{version}-{n}",
            "library": f"PyTorch {'.'.join(version.split('.')[:2])}",
            "version": version,
            "config": f"{what}, {n} thread{'s' if n > 1 else ''} (torch.set_num_threads)",
            "threads": n,
            "rows": rows,
        })
    print(json.dumps(results))


if __name__ == "__main__":
    main()

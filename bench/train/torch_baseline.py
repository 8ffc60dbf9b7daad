#!/usr/bin/python3
"""PyTorch baseline for bench/train/run.sh and compare.sh: the same GPT
training step, written as nanoGPT writes it, timed on this CPU.

The model and step are the ones those scripts compile and gigarun trains:
by default the GPT-2 124M shape (12 layers, width 768, 12 heads, vocab
50257, 1024 learned positions, B=8, T=256; --depth/--width/--heads/--vocab/
--positions/--batch/--seq change it), pre-LN blocks with separate q/k/v Linear layers (with bias), a 4x MLP
with exact GELU, the head tied to the token embedding (no bias), mean
cross-entropy, global-norm clipping to 1.0 (clip_grad_norm_) and AdamW
(betas 0.9/0.95, eps 1e-8, weight decay 0.1 on rank >= 2 tensors only, lr
6e-4 with cosine decay to 0.1x over the run), all in float32 (--precision bf16: the forward under
torch.autocast("cpu", bfloat16), weights and optimizer fp32). Init as
gigarun's: N(0, 0.02), residual projections 0.02/sqrt(2*depth), zero biases.
Batches are B random windows of T+1 tokens from Moby Dick's train.bin
(`gigatok fetch-corpus moby-dick`, nanoGPT uint16).

Attention is nanoGPT's explicit path (q k^T / sqrt(d), masked_fill with a
causal mask, softmax, @ v) by default; --attention sdpa uses
F.scaled_dot_product_attention(is_causal=True), which needs torch >= 2.0.

For each thread count (torch.set_num_threads, default 1 then 2) a fresh
child process trains WARMUP + MEASURED steps (3 + 10) and reports the median
ms/step, tokens/s, peak RSS and MFU of the measured steps, MFU as gigarun computes it
(docs/gigarun.md, MFU): model FLOPs 6*N*tokens + 12*depth*T*width*tokens
over a peak of clock x FLOP/cycle x threads, FLOP/cycle from the CPU's ISA
as gigarun takes it (32 for AVX2+FMA, 64 for AVX-512). The children run one after the other, never at once.

  /usr/bin/python3 bench/train/torch_baseline.py [--threads 1 2]
      [--data moby/train.bin] [--warmup 3] [--measured 10]
      [--attention explicit|sdpa] [--precision fp32|bf16] [--bin-dir build/bin]
      [--depth 12 --width 768 --heads 12 --vocab 50257 --positions 1024
       --batch 8 --seq 256] [--json FILE]

Without --data the corpus is fetched with BIN_DIR/gigatok into a temporary
folder. Run it on a quiet machine: a step takes tens of seconds.
"""

import argparse
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as error:
    sys.exit("torch_baseline.py: %s (run with /usr/bin/python3 and python3-torch "
             "installed)" % error)

LEARNING_RATE, MIN_LR_RATIO = 6e-4, 0.1
BETAS, EPS, WEIGHT_DECAY, CLIP = (0.9, 0.95), 1e-8, 0.1, 1.0
SEED = 1337


class CausalSelfAttention(nn.Module):
    def __init__(self, c, attention):
        super().__init__()
        width = c["width"]
        self.heads = c["heads"]
        self.attention = attention
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.proj = nn.Linear(width, width)
        P = c["max_position_embeddings"]
        self.register_buffer("mask", torch.tril(torch.ones(P, P, dtype=torch.bool))
                             .view(1, 1, P, P), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        H = self.heads
        D = C // H
        q = self.q(x).view(B, T, H, D).transpose(1, 2)  # [B, H, T, D]
        k = self.k(x).view(B, T, H, D).transpose(1, 2)
        v = self.v(x).view(B, T, H, D).transpose(1, 2)
        if self.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # nanoGPT's "slow attention"
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
            att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c["width"], 4 * c["width"])
        self.proj = nn.Linear(4 * c["width"], c["width"])

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))  # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, c, attention):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["width"], eps=c["layer_norm_epsilon"])
        self.attn = CausalSelfAttention(c, attention)
        self.ln_2 = nn.LayerNorm(c["width"], eps=c["layer_norm_epsilon"])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c, attention):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["width"])
        self.wpe = nn.Embedding(c["max_position_embeddings"], c["width"])
        self.h = nn.ModuleList(Block(c, attention) for _ in range(c["depth"]))
        self.ln_f = nn.LayerNorm(c["width"], eps=c["layer_norm_epsilon"])
        std = c["init_std"]
        for name, p in self.named_parameters():
            if ".ln_" in name or name.startswith("ln_f."):
                continue  # ones and zeros already
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif name.endswith("attn.proj.weight") or name.endswith("mlp.proj.weight"):
                nn.init.normal_(p, 0.0, std / math.sqrt(2 * c["depth"]))
            else:
                nn.init.normal_(p, 0.0, std)

    def forward(self, tokens, targets):
        B, T = tokens.shape
        x = self.wte(tokens) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied head, no bias
        return F.cross_entropy(logits.view(B * T, -1), targets.view(-1))


def learning_rate(step, total):
    """run.sh's schedule: no warmup, cosine from LEARNING_RATE to 0.1x."""
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / total)))
    return LEARNING_RATE * (MIN_LR_RATIO + (1.0 - MIN_LR_RATIO) * cosine)


def peak_mhz():
    """gigarun's clock: cpuinfo_max_freq, else /proc/cpuinfo's cpu MHz."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            return int(f.read()) / 1000.0
    except OSError:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1])
    raise SystemExit("torch_baseline.py: no CPU clock in /sys or /proc/cpuinfo")


def flops_per_cycle():
    """gigarun's fp32 FLOP/cycle/core (runtime/kernels/Cpu.cpp): two FMA units
    of the widest ISA, AVX-512 at half width on AMD before Zen 5."""
    flags, vendor, family = set(), "", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "flags" and not flags:
                flags = set(value.split())
            elif key == "vendor_id" and not vendor:
                vendor = value.strip()
            elif key == "cpu family" and not family:
                family = int(value)
    if "avx512f" in flags:
        return 32 if vendor == "AuthenticAMD" and family < 0x1A else 64
    return 32 if {"avx2", "fma"} <= flags else 16


def loaded_blas():
    """The BLAS libraries this process has mapped (torch's CPU matmuls)."""
    names = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            base = os.path.basename(path)
            if any(k in base for k in ("blas", "mkl_", "blis")):
                names.add(os.path.realpath(path))
    return sorted(names)


def config_of(args):
    return {"vocab_size": args.vocab, "max_position_embeddings": args.positions,
            "depth": args.depth, "width": args.width, "heads": args.heads,
            "init_std": 0.02, "layer_norm_epsilon": 1e-5}


def child(args):
    """Train warmup + measured steps with args.threads threads; print JSON."""
    config, batch, seq = config_of(args), args.batch, args.seq
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    data = np.memmap(args.data, dtype=np.uint16, mode="r")
    if len(data) < seq + 2:
        raise SystemExit("torch_baseline.py: %s is too short" % args.data)
    model = GPT(config, args.attention)
    model.train()
    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=LEARNING_RATE, betas=BETAS, eps=EPS)
    generator = torch.Generator().manual_seed(SEED)
    total = args.warmup + args.measured
    records = []
    for step in range(1, total + 1):
        start = time.perf_counter()
        offsets = torch.randint(len(data) - seq - 1, (batch,), generator=generator)
        windows = np.stack([data[o:o + seq + 1] for o in offsets.tolist()]).astype(np.int64)
        windows = torch.from_numpy(windows)
        tokens, targets = windows[:, :-1].contiguous(), windows[:, 1:].contiguous()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, total)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16,
                            enabled=args.precision == "bf16"):
            loss = model(tokens, targets)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, CLIP)
        optimizer.step()
        loss_value = loss.item()
        seconds = time.perf_counter() - start
        records.append({"step": step, "ms": seconds * 1000.0, "loss": loss_value,
                        "grad_norm": float(grad_norm)})
        print("  threads %d step %2d: %8.0f ms  loss %.4f" % (args.threads, step,
              seconds * 1000.0, loss_value), file=sys.stderr, flush=True)
    c = config
    blas = loaded_blas()
    tokens_per_step = batch * seq
    flops = (6 * n_params * tokens_per_step
             + 12 * c["depth"] * seq * c["width"] * tokens_per_step)
    peak = peak_mhz() * 1e6 * flops_per_cycle() * args.threads
    measured = records[args.warmup:]
    ms = statistics.median(r["ms"] for r in measured)
    print(json.dumps({
        "threads": args.threads, "torch_threads": torch.get_num_threads(),
        "blas": blas,
        "parameters": n_params, "flops_per_step": flops, "peak_flops": peak,
        "median_ms": ms,
        "median_tokens_per_sec": statistics.median(
            tokens_per_step * 1000.0 / r["ms"] for r in measured),
        "median_mfu": statistics.median(flops / (r["ms"] / 1000.0) / peak for r in measured),
        "median_mfu_1thread_peak": statistics.median(
            flops / (r["ms"] / 1000.0) / (peak / args.threads) for r in measured),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "steps": records}))


def machine():
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    model = fields.get("Model name", platform.processor()).strip()
    sockets = int(fields.get("Socket(s)", "1").strip() or 1)
    cores = int(fields.get("Core(s) per socket", "0").strip() or 0) * sockets
    cpus = fields.get("CPU(s)", "?").strip()
    with open("/proc/meminfo") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
    return ("%s, %s CPUs (%d cores), %d available to this process, %.1f GiB memory"
            % (model, cpus, cores, len(os.sched_getaffinity(0)), kib / 1048576))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch.set_num_threads values, run one after the other")
    parser.add_argument("--data", help="nanoGPT uint16 train.bin (default: fetch Moby Dick)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--measured", type=int, default=10)
    parser.add_argument("--attention", choices=["explicit", "sdpa"], default="explicit")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    for name, default in (("depth", 12), ("width", 768), ("heads", 12), ("vocab", 50257),
                          ("positions", 1024), ("batch", 8), ("seq", 256)):
        parser.add_argument("--" + name, type=int, default=default)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--bin-dir", default=os.environ.get("GIGA_BIN_DIR",
                                                            os.path.join(root, "build", "bin")))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warmup < 0 or args.measured < 1 or min(args.threads) < 1:
        parser.error("--warmup must be >= 0, --measured and --threads >= 1")
    if min(args.depth, args.width, args.heads, args.vocab, args.batch, args.seq) < 1 \
            or args.width % args.heads or args.seq > args.positions:
        parser.error("the shape needs positive sizes, heads dividing width and "
                     "--seq <= --positions")
    if args.attention == "sdpa" and not hasattr(F, "scaled_dot_product_attention"):
        parser.error("--attention sdpa needs torch >= 2.0 (this is %s)" % torch.__version__)
    if args.child:
        if len(args.threads) != 1:
            parser.error("--child takes one --threads value")
        args.threads = args.threads[0]
        return child(args)

    print("$ " + "".join("%s=%s " % (k, os.environ[k]) for k in ("LD_LIBRARY_PATH",)
                         if os.environ.get(k)) + shlex.join([sys.executable] + sys.argv))
    print("machine: %s" % machine())
    print("torch %s (%s), numpy %s, Python %s" % (
        torch.__version__, torch.__file__, np.__version__, platform.python_version()))
    print("MFU peak: %.1f GFLOP/s fp32 per thread (%.0f MHz x %d FLOP/cycle)"
          % (peak_mhz() * flops_per_cycle() / 1000.0, peak_mhz(), flops_per_cycle()))
    print("attention: %s" % ("F.scaled_dot_product_attention(is_causal=True)"
                             if args.attention == "sdpa" else
                             "explicit: q@k^T/sqrt(d), masked_fill(-inf), softmax, @v"))
    with tempfile.TemporaryDirectory(prefix="giga-torch-baseline.") as work:
        data = args.data
        if data is None:
            fetch = [os.path.join(args.bin_dir, "gigatok"), "fetch-corpus", "moby-dick",
                     "--out", os.path.join(work, "moby")]
            print("$ " + shlex.join(fetch))
            subprocess.run(fetch, check=True, stdout=subprocess.DEVNULL)
            data = os.path.join(work, "moby", "train.bin")
        results = []
        for threads in args.threads:
            # torch.set_num_threads covers OpenMP (and MKL); OpenBLAS's own
            # pool follows OPENBLAS_NUM_THREADS, so set all three.
            env = {name: str(threads) for name in
                   ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
            command = [sys.executable, os.path.abspath(__file__), "--child",
                       "--threads", str(threads), "--data", data,
                       "--warmup", str(args.warmup), "--measured", str(args.measured),
                       "--attention", args.attention, "--precision", args.precision] + [
                           "--%s=%d" % (name, getattr(args, name)) for name in
                           ("depth", "width", "heads", "vocab", "positions", "batch", "seq")]
            print("$ " + " ".join("%s=%s" % kv for kv in sorted(env.items())) + " "
                  + shlex.join(command), flush=True)
            start = time.time()
            out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, **env}).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print("trained %d steps in %.0f s" % (args.warmup + args.measured,
                                                  time.time() - start))
            print("BLAS: %s" % (", ".join(result["blas"]) or "none mapped"))
            if any("/blas/libblas" in path for path in result["blas"]):
                print("warning: this is the reference (netlib) BLAS of Debian's libblas3, "
                      "~30x slower than an optimized one; install libopenblas0 (or put "
                      "its libblas.so.3 on LD_LIBRARY_PATH) for a fair baseline")
            results.append(result)
    first = args.warmup + 1
    last = args.warmup + args.measured
    print("depth %d, width %d, %d heads, vocab %d (%d parameters), B %d, T %d, %s; "
          "steps %d..%d (after %d warmup):"
          % (args.depth, args.width, args.heads, args.vocab, results[0]["parameters"],
             args.batch, args.seq, args.precision, first, last, args.warmup))
    print("  threads  median ms/step  median tokens/s  median MFU  (MFU vs 1-thread peak)"
          "  peak RSS  final loss")
    for r in results:
        print("  %7d  %14.0f  %15.1f  %9.1f%%  %21.1f%%  %5.0f MiB  %10.4f" % (
            r["threads"], r["median_ms"], r["median_tokens_per_sec"],
            100 * r["median_mfu"], 100 * r["median_mfu_1thread_peak"],
            r["peak_rss_bytes"] / 2**20, r["steps"][-1]["loss"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch oracle for giga's parity tests.

GPT-2 as gigaGPT defines it, written plainly (like nanoGPT's model.py), plus
the pieces a parity run needs: configs, safetensors, nanoGPT token files, the
learning-rate schedule and AdamW with global-norm clipping.

Commands:
  make-init CONFIG OUT.safetensors [--seed S]    initial weights (F32)
  make-data CONFIG OUT.bin [--tokens N] [--seed S]  random uint16 tokens < vocab
  compare CONFIG INIT DATA RUN_DIR [--tol 1e-4] [--no-logits] [--precision bf16]
                                                 giga's run against the oracle
  selftest                                       check the oracle itself

`compare` reads RUN_DIR/metrics.jsonl and RUN_DIR/trace-step-1.safetensors as
gigarun writes them, recomputes step 1 (logits, loss, every gradient) and the
whole loss trajectory in float64 from the same initial weights and the same
batches, and fails (exit 1) when any per-tensor relative error
||giga - torch|| / ||torch|| exceeds the tolerance. With --precision bf16
every matmul of the oracle, forward and backward, rounds its two operands to
bf16 (from fp32, ties to even) and accumulates in float64, which is what
giga's bf16 matmuls do up to fp32 accumulation; step 1's checks then allow
a part of what bf16's roundings move each tensor (docs/parity.md).

Needs only the standard library, numpy and torch (Debian's python3-torch);
run it with /usr/bin/python3.
"""

import argparse
import json
import math
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as error:  # ctest reports exit code 77 as skipped
    sys.stderr.write("gpt_reference.py: SKIP: %s (run with /usr/bin/python3 and "
                     "python3-torch installed)\n" % error)
    sys.exit(77)

# ---------------------------------------------------------------------------
# Config: the JSON form of gigaGPT's YAML, with frontend/Config.cpp's defaults.

MODEL_DEFAULTS = {"layer_norm_epsilon": 1e-5, "gelu": "exact", "norm": "layernorm"}
RUN_DEFAULTS = {
    "warmup_steps": 0,
    "optimizer": "adamw",
    "weight_decay": 0.1,
    "max_gradient_norm": 1.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.95,
    "adam_epsilon": 1e-8,
}


def load_config(path):
    with open(path) as f:
        config = json.load(f)
    return normalize_config(config)


def normalize_config(config):
    model = dict(MODEL_DEFAULTS)
    model.update(config["model"])
    model.setdefault("ffn_width", 4 * model["width"])
    run = dict(RUN_DEFAULTS)
    run.update(config["run"])
    run.setdefault("decay_steps", run["num_steps"] - run["warmup_steps"])
    if model["width"] % model["heads"]:
        raise SystemExit("config: width must be divisible by heads")
    if run["optimizer"] != "adamw":
        raise SystemExit("config: the oracle only knows run.optimizer \"adamw\"")
    return {"name": config.get("name", ""), "model": model, "run": run}


# ---------------------------------------------------------------------------
# Matmuls: exact (float64), or with bf16 operands as giga's --precision bf16.

MATMUL_PRECISION = "fp32"


def bf16(t):
    """t rounded to bf16 through fp32, as giga rounds its fp32 operands."""
    return t.float().bfloat16().to(t.dtype)


class Bf16Matmul(torch.autograd.Function):
    """alpha * a @ b with both operands rounded to bf16, and a backward whose
    two matmuls round theirs too (giga's backward is made of matmuls)."""

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.save_for_backward(a, b)
        ctx.alpha = alpha
        return alpha * (bf16(a) @ bf16(b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        g, a16 = bf16(grad), bf16(a)
        da = ctx.alpha * (g @ bf16(b).transpose(-2, -1))
        if b.dim() == 2 and a.dim() > 2:  # a weight shared by every row
            a16, g = a16.reshape(-1, a.shape[-1]), g.reshape(-1, g.shape[-1])
        return da, ctx.alpha * (a16.transpose(-2, -1) @ g), None


class matmul_precision:
    """Sets MATMUL_PRECISION for a `with` block."""

    def __init__(self, precision):
        self.precision = precision

    def __enter__(self):
        global MATMUL_PRECISION
        self.saved, MATMUL_PRECISION = MATMUL_PRECISION, self.precision

    def __exit__(self, *exc):
        global MATMUL_PRECISION
        MATMUL_PRECISION = self.saved


def mm(a, b, alpha=1.0):
    if MATMUL_PRECISION == "bf16":
        return Bf16Matmul.apply(a, b, alpha)
    return alpha * (a @ b) if alpha != 1.0 else a @ b


class Linear(nn.Linear):
    def forward(self, x):
        return mm(x, self.weight.t()) + self.bias


# ---------------------------------------------------------------------------
# The model. Parameter names are giga's: wte.weight, h.<i>.attn.q.weight, ...


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        width = c["width"]
        self.heads = c["heads"]
        self.q = Linear(width, width)
        self.k = Linear(width, width)
        self.v = Linear(width, width)
        self.proj = Linear(width, width)

    def forward(self, x):
        B, T, C = x.shape
        H = self.heads
        D = C // H
        q = self.q(x).view(B, T, H, D).transpose(1, 2)  # [B, H, T, D]
        k = self.k(x).view(B, T, H, D).transpose(1, 2)
        v = self.v(x).view(B, T, H, D).transpose(1, 2)
        # Additive causal mask, 0 on and below the diagonal and -inf above.
        mask = torch.full((T, T), float("-inf"), dtype=x.dtype, device=x.device)
        mask = torch.triu(mask, diagonal=1)
        scores = mm(q, k.transpose(-2, -1), 1.0 / math.sqrt(D)) + mask
        y = mm(torch.softmax(scores, dim=-1), v)  # [B, H, T, D]
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = Linear(c["width"], c["ffn_width"])
        self.proj = Linear(c["ffn_width"], c["width"])
        self.approximate = "tanh" if c["gelu"] == "tanh" else "none"

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate=self.approximate))


class RMSNorm(nn.Module):
    """torch 1.13 has no RMSNorm module: x * rsqrt(mean(x^2) + eps) * weight."""

    def __init__(self, width, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def make_norm(c):
    """model.norm: LayerNorm (GPT-2) or RMSNorm."""
    if c["norm"] == "rmsnorm":
        return RMSNorm(c["width"], c["layer_norm_epsilon"])
    return nn.LayerNorm(c["width"], eps=c["layer_norm_epsilon"])


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = make_norm(c)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = make_norm(c)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.wte = nn.Embedding(c["vocab_size"], c["width"])
        self.wpe = nn.Embedding(c["max_position_embeddings"], c["width"])
        self.h = nn.ModuleList(Block(c) for _ in range(c["depth"]))
        self.ln_f = make_norm(c)

    def forward(self, tokens, targets=None):
        B, T = tokens.shape
        positions = torch.arange(T, device=tokens.device)
        x = self.wte(tokens) + self.wpe(positions)
        for block in self.h:
            x = block(x)
        logits = mm(self.ln_f(x), self.wte.weight.t())  # tied, no bias
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))
        return logits, loss


def parameter_shapes(c):
    """Every parameter's name and shape, in the model's order."""
    V, P, C, F4 = c["vocab_size"], c["max_position_embeddings"], c["width"], c["ffn_width"]
    shapes = [("wte.weight", (V, C)), ("wpe.weight", (P, C))]
    for i in range(c["depth"]):
        p = "h.%d." % i
        shapes += [
            (p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
            (p + "attn.q.weight", (C, C)), (p + "attn.q.bias", (C,)),
            (p + "attn.k.weight", (C, C)), (p + "attn.k.bias", (C,)),
            (p + "attn.v.weight", (C, C)), (p + "attn.v.bias", (C,)),
            (p + "attn.proj.weight", (C, C)), (p + "attn.proj.bias", (C,)),
            (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
            (p + "mlp.fc.weight", (F4, C)), (p + "mlp.fc.bias", (F4,)),
            (p + "mlp.proj.weight", (C, F4)), (p + "mlp.proj.bias", (C,)),
        ]
    shapes += [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]
    if c["norm"] == "rmsnorm":  # a scale only, no bias
        shapes = [(n, s) for n, s in shapes
                  if not (n.endswith(".bias") and (".ln_" in n or n.startswith("ln_f.")))]
    return shapes


def build_model(c, weights, dtype=torch.float64):
    """A GPT holding `weights` (name -> numpy array), cast to `dtype`."""
    model = GPT(c).to(dtype)
    state = model.state_dict()
    expected = dict(parameter_shapes(c))
    if set(state) != set(expected):  # the module and the name list agree
        raise AssertionError("model names differ from parameter_shapes")
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise SystemExit("weights do not match the config: missing %s, unexpected %s"
                         % (missing[:5], extra[:5]))
    for name, shape in expected.items():
        w = weights[name]
        if tuple(w.shape) != tuple(shape):
            raise SystemExit("weight %s has shape %s, config says %s"
                             % (name, list(w.shape), list(shape)))
        state[name] = torch.from_numpy(np.array(w, dtype=np.float64)).to(dtype)
    model.load_state_dict(state)
    return model


def make_init(c, seed):
    """normal(0, init_std) for embeddings and Linear weights, init_std/sqrt(2
    depth) for the residual projections, zero biases, unit LayerNorm; drawn in
    float64 and rounded to float32."""
    rng = np.random.default_rng(seed)
    std = c["init_std"]
    weights = {}
    for name, shape in parameter_shapes(c):
        if ".ln_" in name or name.startswith("ln_f."):
            value = np.ones(shape) if name.endswith(".weight") else np.zeros(shape)
        elif name.endswith(".bias"):
            value = np.zeros(shape)
        elif name.endswith("attn.proj.weight") or name.endswith("mlp.proj.weight"):
            value = rng.normal(0.0, std / math.sqrt(2 * c["depth"]), size=shape)
        else:
            value = rng.normal(0.0, std, size=shape)
        weights[name] = value.astype(np.float32)
    return weights


# ---------------------------------------------------------------------------
# Optimizer: linear warmup then cosine to 0.1x, AdamW, global-norm clipping.

MIN_LR_RATIO = 0.1


def learning_rate(run, step):
    """The learning rate of step `step`, counted from 1."""
    peak, warmup, decay = run["learning_rate"], run["warmup_steps"], run["decay_steps"]
    if step < warmup:
        return peak * step / warmup
    progress = min(1.0, (step - warmup) / decay) if decay > 0 else 1.0
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    floor = run.get("min_lr_ratio", MIN_LR_RATIO)
    return peak * (floor + (1.0 - floor) * cosine)


def make_optimizer(model, run):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": run["weight_decay"]},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=run["learning_rate"],
                             betas=(run["adam_beta1"], run["adam_beta2"]),
                             eps=run["adam_epsilon"])


def train_step(model, optimizer, run, step, tokens, targets):
    """One step: loss and gradient, clip, AdamW. Returns (loss, grad_norm, lr)."""
    lr = learning_rate(run, step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    _, loss = model(tokens, targets)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), run["max_gradient_norm"])
    optimizer.step()
    return loss.item(), norm.item(), lr


# ---------------------------------------------------------------------------
# safetensors: u64 LE header length, JSON header, raw little-endian data.

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
          "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
          "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
DTYPE_NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, value in tensors.items():
        value = np.array(value, order="C")  # (ascontiguousarray makes 0-d 1-d)
        if value.dtype not in DTYPE_NAMES:
            raise ValueError("%s: dtype %s cannot be stored" % (name, value.dtype))
        data = value.astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPE_NAMES[value.dtype], "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_safetensors(path):
    """Returns (tensors: name -> numpy array, metadata: dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SystemExit("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise SystemExit("%s: header length %d runs past the end of the file" % (path, n))
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise SystemExit("%s: tensor %s has unsupported dtype %s" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not 0 <= begin <= end <= len(data) or end - begin != count * np.dtype(dtype).itemsize:
            raise SystemExit("%s: tensor %s has bad data_offsets %s for shape %s"
                             % (path, name, info["data_offsets"], list(shape)))
        array = np.frombuffer(data[begin:end], dtype=np.dtype(dtype).newbyteorder("<"))
        tensors[name] = array.astype(dtype).reshape(shape)
    return tensors, metadata


# ---------------------------------------------------------------------------
# Data: nanoGPT raw uint16 token files; a window at offset o is tokens[o:o+T+1].


def read_tokens(path):
    return np.fromfile(path, dtype="<u2")


def windows(tokens, offsets, T):
    """(inputs, targets) int64 [len(offsets), T] for the given window offsets."""
    rows = []
    for o in offsets:
        o = int(o)
        if o < 0 or o + T + 1 > len(tokens):
            raise SystemExit("window offset %d out of range for %d tokens (T=%d)"
                             % (o, len(tokens), T))
        rows.append(tokens[o:o + T + 1].astype(np.int64))
    w = np.stack(rows)
    return w[:, :-1], w[:, 1:]


def read_metrics(run_dir):
    path = os.path.join(run_dir, "metrics.jsonl")
    steps = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                record = json.loads(line)
                if "loss" in record and "step" in record:
                    steps.append(record)
    return steps


# ---------------------------------------------------------------------------
# compare


def rel_err(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf")
    num = np.linalg.norm((got - want).ravel())
    den = np.linalg.norm(want.ravel())
    if not np.isfinite(num):
        return float("inf")
    return num / den if den > 0 else (0.0 if num == 0 else float("inf"))


class Report:
    def __init__(self, tol, section_tols=None):
        self.tol = tol
        self.section_tols = section_tols or {}  # section -> its own tolerance
        self.rows = []  # (section, name, err, note, tol or None: the section's)
        self.problems = []  # plain failures that are not a tolerance

    def check(self, section, name, err, note="", tol=None):
        self.rows.append((section, name, err, note, tol))

    def fail(self, message):
        self.problems.append(message)

    def tol_of(self, section, row_tol=None):
        return row_tol if row_tol is not None else self.section_tols.get(section, self.tol)

    def failures(self):
        return [r for r in self.rows if not (r[2] <= self.tol_of(r[0], r[4]))]

    def print(self, out=sys.stdout):
        width = max([len(r[1]) for r in self.rows] + [24])
        section = None
        for sec, name, err, note, row_tol in self.rows:
            if sec != section:
                section = sec
                print("\n== %s" % sec, file=out)
                print("%-*s  %-10s  tol %.1e" % (width, "tensor", "rel err",
                                                  self.tol_of(sec)), file=out)
            mark = "ok" if err <= self.tol_of(sec, row_tol) else "FAIL"
            if row_tol is not None:
                note = "tol %.1e; %s" % (row_tol, note)
            print("%-*s  %-10.3e  %-4s %s" % (width, name, err, mark, note), file=out)
        bad = self.failures()
        print("", file=out)
        for p in self.problems:
            print("ERROR: %s" % p, file=out)
        if bad or self.problems:
            worst = sorted(bad, key=lambda r: -r[2])[:5]
            if worst:
                print("FAIL: %d of %d checks exceed their tol; worst: %s" % (
                    len(bad), len(self.rows),
                    ", ".join("%s %s (%.3e)" % (r[0], r[1], r[2]) for r in worst)), file=out)
            return False
        worst = max(self.rows, key=lambda r: r[2]) if self.rows else None
        print("PASS: %d checks within tol (worst: %s %s %.3e)" % (
            len(self.rows), worst[0], worst[1], worst[2]) if worst else "PASS", file=out)
        return True


def compare(c, init, tokens_all, run_dir, tol, steps=None, out=sys.stdout, no_logits=False,
            trajectory_tol=None):
    """Checks giga's run in `run_dir` against the float64 oracle. Returns True
    when every check passes; prints the table to `out`. The trajectory's
    checks use `trajectory_tol` when given, `tol` otherwise."""
    m, r = c["model"], c["run"]
    T, B = r["sequence_length"], r["batch_size"]
    report = Report(tol, {"trajectory": trajectory_tol} if trajectory_tol else None)
    metrics = read_metrics(run_dir)
    if not metrics:
        report.fail("%s/metrics.jsonl has no step records" % run_dir)
        report.print(out)
        return False
    numbers = [rec["step"] for rec in metrics]
    if numbers != list(range(1, len(metrics) + 1)):
        report.fail("metrics.jsonl steps are %s, expected 1..%d in order" % (numbers, len(metrics)))
    if steps is not None and len(metrics) != steps:
        report.fail("metrics.jsonl has %d steps, expected %d" % (len(metrics), steps))
    if int(np.max(tokens_all)) >= m["vocab_size"]:
        report.fail("data file holds tokens >= vocab_size")

    # ---- step 1: the batch, logits, loss and every gradient.
    trace_path = os.path.join(run_dir, "trace-step-1.safetensors")
    trace, _ = read_safetensors(trace_path)
    offsets = metrics[0].get("batch_offsets")
    if offsets is None or len(offsets) != B:
        report.fail("step 1 batch_offsets is %r; expected %d window offsets" % (offsets, B))
        report.print(out)
        return False
    inputs, targets = windows(tokens_all, offsets, T)
    for key, want in (("tokens", inputs), ("targets", targets)):
        got = trace.get(key)
        if got is None:
            report.fail("trace has no %r" % key)
        elif got.shape != want.shape or not np.array_equal(got.astype(np.int64), want):
            rows = "shape %s vs %s" % (list(got.shape), list(want.shape)) if got.shape != want.shape \
                else "rows %s differ" % [i for i in range(B) if not np.array_equal(got[i], want[i])]
            report.fail("trace %s do not match the windows at batch_offsets %s (%s)"
                        % (key, offsets, rows))
    if report.problems:
        report.print(out)
        return False

    def oracle_step1():
        model = build_model(m, init)
        model.zero_grad(set_to_none=True)
        logits, loss = model(torch.from_numpy(inputs), torch.from_numpy(targets))
        loss.backward()
        return model, logits, loss

    model, logits, loss = oracle_step1()
    # With bf16 matmuls, an operand whose fp32 value lies within rounding
    # noise of a bf16 tie rounds to the other neighbour in giga now and then,
    # and the jump reroutes the bf16 roundings after it: a correct run can
    # differ from this oracle by a good part of what bf16's roundings move a
    # tensor at all, d = the oracle's fp32 result against its bf16 one
    # (docs/parity.md). So in bf16 each step-1 check allows 3/4 of its d, and
    # all gradients together, where one flip is diluted, a quarter of theirs.
    row_tol, grads32 = {}, None
    if MATMUL_PRECISION == "bf16":
        with matmul_precision("fp32"):
            model32, logits32, loss32 = oracle_step1()
        grads32 = {n: p.grad.numpy() for n, p in model32.named_parameters()}
        row_tol["logits"] = rel_err(logits32.detach().numpy(), logits.detach().numpy())
        row_tol["loss"] = rel_err(loss32.item(), loss.item())
        for name, p in model.named_parameters():
            row_tol["grad." + name] = rel_err(grads32[name], p.grad.numpy())
        row_tol = {k: max(tol, 0.75 * d) for k, d in row_tol.items()}

    section = "step 1"
    if no_logits:
        if "logits" in trace:
            report.fail("trace has 'logits', but the head was to be fused with the loss")
    elif "logits" not in trace:
        report.fail("trace has no 'logits'")
    else:
        got = trace["logits"]
        mb = got.shape[0] if got.ndim == 3 else -1
        if got.ndim != 3 or not 1 <= mb <= B or B % mb or got.shape[1:] != (T, m["vocab_size"]):
            report.fail("trace logits shape %s; expected [micro_batch, %d, %d] with micro_batch "
                        "dividing %d" % (list(got.shape), T, m["vocab_size"], B))
        else:
            report.check(section, "logits", rel_err(got, logits[:mb].detach().numpy()),
                         "micro-batch %d of batch %d" % (mb, B), row_tol.get("logits"))
    if "loss" not in trace:
        report.fail("trace has no 'loss'")
    else:
        report.check(section, "loss", rel_err(np.asarray(trace["loss"]).reshape(()), loss.item()),
                     "giga %.8f torch %.8f" % (float(np.asarray(trace["loss"]).reshape(-1)[0]),
                                               loss.item()), row_tol.get("loss"))
    global_norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    for name, p in model.named_parameters():
        key = "grad." + name
        if key not in trace:
            report.fail("trace has no %r" % key)
            continue
        got = trace[key]
        want = p.grad.numpy()
        if got.shape != want.shape:
            report.fail("%s has shape %s, expected %s" % (key, list(got.shape), list(want.shape)))
            continue
        if name.endswith("attn.k.bias"):
            # Exactly zero in exact arithmetic: k's bias adds q.b_k to a whole
            # row of scores and softmax ignores a constant per row. Both sides
            # hold only rounding noise, so ||giga - torch|| / ||torch|| is noise
            # over noise; measure the error against the whole gradient instead.
            report.check(section, key, np.linalg.norm(got - want) / global_norm,
                         "|g| %.1e; analytically 0, so error / |all grads| (%.3e)"
                         % (np.linalg.norm(want), global_norm))
            continue
        report.check(section, key, rel_err(got, want), "|g| %.3e" % np.linalg.norm(want),
                     row_tol.get(key))
    if grads32 is not None and not report.problems:
        names = [n for n, _ in model.named_parameters()]
        want = np.concatenate([model.get_parameter(n).grad.numpy().ravel() for n in names])
        got = np.concatenate([trace["grad." + n].ravel() for n in names])
        fp32 = np.concatenate([grads32[n].ravel() for n in names])
        report.check(section, "all gradients", rel_err(got, want), "as one vector",
                     max(tol, rel_err(fp32, want) / 4))
    known = {"tokens", "targets", "logits", "loss"} | {"grad." + n for n, _ in model.named_parameters()}
    for key in sorted(set(trace) - known):
        if key.startswith("grad."):
            report.fail("trace has a gradient for an unknown parameter %r" % key)

    # ---- the trajectory: same initial weights, the batches giga drew.
    model = build_model(m, init)
    optimizer = make_optimizer(model, r)
    clipped = []
    section = "trajectory"
    for rec in metrics:
        s = rec["step"]
        offs = rec.get("batch_offsets")
        if offs is None or len(offs) != B:
            report.fail("step %d batch_offsets is %r; expected %d offsets" % (s, offs, B))
            break
        xi, yi = windows(tokens_all, offs, T)
        ref_loss, ref_norm, ref_lr = train_step(model, optimizer, r, s,
                                                torch.from_numpy(xi), torch.from_numpy(yi))
        clip = ref_norm > r["max_gradient_norm"]
        clipped.append(clip)
        report.check(section, "step %d loss" % s, rel_err(rec["loss"], ref_loss),
                     "giga %.8f torch %.8f" % (rec["loss"], ref_loss))
        if "lr" in rec:
            report.check(section, "step %d lr" % s, rel_err(rec["lr"], ref_lr),
                         "giga %.6e torch %.6e" % (rec["lr"], ref_lr))
        else:
            report.fail("step %d record has no lr" % s)
        if "grad_norm" in rec:
            report.check(section, "step %d grad_norm" % s, rel_err(rec["grad_norm"], ref_norm),
                         "giga %.6e torch %.6e%s" % (rec["grad_norm"], ref_norm,
                                                     " (clipped)" if clip else ""))
        else:
            report.fail("step %d record has no grad_norm" % s)
    print("config %s: %d steps, clipping active in steps %s" % (
        c["name"], len(metrics), [i + 1 for i, v in enumerate(clipped) if v] or "none"), file=out)
    return report.print(out)


# ---------------------------------------------------------------------------
# A fake giga run made with torch itself, for the self-test: fp32, or double.


def torch_run(c, init, tokens_all, run_dir, steps, seed, dtype=torch.float32):
    """Writes metrics.jsonl and trace-step-1.safetensors as gigarun would,
    training with torch in `dtype`, so compare can be tested without giga."""
    m, r = c["model"], c["run"]
    T, B = r["sequence_length"], r["batch_size"]
    os.makedirs(run_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    model = build_model(m, init, dtype)
    optimizer = make_optimizer(model, r)
    with open(os.path.join(run_dir, "metrics.jsonl"), "w") as f:
        for s in range(1, steps + 1):
            offsets = [int(o) for o in rng.integers(0, len(tokens_all) - T, size=B)]
            x, y = windows(tokens_all, offsets, T)
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            if s == 1:
                model.zero_grad(set_to_none=True)
                logits, loss = model(x, y)
                loss.backward()
                trace = {"tokens": x.numpy().astype(np.int32),
                         "targets": y.numpy().astype(np.int32),
                         "logits": logits.detach().numpy().astype(np.float32),
                         "loss": np.array(loss.item(), dtype=np.float32)}
                for name, p in model.named_parameters():
                    trace["grad." + name] = p.grad.numpy().astype(np.float32)
                write_safetensors(os.path.join(run_dir, "trace-step-1.safetensors"), trace)
            loss, norm, lr = train_step(model, optimizer, r, s, x, y)
            f.write(json.dumps({"step": s, "loss": loss, "lr": lr, "grad_norm": norm,
                                "batch_offsets": offsets}) + "\n")


# ---------------------------------------------------------------------------
# selftest


def numpy_forward(c, w, tokens, targets):
    """An independent float64 forward in numpy, written from the spec, to check
    the torch model follows it (mask, scale, head split, tied head, GELU)."""
    B, T = tokens.shape
    C, H, eps = c["width"], c["heads"], c["layer_norm_epsilon"]
    D = C // H

    def ln(x, g, b):
        if c["norm"] == "rmsnorm":
            return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * g
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * g + b

    def linear(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    def gelu(x):
        if c["gelu"] == "tanh":
            return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))

    x = w["wte.weight"][tokens] + w["wpe.weight"][np.arange(T)]
    for i in range(c["depth"]):
        p = "h.%d." % i
        a = ln(x, w[p + "ln_1.weight"], w.get(p + "ln_1.bias"))
        q, k, v = (linear(a, p + "attn." + n) for n in "qkv")
        y = np.zeros_like(q)
        for b in range(B):
            for h in range(H):
                sl = slice(h * D, (h + 1) * D)
                s = q[b, :, sl] @ k[b, :, sl].T / math.sqrt(D)
                for t in range(T):  # causal: position t sees 0..t
                    row = s[t, :t + 1]
                    e = np.exp(row - row.max())
                    y[b, t, sl] = (e / e.sum()) @ v[b, :t + 1, sl]
        x = x + linear(y, p + "attn.proj")
        a = ln(x, w[p + "ln_2.weight"], w.get(p + "ln_2.bias"))
        x = x + linear(gelu(linear(a, p + "mlp.fc")), p + "mlp.proj")
    logits = ln(x, w["ln_f.weight"], w.get("ln_f.bias")) @ w["wte.weight"].T
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    loss = -np.take_along_axis(logp, targets[..., None], -1).mean()
    return logits, loss


def random_weights(c, rng, scale=0.3):
    """Weights with every parameter non-trivial (biases and LayerNorm too)."""
    w = {}
    for name, shape in parameter_shapes(c):
        if ".ln_" in name or name.startswith("ln_f."):
            base = 1.0 if name.endswith(".weight") else 0.0
            w[name] = base + 0.2 * rng.standard_normal(shape)
        else:
            w[name] = scale * rng.standard_normal(shape)
    return w


def selftest(workdir=None):
    import tempfile
    torch.manual_seed(0)
    ok = True

    def result(name, passed, detail=""):
        nonlocal ok
        ok = ok and passed
        print("%-52s %s  %s" % (name, "ok  " if passed else "FAIL", detail))

    rng = np.random.default_rng(0)
    for gelu, norm in (("exact", "layernorm"), ("tanh", "layernorm"), ("exact", "rmsnorm")):
        c = normalize_config({"name": "fd", "model": {
            "vocab_size": 11, "max_position_embeddings": 7, "depth": 2, "width": 6,
            "heads": 2, "init_std": 0.3, "ffn_width": 10, "gelu": gelu, "norm": norm,
            "layer_norm_epsilon": 1e-5}, "run": {"batch_size": 2, "sequence_length": 5,
                                                 "num_steps": 1, "learning_rate": 1e-3}})
        m = c["model"]
        w = random_weights(m, rng)
        x = rng.integers(0, m["vocab_size"], size=(2, 5))
        y = rng.integers(0, m["vocab_size"], size=(2, 5))

        # 1. The torch model matches an independent numpy forward of the spec.
        model = build_model(m, w)
        logits, loss = model(torch.from_numpy(x), torch.from_numpy(y))
        np_logits, np_loss = numpy_forward(m, w, x, y)
        e = max(rel_err(logits.detach().numpy(), np_logits), rel_err(loss.item(), np_loss))
        result("forward == numpy spec (gelu %s, %s)" % (gelu, norm), e < 1e-12, "rel err %.2e" % e)

        # 2. Autograd gradients match central finite differences, every tensor.
        loss.backward()
        worst, worst_name = 0.0, ""
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, p in params.items():
                flat = p.view(-1)
                idx = rng.choice(flat.numel(), size=min(6, flat.numel()), replace=False)
                fd = np.zeros(len(idx))
                for j, i in enumerate(idx):
                    h = 1e-5
                    old = flat[i].item()
                    flat[i] = old + h
                    lp = model(torch.from_numpy(x), torch.from_numpy(y))[1].item()
                    flat[i] = old - h
                    lm = model(torch.from_numpy(x), torch.from_numpy(y))[1].item()
                    flat[i] = old
                    fd[j] = (lp - lm) / (2 * h)
                an = p.grad.view(-1)[torch.from_numpy(idx)].numpy()
                err = np.abs(an - fd).max() / max(np.abs(fd).max(), 1e-3)
                if err > worst:
                    worst, worst_name = err, name
        result("autograd == finite differences (gelu %s, %s)" % (gelu, norm), worst < 1e-6,
               "worst %.2e (%s)" % (worst, worst_name))

    # 3. The schedule at a few steps (peak 1e-3, warmup 2, decay 8).
    run = {"learning_rate": 1e-3, "warmup_steps": 2, "decay_steps": 8}
    want = {1: 5e-4, 2: 1e-3, 6: 1e-3 * (0.1 + 0.9 * 0.5), 10: 1e-4, 15: 1e-4,
            4: 1e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.25)))}
    e = max(abs(learning_rate(run, s) - v) / v for s, v in want.items())
    e0 = abs(learning_rate({"learning_rate": 1.0, "warmup_steps": 0, "decay_steps": 0}, 1) - 0.1)
    result("learning-rate schedule", e < 1e-12 and e0 < 1e-15, "rel err %.1e" % e)

    # 4. AdamW groups and clipping against the formulas, by hand.
    c = normalize_config({"name": "opt", "model": {
        "vocab_size": 5, "max_position_embeddings": 4, "depth": 1, "width": 4, "heads": 2,
        "init_std": 0.5}, "run": {"batch_size": 2, "sequence_length": 3, "num_steps": 3,
                                  "learning_rate": 0.01, "warmup_steps": 1, "weight_decay": 0.1,
                                  "max_gradient_norm": 0.05}})
    m, r = c["model"], c["run"]
    w = random_weights(m, rng)
    model = build_model(m, w)
    opt = make_optimizer(model, r)
    x = torch.from_numpy(rng.integers(0, 5, size=(2, 3)))
    y = torch.from_numpy(rng.integers(0, 5, size=(2, 3)))
    state = {n: (w[n].copy(), np.zeros_like(w[n]), np.zeros_like(w[n])) for n in w}
    worst = 0.0
    for s in (1, 2, 3):
        probe = build_model(m, {n: v[0] for n, v in state.items()})
        probe(x, y)[1].backward()
        grads = {n: p.grad.numpy() for n, p in probe.named_parameters()}
        norm = math.sqrt(sum((g ** 2).sum() for g in grads.values()))
        coef = min(1.0, r["max_gradient_norm"] / (norm + 1e-6))
        lr = learning_rate(r, s)
        b1, b2, eps = r["adam_beta1"], r["adam_beta2"], r["adam_epsilon"]
        for n, (p, mo, v) in list(state.items()):
            g = grads[n] * coef
            wd = r["weight_decay"] if p.ndim >= 2 else 0.0
            p = p * (1 - lr * wd)
            mo = b1 * mo + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat, vhat = mo / (1 - b1 ** s), v / (1 - b2 ** s)
            p = p - lr * mhat / (np.sqrt(vhat) + eps)
            state[n] = (p, mo, v)
        _, ref_norm, _ = train_step(model, opt, r, s, x, y)
        worst = max(worst, abs(ref_norm - norm) / norm)
        for n, p in model.named_parameters():
            worst = max(worst, rel_err(p.detach().numpy(), state[n][0]))
    result("AdamW (decay on rank>=2) + clip == formulas", worst < 1e-12, "rel err %.1e" % worst)

    # 5. safetensors round trip, and the byte layout.
    tmp = tempfile.mkdtemp(prefix="parity-selftest-", dir=workdir)
    path = os.path.join(tmp, "t.safetensors")
    tensors = {"a": rng.standard_normal((3, 4)).astype(np.float32),
               "b": np.arange(6, dtype=np.int32).reshape(2, 3),
               "s": np.array(2.5, dtype=np.float32)}
    write_safetensors(path, tensors, {"step": 3})
    back, meta = read_safetensors(path)
    same = set(back) == set(tensors) and all(
        back[k].dtype == v.dtype and back[k].shape == v.shape and np.array_equal(back[k], v)
        for k, v in tensors.items()) and meta == {"step": "3"}
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    b = header["b"]["data_offsets"]
    layout = raw[8 + n + b[0]:8 + n + b[1]] == struct.pack("<6i", *range(6))
    result("safetensors round trip and layout", same and layout)

    # 6. compare, end to end, on runs made by torch itself: an fp32 run (what a
    # correct giga does) passes, and a run with one broken gradient fails.
    for cfg in ("odd", "tiny"):
        here = os.path.dirname(os.path.abspath(__file__))
        cpath = os.path.join(here, "configs", "odd.json") if cfg == "odd" else \
            os.path.join(here, "..", "..", "configs", "gpt-tiny.json")
        if not os.path.exists(cpath):
            result("compare on a torch fp32 run (%s)" % cfg, False, "no %s" % cpath)
            continue
        c = load_config(cpath)
        init = make_init(c["model"], c["run"]["seed"])
        data = make_tokens(c, 20000, 1234)
        run_dir = os.path.join(tmp, "run-" + cfg)
        torch_run(c, init, data, run_dir, 10, seed=5, dtype=torch.float32)
        import io
        buf = io.StringIO()
        passed = compare(c, init, data, run_dir, 1e-4, steps=10, out=buf)
        last = [l for l in buf.getvalue().splitlines() if l][-1]
        clip_line = [l for l in buf.getvalue().splitlines() if "clipping active" in l][0]
        result("compare passes a torch fp32 run (%s)" % cfg, passed, last)
        print("    " + clip_line)
        # The bf16 oracle is another arithmetic: an fp32 run must fail it.
        buf = io.StringIO()
        with matmul_precision("bf16"):
            failed = not compare(c, init, data, run_dir, 1e-4, steps=10, out=buf)
        result("compare with bf16 matmuls fails an fp32 run (%s)" % cfg, failed,
               [l for l in buf.getvalue().splitlines() if l][-1][:90])
        # A correct fp32 implementation of bf16 matmuls (torch's, in float32)
        # rounds some operands to the other bf16 neighbour than the float64
        # oracle does; its run must pass the bf16 oracle's tolerances.
        bf16_dir = os.path.join(tmp, "run-bf16-" + cfg)
        with matmul_precision("bf16"):
            torch_run(c, init, data, bf16_dir, 10, seed=5, dtype=torch.float32)
            buf = io.StringIO()
            passed = compare(c, init, data, bf16_dir, 1e-4, steps=10, out=buf,
                             trajectory_tol=5e-4)
        result("compare with bf16 matmuls passes a torch fp32 run with bf16 matmuls (%s)" % cfg,
               passed, [l for l in buf.getvalue().splitlines() if l][-1][:90])
        # A wrong gradient in one tensor must fail and be named.
        trace_path = os.path.join(run_dir, "trace-step-1.safetensors")
        trace, _ = read_safetensors(trace_path)
        trace["grad.h.1.attn.v.bias"] = trace["grad.h.1.attn.v.bias"] * 1.001
        write_safetensors(trace_path, trace)
        buf = io.StringIO()
        failed = not compare(c, init, data, run_dir, 1e-4, steps=10, out=buf)
        named = "grad.h.1.attn.v.bias" in buf.getvalue().splitlines()[-1]
        result("compare fails a 0.1%% error in one gradient (%s)" % cfg, failed and named)
        # Offsets that do not match the traced tokens must fail.
        lines = open(os.path.join(run_dir, "metrics.jsonl")).read().splitlines()
        first = json.loads(lines[0])
        first["batch_offsets"][0] += 1
        lines[0] = json.dumps(first)
        open(os.path.join(run_dir, "metrics.jsonl"), "w").write("\n".join(lines) + "\n")
        buf = io.StringIO()
        failed = not compare(c, init, data, run_dir, 1e-4, steps=10, out=buf)
        result("compare fails when offsets and trace disagree (%s)" % cfg,
               failed and "do not match" in buf.getvalue())
    print("selftest %s" % ("passed" if ok else "FAILED, files in " + tmp))
    if ok:
        import shutil
        shutil.rmtree(tmp)
    return ok


def eval_file(c, weights, tokens, batch=64):
    """gigarun eval's number, in float64: the mean loss over the windows
    tokens[iT : iT + T + 1] for i < (N - 1) // T."""
    m, T = c["model"], c["run"]["sequence_length"]
    names = dict(parameter_shapes(m))
    model = build_model(m, {n: w for n, w in weights.items() if n in names})
    count = (len(tokens) - 1) // T
    total = 0.0
    with torch.no_grad():
        for first in range(0, count, batch):
            x, y = windows(tokens, [i * T for i in range(first, min(count, first + batch))], T)
            logits, _ = model(torch.from_numpy(x))
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                     torch.from_numpy(y).reshape(-1), reduction="sum").item()
    return total / (count * T), count


def check_generation(c, weights, prompt, context, output, logits_path, greedy, tol):
    """gigarun sample's logits (--logits) and tokens (--prompt-tokens output)
    against a full forward pass, in float64 and without a cache, over the
    last `context` tokens before each step, as nanoGPT's sample.py crops
    them. Greedy: each token must be the reference's argmax too."""
    m = c["model"]
    names = dict(parameter_shapes(m))
    model = build_model(m, {n: w for n, w in weights.items() if n in names})
    samples = [s.strip() for s in open(output).read().split("---------------")]
    samples = [[int(t) for t in s.split(",")] for s in samples if s]
    V = m["vocab_size"]
    got = np.fromfile(logits_path, dtype="<f4")
    steps = len(samples[0]) - len(prompt)
    if any(s[:len(prompt)] != prompt for s in samples) or steps < 1:
        print("generate: FAIL: the samples do not start with the prompt %s" % prompt)
        return False
    if got.size != steps * len(samples) * V:
        print("generate: FAIL: %d logits for %d steps of %d samples of vocab %d"
              % (got.size, steps, len(samples), V))
        return False
    got = got.reshape(steps, len(samples), V)
    worst, mismatches = 0.0, []
    with torch.no_grad():
        for b, sample in enumerate(samples):
            for t in range(steps):
                window = sample[:len(prompt) + t][-context:]
                logits, _ = model(torch.tensor([window]))
                want = logits[0, -1].numpy()
                err = rel_err(got[t, b], want)
                worst = max(worst, err)
                if err > tol:
                    mismatches.append("sample %d step %d: logits rel err %.3e" % (b, t, err))
                if greedy and int(np.argmax(want)) != sample[len(prompt) + t]:
                    mismatches.append("sample %d step %d: token %d, reference's argmax %d"
                                      % (b, t, sample[len(prompt) + t], int(np.argmax(want))))
    print("generate: %d samples x %d steps, context %d, prompt %d tokens: worst logits "
          "rel err %.3e (tol %.1e)%s: %s"
          % (len(samples), steps, context, len(prompt), worst, tol,
             ", greedy tokens checked" if greedy else "", "FAIL" if mismatches else "ok"))
    for line in mismatches[:10]:
        print("generate: FAIL: " + line)
    return not mismatches


def make_tokens(c, count, seed):
    rng = np.random.default_rng(seed)
    need = c["run"]["sequence_length"] + 1
    return rng.integers(0, c["model"]["vocab_size"], size=max(count, 4 * need)).astype("<u2")


# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make-init", help="write initial weights (F32 safetensors)")
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=None, help="default: run.seed")
    p.add_argument("--scale", type=float, default=None,
                   help="instead of the model's init, every tensor (biases and norms too) "
                        "random at this scale: logits far from uniform")
    p = sub.add_parser("make-data", help="write random uint16 tokens < vocab_size")
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--tokens", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1234)
    p = sub.add_parser("compare", help="check a gigarun run against the oracle")
    p.add_argument("config")
    p.add_argument("init")
    p.add_argument("data")
    p.add_argument("run_dir")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--no-logits", action="store_true",
                   help="the head is fused with the loss: the trace must have no logits")
    p.add_argument("--steps", type=int, default=None,
                   help="require exactly this many steps in metrics.jsonl")
    p.add_argument("--trajectory-tol", type=float, default=None,
                   help="tolerance of the trajectory's checks (default: --tol)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="giga's gigarun --precision: bf16 rounds the oracle's matmul operands")
    p = sub.add_parser("eval", help="gigarun eval's loss of a checkpoint over a token file")
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("data")
    p.add_argument("--giga", default=None,
                   help="gigarun eval --json output to check against")
    p.add_argument("--tol", type=float, default=1e-5)
    p = sub.add_parser("generate", help="gigarun sample's logits and tokens against a "
                                        "full forward pass without a cache")
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("output", help="gigarun sample --prompt-tokens's stdout")
    p.add_argument("logits", help="gigarun sample --logits's file")
    p.add_argument("--prompt", required=True, help="the prompt's ids, 3,10,17")
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--greedy", action="store_true")
    p.add_argument("--tol", type=float, default=1e-4)
    p = sub.add_parser("selftest", help="check the oracle without giga")
    p.add_argument("--workdir", default=None)
    p = sub.add_parser("torch-run", help="write a run as gigarun would, trained by torch")
    p.add_argument("config")
    p.add_argument("init")
    p.add_argument("data")
    p.add_argument("run_dir")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    if args.command == "selftest":
        return 0 if selftest(args.workdir) else 1
    c = load_config(args.config)
    if args.command == "make-init":
        seed = c["run"].get("seed", 0) if args.seed is None else args.seed
        if args.scale is None:
            weights = make_init(c["model"], seed)
        else:
            weights = {n: w.astype(np.float32) for n, w in
                       random_weights(c["model"], np.random.default_rng(seed), args.scale).items()}
        write_safetensors(args.out, weights, {"format": "giga-parity-init",
                                              "config": c["name"], "seed": seed})
        return 0
    if args.command == "make-data":
        make_tokens(c, args.tokens, args.seed).tofile(args.out)
        return 0
    if args.command == "eval":
        weights, _ = read_safetensors(args.checkpoint)
        loss, count = eval_file(c, weights, read_tokens(args.data))
        print("eval: torch float64: loss %.9f over %d windows" % (loss, count))
        if args.giga is None:
            return 0
        giga = json.load(open(args.giga))
        err = abs(giga["loss"] - loss) / abs(loss)
        ok = giga["windows"] == count and err <= args.tol
        print("eval: giga loss %.9f over %d windows: rel err %.3e, tol %.1e: %s"
              % (giga["loss"], giga["windows"], err, args.tol, "ok" if ok else "FAIL"))
        return 0 if ok else 1
    if args.command == "generate":
        weights, _ = read_safetensors(args.checkpoint)
        prompt = [int(t) for t in args.prompt.split(",")]
        return 0 if check_generation(c, weights, prompt, args.context, args.output,
                                     args.logits, args.greedy, args.tol) else 1
    init, _ = read_safetensors(args.init)
    tokens = read_tokens(args.data)
    if args.command == "torch-run":
        torch_run(c, init, tokens, args.run_dir, args.steps, args.seed,
                  getattr(torch, args.dtype))
        return 0
    global MATMUL_PRECISION
    MATMUL_PRECISION = args.precision
    print("parity: config %s (%s), init %s, data %s, run %s, tol %.1e, matmuls %s"
          % (c["name"], args.config, args.init, args.data, args.run_dir, args.tol,
             args.precision))
    return 0 if compare(c, init, tokens, args.run_dir, args.tol, args.steps,
                       no_logits=args.no_logits, trajectory_tol=args.trajectory_tol) else 1


if __name__ == "__main__":
    sys.exit(main())

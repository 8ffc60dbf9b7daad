#!/usr/bin/python3
"""GPT-2 in the layouts people have it, for giga's interop tests.

A reference GPT-2 written in Hugging Face's layout (Conv1D weights [in, out],
q, k and v fused in c_attn, computed as transformers' modeling_gpt2 does, in
float64), readers and writers of Hugging Face safetensors (F32, BF16, F16,
with or without the "transformer." prefix) and of llm.c's checkpoint (its
256-int header, its parameter order, versions 3 and 5, the padded
vocabulary), written from the file formats' descriptions, not from giga.

Commands:
  make CONFIG DIR [--seed S]        random weights in every layout, tokens
  logits CONFIG FILE OUT LOGITS --prompt IDS [--tol T]
                                    gigarun sample's logits against the
                                    reference's on FILE's weights
  loss CONFIG FILE TOKENS LOSS [--tol T]
                                    gigarun eval's loss against the reference's
  step1 CONFIG FILE RUN_DIR [--tol T]
                                    a run from --init FILE: its step-1 loss (the
                                    trace's batch) is the reference's
  exported CKPT HF_DIR LLMC_FILE|- [--dtype f32|bf16|f16]
                                    export's files hold the checkpoint's
                                    weights exactly (rounded to nearest even
                                    in bf16, f16), and config.json fits

Needs numpy and torch (Debian's python3-torch): run with /usr/bin/python3.
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
    import torch.nn.functional as F
except ImportError as error:  # ctest reports 77 as skipped
    sys.stderr.write("gpt2_layouts.py: SKIP: %s (run with /usr/bin/python3 and "
                     "python3-torch installed)\n" % error)
    sys.exit(77)

LLMC_MAGIC = 20240326

# ---------------------------------------------------------------------------
# Config (giga's JSON; only the model section matters here)


def load_model(path):
    with open(path) as f:
        config = json.load(f)
    m = dict(config["model"])
    m.setdefault("ffn_width", 4 * m["width"])
    m.setdefault("gelu", "exact")
    m.setdefault("layer_norm_epsilon", 1e-5)
    return m, config["run"]


# ---------------------------------------------------------------------------
# safetensors with bf16 (kept as raw uint16, widened on read)


def to_bf16_bits(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(
        torch.bfloat16).view(torch.int16).numpy().view(np.uint16)


def from_bf16_bits(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def encode(array, dtype):
    if dtype == "F32":
        return np.ascontiguousarray(array, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(array, dtype=np.float32).astype("<f2").tobytes()
    if dtype == "BF16":
        return to_bf16_bits(array).astype("<u2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype, numpy fp32 array)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, array in tensors:
        data = encode(array, dtype)
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """name -> (dtype, fp32 numpy array widened exactly), metadata."""
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw, shape, dtype = data[begin:end], info["shape"], info["dtype"]
        if dtype == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif dtype == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            a = from_bf16_bits(np.frombuffer(raw, dtype="<u2"))
        elif dtype == "I32":  # a trace's tokens and targets
            out[name] = (dtype, np.frombuffer(raw, dtype="<i4").reshape(shape))
            continue
        else:
            a = np.frombuffer(raw, dtype=np.uint8)  # buffers we do not read
            out[name] = (dtype, a)
            continue
        out[name] = (dtype, a.reshape(shape).astype(np.float32))
    return out, metadata


# ---------------------------------------------------------------------------
# Hugging Face's GPT-2 layout


def hf_shapes(m):
    V, P, C, L, Fw = (m["vocab_size"], m["max_position_embeddings"], m["width"],
                      m["depth"], m["ffn_width"])
    shapes = [("wte.weight", (V, C)), ("wpe.weight", (P, C))]
    for l in range(L):
        h = "h.%d." % l
        shapes += [(h + "ln_1.weight", (C,)), (h + "ln_1.bias", (C,)),
                   (h + "attn.c_attn.weight", (C, 3 * C)), (h + "attn.c_attn.bias", (3 * C,)),
                   (h + "attn.c_proj.weight", (C, C)), (h + "attn.c_proj.bias", (C,)),
                   (h + "ln_2.weight", (C,)), (h + "ln_2.bias", (C,)),
                   (h + "mlp.c_fc.weight", (C, Fw)), (h + "mlp.c_fc.bias", (Fw,)),
                   (h + "mlp.c_proj.weight", (Fw, C)), (h + "mlp.c_proj.bias", (C,))]
    return shapes + [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]


def random_hf_weights(m, seed):
    rng = np.random.default_rng(seed)
    w = {}
    for name, shape in hf_shapes(m):
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            w[name] = (1 + 0.2 * rng.standard_normal(shape)).astype(np.float32)
        else:
            w[name] = (0.3 * rng.standard_normal(shape)).astype(np.float32)
    return w


def hf_weights_of(path):
    """A Hugging Face file's GPT-2 weights, prefix and buffers dropped."""
    tensors, _ = read_safetensors(path)
    w = {}
    for name, (dtype, array) in tensors.items():
        name = name[len("transformer."):] if name.startswith("transformer.") else name
        if name.endswith((".attn.bias", ".attn.masked_bias")) and array.ndim == 4:
            continue
        w[name] = array
    w.pop("lm_head.weight", None)
    return w


def gelu(x, kind):
    if kind == "tanh":  # transformers' gelu_new
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def hf_forward(m, w, tokens):
    """Logits [B, T, V] of GPT2LMHeadModel in float64 on weights `w`."""
    t = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in w.items()}
    tokens = torch.as_tensor(np.array(tokens), dtype=torch.long)
    B, T = tokens.shape
    C, H, eps = m["width"], m["heads"], m["layer_norm_epsilon"]
    D = C // H

    def ln(x, p):
        return F.layer_norm(x, (C,), t[p + ".weight"], t[p + ".bias"], eps)

    def conv1d(x, p):  # transformers' Conv1D: x @ W + b, W [in, out]
        return x @ t[p + ".weight"] + t[p + ".bias"]

    x = t["wte.weight"][tokens] + t["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(m["depth"]):
        h = "h.%d." % l
        q, k, v = conv1d(ln(x, h + "ln_1"), h + "attn.c_attn").split(C, dim=-1)
        q, k, v = (z.view(B, T, H, D).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D)
        att = torch.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + conv1d(y, h + "attn.c_proj")
        x = x + conv1d(gelu(conv1d(ln(x, h + "ln_2"), h + "mlp.c_fc"), m["gelu"]), h + "mlp.c_proj")
    return ln(x, "ln_f") @ t["wte.weight"].T


# ---------------------------------------------------------------------------
# llm.c: 256 int32 header, then its tensors in this order, Linear [out, in]

LLMC_ORDER = [("ln_1.weight", False), ("ln_1.bias", False), ("attn.c_attn.weight", True),
              ("attn.c_attn.bias", False), ("attn.c_proj.weight", True), ("attn.c_proj.bias", False),
              ("ln_2.weight", False), ("ln_2.bias", False), ("mlp.c_fc.weight", True),
              ("mlp.c_fc.bias", False), ("mlp.c_proj.weight", True), ("mlp.c_proj.bias", False)]


def write_llmc(path, m, w, version):
    V, C, L = m["vocab_size"], m["width"], m["depth"]
    Vp = (V + 127) // 128 * 128
    header = np.zeros(256, dtype="<i4")
    header[:8] = [LLMC_MAGIC, version, m["max_position_embeddings"], V, L, m["heads"], C, Vp]
    arrays = [np.concatenate([w["wte.weight"], np.zeros((Vp - V, C), np.float32)]), w["wpe.weight"]]
    for name, conv in LLMC_ORDER:
        for l in range(L):
            a = w["h.%d.%s" % (l, name)]
            arrays.append(a.T if conv else a)  # llm.c's Linear is [out, in]
    arrays += [w["ln_f.weight"], w["ln_f.bias"]]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        for a in arrays:
            f.write(encode(a, "F32" if version == 3 else "BF16"))


def read_llmc(path):
    """(model dims, Hugging Face-layout weights) of an llm.c checkpoint."""
    blob = open(path, "rb").read()
    header = np.frombuffer(blob[:1024], dtype="<i4")
    assert header[0] == LLMC_MAGIC, "not an llm.c checkpoint"
    version, maxT, V, L, H, C, Vp = (int(v) for v in header[1:8])
    body = blob[1024:]
    if version == 3:
        values = np.frombuffer(body, dtype="<f4")
    else:
        values = from_bf16_bits(np.frombuffer(body, dtype="<u2"))
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        a = values[at:at + n].reshape(shape)
        at += n
        return a

    w = {"wte.weight": take(Vp, C)[:V], "wpe.weight": take(maxT, C)}
    shapes = {"ln_1.weight": (C,), "ln_1.bias": (C,), "attn.c_attn.weight": (3 * C, C),
              "attn.c_attn.bias": (3 * C,), "attn.c_proj.weight": (C, C),
              "attn.c_proj.bias": (C,), "ln_2.weight": (C,), "ln_2.bias": (C,),
              "mlp.c_fc.weight": (4 * C, C), "mlp.c_fc.bias": (4 * C,),
              "mlp.c_proj.weight": (C, 4 * C), "mlp.c_proj.bias": (C,)}
    for name, conv in LLMC_ORDER:
        for l in range(L):
            a = take(*shapes[name])
            w["h.%d.%s" % (l, name)] = a.T if conv else a
    w["ln_f.weight"], w["ln_f.bias"] = take(C), take(C)
    assert at == values.size, "llm.c file has %d values, the header describes %d" % (values.size, at)
    dims = {"vocab_size": V, "max_position_embeddings": maxT, "depth": L, "heads": H,
            "width": C, "padded_vocab": Vp, "version": version}
    return dims, w


def weights_of(path):
    if open(path, "rb").read(4) == struct.pack("<i", LLMC_MAGIC):
        return read_llmc(path)[1]
    return hf_weights_of(path)


# ---------------------------------------------------------------------------


def rel_err(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    den = np.linalg.norm(want)
    return float(np.linalg.norm(got - want) / den) if den else float(np.abs(got).max())


def verdict(name, err, tol, detail=""):
    ok = err <= tol
    print("interop: %s: rel err %.3e (tol %.0e)%s: %s" % (name, err, tol, detail, "ok" if ok else "FAIL"))
    return ok


def cmd_make(args):
    m, run = load_model(args.config)
    os.makedirs(args.dir, exist_ok=True)
    w = random_hf_weights(m, args.seed)
    names = [n for n, _ in hf_shapes(m)]
    T = m["max_position_embeddings"]
    mask = np.tril(np.ones((T, T), np.float32)).reshape(1, 1, T, T)
    # As transformers' from_pretrained reads them: no prefix, the mask buffers
    # kept (older GPT-2 files have them), a config.json beside.
    hf = os.path.join(args.dir, "hf-f32")
    os.makedirs(hf, exist_ok=True)
    buffers = [("h.%d.attn.bias" % l, "F32", mask) for l in range(m["depth"])]
    write_safetensors(os.path.join(hf, "model.safetensors"),
                      [(n, "F32", w[n]) for n in names] + buffers, {"format": "pt"})
    json.dump({"model_type": "gpt2", "n_head": m["heads"], "n_embd": m["width"],
               "n_layer": m["depth"], "activation_function": "gelu_new" if m["gelu"] == "tanh" else "gelu",
               "layer_norm_epsilon": m["layer_norm_epsilon"]}, open(os.path.join(hf, "config.json"), "w"))
    # As GPT2LMHeadModel.save_pretrained would with the head kept: prefixed.
    write_safetensors(os.path.join(args.dir, "hf-prefixed.safetensors"),
                      [("transformer." + n, "F32", w[n]) for n in names] +
                      [("lm_head.weight", "F32", w["wte.weight"])])
    for dtype in ("BF16", "F16"):
        write_safetensors(os.path.join(args.dir, "hf-%s.safetensors" % dtype.lower()),
                          [(n, dtype, w[n]) for n in names])
    # Damaged or foreign variants for the error tests.
    untied = w["wte.weight"] + 1
    write_safetensors(os.path.join(args.dir, "hf-untied.safetensors"),
                      [(n, "F32", w[n]) for n in names] + [("lm_head.weight", "F32", untied)])
    write_safetensors(os.path.join(args.dir, "hf-extra.safetensors"),
                      [(n, "F32", w[n]) for n in names] + [("h.0.mlp.gate.weight", "F32", w["ln_f.bias"])])
    write_llmc(os.path.join(args.dir, "llmc-v3.bin"), m, w, 3)
    write_llmc(os.path.join(args.dir, "llmc-v5.bin"), m, w, 5)
    rng = np.random.default_rng(args.seed + 1)
    rng.integers(0, m["vocab_size"], size=20 * run["sequence_length"] + 1).astype("<u2").tofile(
        os.path.join(args.dir, "tokens.bin"))
    print("interop: wrote every layout of a random %d-block GPT-2 to %s" % (m["depth"], args.dir))
    return 0


def cmd_logits(args):
    m, _ = load_model(args.config)
    w = weights_of(args.file)
    prompt = [int(t) for t in args.prompt.split(",")]
    tokens = [int(t) for t in open(args.out).read().split("---------------")[0].strip().split(",")]
    steps = len(tokens) - len(prompt)
    got = np.fromfile(args.logits, dtype="<f4").reshape(steps, -1)
    with torch.no_grad():
        want = hf_forward(m, w, [tokens[:-1]])[0, len(prompt) - 1:].numpy()
    ok = verdict("logits of %s (%d steps)" % (os.path.basename(args.file), steps),
                 rel_err(got, want), args.tol)
    greedy = all(int(np.argmax(want[s])) == tokens[len(prompt) + s] for s in range(steps))
    print("interop: greedy tokens are the reference's argmax: %s" % ("ok" if greedy else "FAIL"))
    return 0 if ok and greedy else 1


def mean_loss(m, w, x, y):
    with torch.no_grad():
        logits = hf_forward(m, w, x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                               torch.as_tensor(np.array(y), dtype=torch.long).reshape(-1)).item()


def cmd_loss(args):
    m, run = load_model(args.config)
    w = weights_of(args.file)
    T = run["sequence_length"]
    tokens = np.fromfile(args.tokens, dtype="<u2").astype(np.int64)
    count = (len(tokens) - 1) // T  # gigarun eval's windows
    x = np.stack([tokens[i * T:i * T + T] for i in range(count)])
    y = np.stack([tokens[i * T + 1:i * T + T + 1] for i in range(count)])
    want = mean_loss(m, w, x, y)
    got = json.load(open(args.loss))["loss"]
    return 0 if verdict("eval loss of %s: giga %.8f reference %.8f" % (
        os.path.basename(args.file), got, want), abs(got - want) / abs(want), args.tol) else 1


def cmd_step1(args):
    m, _ = load_model(args.config)
    w = weights_of(args.file)
    trace, _ = read_safetensors(os.path.join(args.run_dir, "trace-step-1.safetensors"))
    want = mean_loss(m, w, trace["tokens"][1], trace["targets"][1])
    first = json.loads(open(os.path.join(args.run_dir, "metrics.jsonl")).readline())
    got = first["loss"]
    return 0 if verdict("step-1 loss from --init %s: giga %.8f reference %.8f" % (
        os.path.basename(args.file), got, want), abs(got - want) / abs(want), args.tol) else 1


def cmd_exported(args):
    ckpt, meta = read_safetensors(args.checkpoint)
    model = json.loads(meta["giga"])["config"]["model"]
    C, L = model["width"], model["depth"]
    g = {k: a for k, (_, a) in ckpt.items() if not k.startswith(("adam.", "sgd."))}
    # The checkpoint in Hugging Face's layout, built here from giga's names.
    want = {"wte.weight": g["wte.weight"], "wpe.weight": g["wpe.weight"],
            "ln_f.weight": g["ln_f.weight"], "ln_f.bias": g["ln_f.bias"]}
    for l in range(L):
        h = "h.%d." % l
        want[h + "attn.c_attn.weight"] = np.concatenate(
            [g[h + "attn.%s.weight" % z] for z in "qkv"]).T
        want[h + "attn.c_attn.bias"] = np.concatenate([g[h + "attn.%s.bias" % z] for z in "qkv"])
        for hf, ours in (("attn.c_proj", "attn.proj"), ("mlp.c_fc", "mlp.fc"), ("mlp.c_proj", "mlp.proj")):
            want[h + hf + ".weight"] = g[h + ours + ".weight"].T
            want[h + hf + ".bias"] = g[h + ours + ".bias"]
        for norm in ("ln_1", "ln_2"):
            for p in ("weight", "bias"):
                want[h + norm + "." + p] = g[h + norm + "." + p]
    # Exported in bf16 or f16: the checkpoint rounded to nearest even, as
    # torch and numpy round.
    rounding = {"f32": lambda a: a,
                "bf16": lambda a: from_bf16_bits(to_bf16_bits(a)).reshape(a.shape),
                "f16": lambda a: a.astype(np.float16).astype(np.float32)}[args.dtype]
    want = {k: rounding(np.ascontiguousarray(a)) for k, a in want.items()}
    ok = True
    hf, hf_meta = read_safetensors(os.path.join(args.hf_dir, "model.safetensors"))
    got = {k[len("transformer."):]: a for k, (_, a) in hf.items()}
    if hf_meta.get("format") != "pt" or sorted(got) != sorted(want) or not all(
            k.startswith("transformer.") for k in hf):
        print("interop: FAIL: exported names or metadata: %s, %s" % (sorted(hf)[:4], hf_meta))
        ok = False
    bad = [k for k in want if k in got and not np.array_equal(got[k], want[k])]
    types = {dtype for dtype, _ in hf.values()}
    print("interop: export hf (%s): %d tensors, %d differ from the checkpoint: %s"
          % ("/".join(sorted(types)), len(got), len(bad), "FAIL " + str(bad[:3]) if bad else "ok"))
    ok = ok and not bad
    config = json.load(open(os.path.join(args.hf_dir, "config.json")))
    expect = {"model_type": "gpt2", "n_embd": C, "n_layer": L, "n_head": model["heads"],
              "vocab_size": model["vocab_size"], "n_positions": model["max_position_embeddings"],
              "activation_function": "gelu_new" if model.get("gelu") == "tanh" else "gelu",
              "tie_word_embeddings": True}
    wrong = {k: config.get(k) for k, v in expect.items() if config.get(k) != v}
    print("interop: export hf: config.json %s" % ("FAIL %s" % wrong if wrong else "ok"))
    ok = ok and not wrong
    if args.llmc == "-":
        return 0 if ok else 1
    dims, llmc = read_llmc(args.llmc)
    bad = [k for k in want if not np.array_equal(llmc[k], want[k])]
    pad_ok = dims["padded_vocab"] % 128 == 0 and dims["padded_vocab"] >= dims["vocab_size"]
    print("interop: export llmc: version %d, vocab %d padded to %d, %d tensors differ: %s"
          % (dims["version"], dims["vocab_size"], dims["padded_vocab"], len(bad),
             "FAIL" if bad or not pad_ok else "ok"))
    return 0 if ok and not bad and pad_ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("make")
    s.add_argument("config")
    s.add_argument("dir")
    s.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("logits")
    for a in ("config", "file", "out", "logits"):
        s.add_argument(a)
    s.add_argument("--prompt", required=True)
    s.add_argument("--tol", type=float, default=1e-5)
    s = sub.add_parser("loss")
    for a in ("config", "file", "tokens", "loss"):
        s.add_argument(a)
    s.add_argument("--tol", type=float, default=1e-5)
    s = sub.add_parser("step1")
    for a in ("config", "file", "run_dir"):
        s.add_argument(a)
    s.add_argument("--tol", type=float, default=1e-5)
    s = sub.add_parser("exported")
    for a in ("checkpoint", "hf_dir", "llmc"):
        s.add_argument(a)
    s.add_argument("--dtype", choices=("f32", "bf16", "f16"), default="f32")
    args = p.parse_args(argv)
    return {"make": cmd_make, "logits": cmd_logits, "loss": cmd_loss, "step1": cmd_step1,
            "exported": cmd_exported}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

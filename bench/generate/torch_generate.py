#!/usr/bin/python3
"""PyTorch peer for bench/generate/compare.sh: greedy generation at batch 1
from the same weights gigarun sample reads, with its own KV cache, as a
PyTorch user writes it at their best.

The model is giga's GPT (pre-LN blocks, q/k/v/proj and a 4x MLP with bias,
exact or tanh GELU, LayerNorm, the head tied to the token embedding), built
from a giga safetensors file (giga's names: wte.weight, h.3.attn.q.weight,
...). At its best here means: q, k and v fused into one Linear (one GEMV
instead of three), a preallocated cache [1, H, context, D] written in place
and read up to the current position (torch.cat would copy the whole cache
every token), torch.inference_mode(), and for bf16 the weights cast to
bfloat16 once (autocast would convert every weight on every call). Attention
is the explicit softmax path: torch 1.13 has no scaled_dot_product_attention.

It times what gigarun sample's summary line times, from before the prompt's
forward to the last new token, after one untimed short generation (plans,
page faults); neither side counts loading the weights. It prints the
generated ids, comma-separated, and writes --json.

  /usr/bin/python3 bench/generate/torch_generate.py --config C.json
      --weights W.safetensors --prompt 1,2,3 [--new-tokens 200]
      [--threads 2] [--precision fp32|bf16] [--json OUT]
"""

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "parity"))
try:
    import torch
    import torch.nn.functional as F
    import gpt_reference
except ImportError as error:
    sys.exit("torch_generate.py: %s (run with /usr/bin/python3 and python3-torch "
             "installed)" % error)


class Gpt:
    def __init__(self, config, weights, dtype, context):
        m = config["model"]
        self.depth, self.width, self.heads = m["depth"], m["width"], m["heads"]
        self.eps = m.get("layer_norm_epsilon", 1e-5)
        self.gelu = "tanh" if m.get("gelu", "exact") == "tanh" else "none"
        if m.get("norm", "layernorm") != "layernorm":
            sys.exit("torch_generate.py: only LayerNorm models")
        w = {k: torch.from_numpy(v.copy()).to(dtype) for k, v in weights.items()}
        self.wte, self.wpe = w["wte.weight"], w["wpe.weight"]
        self.ln_f = (w["ln_f.weight"], w["ln_f.bias"])
        self.blocks = []
        for l in range(self.depth):
            p = lambda name: w["h.%d.%s" % (l, name)]
            qkv = torch.cat([p("attn.q.weight"), p("attn.k.weight"), p("attn.v.weight")])
            qkv_bias = torch.cat([p("attn.q.bias"), p("attn.k.bias"), p("attn.v.bias")])
            self.blocks.append(dict(
                ln_1=(p("ln_1.weight"), p("ln_1.bias")), qkv=(qkv, qkv_bias),
                proj=(p("attn.proj.weight"), p("attn.proj.bias")),
                ln_2=(p("ln_2.weight"), p("ln_2.bias")),
                fc=(p("mlp.fc.weight"), p("mlp.fc.bias")),
                mlp_proj=(p("mlp.proj.weight"), p("mlp.proj.bias"))))
        d = self.width // self.heads
        self.cache = [(torch.zeros(1, self.heads, context, d, dtype=dtype),
                       torch.zeros(1, self.heads, context, d, dtype=dtype))
                      for _ in range(self.depth)]

    def forward(self, tokens, start):
        """Logits of the last of `tokens` (a [1, S] chunk at positions start..)."""
        S, C, H = tokens.shape[1], self.width, self.heads
        D = C // H
        x = self.wte[tokens] + self.wpe[start:start + S]
        end = start + S
        mask = None
        if S > 1:  # the chunk's own causal mask; the past is all visible
            mask = torch.full((S, end), float("-inf"), dtype=x.dtype).triu(start + 1)
        for b, (keys, values) in zip(self.blocks, self.cache):
            a = F.layer_norm(x, (C,), *b["ln_1"], self.eps)
            q, k, v = F.linear(a, *b["qkv"]).split(C, dim=2)
            q = q.view(1, S, H, D).transpose(1, 2)
            keys[:, :, start:end] = k.view(1, S, H, D).transpose(1, 2)
            values[:, :, start:end] = v.view(1, S, H, D).transpose(1, 2)
            scores = (q @ keys[:, :, :end].transpose(-2, -1)) * (1.0 / D ** 0.5)
            if mask is not None:
                scores = scores + mask
            y = scores.softmax(dim=-1) @ values[:, :, :end]
            x = x + F.linear(y.transpose(1, 2).reshape(1, S, C), *b["proj"])
            a = F.layer_norm(x, (C,), *b["ln_2"], self.eps)
            x = x + F.linear(F.gelu(F.linear(a, *b["fc"]), approximate=self.gelu),
                             *b["mlp_proj"])
        x = F.layer_norm(x[:, -1], (C,), *self.ln_f, self.eps)
        return F.linear(x, self.wte)

    def generate(self, prompt, new_tokens):
        ids = list(prompt)
        logits = self.forward(torch.tensor([ids]), 0)
        for _ in range(new_tokens):
            ids.append(int(logits.float().argmax(dim=-1)))
            if len(ids) - len(prompt) == new_tokens:
                break
            logits = self.forward(torch.tensor([[ids[-1]]]), len(ids) - 1)
        return ids[len(prompt):]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--prompt", required=True, help="token ids, comma-separated")
    parser.add_argument("--new-tokens", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--context", type=int, default=0,
                        help="cache length (default: the config's max_position_embeddings)")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = json.load(open(args.config))
    weights, _ = gpt_reference.read_safetensors(args.weights)
    prompt = [int(t) for t in args.prompt.split(",")]
    context = args.context or config["model"]["max_position_embeddings"]
    if len(prompt) + args.new_tokens > context:
        sys.exit("torch_generate.py: prompt + new tokens exceed the context %d" % context)
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    model = Gpt(config, weights, dtype, context)
    del weights
    with torch.inference_mode():
        model.generate(prompt, min(8, args.new_tokens))  # untimed warmup
        start = time.perf_counter()
        ids = model.generate(prompt, args.new_tokens)
        seconds = time.perf_counter() - start
    print(",".join(map(str, ids)))
    # The BLAS this process loaded (compare.sh checks it is OpenMP OpenBLAS).
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps")
                   if "libblas" in line or "openblas" in line})
    result = {"seconds": seconds, "tokens": len(ids), "tokens_per_sec": len(ids) / seconds,
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
              "torch": torch.__version__, "threads": args.threads,
              "precision": args.precision, "blas": blas}
    print("torch_generate.py: BLAS %s" % blas, file=sys.stderr)
    print("torch_generate.py: %d tokens in %.2f s (%.1f tokens/s, %s, %d threads)"
          % (len(ids), seconds, result["tokens_per_sec"], args.precision, args.threads),
          file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()

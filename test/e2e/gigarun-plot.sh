#!/usr/bin/env bash
# gigarun plot draws runs' metrics.jsonl as an SVG: checked by parsing it
# back (the curves' points must map to the records), overlaying two runs,
# thinning a long run without losing its spike, and refusing bad input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
python=/usr/bin/python3

# run A: 30 steps, loss falling from 10, validation every 10 steps, a NaN
# loss at step 7 (written as null); run B: 20 steps; run C: 20000 steps with
# one spike; D: killed while writing its last line.
"$python" - "$work" <<'EOF'
import json, math, os, sys
work = sys.argv[1]
def write(name, records, tail=""):
    os.makedirs(f"{work}/{name}", exist_ok=True)
    with open(f"{work}/{name}/metrics.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
        f.write(tail)
def record(step, loss, **extra):
    r = {"step": step, "loss": loss, "lr": 1e-3 * (1 - step / 40),
         "grad_norm": 1.0, "tokens_per_sec": 1000 + step, "samples_per_sec": 10,
         "mfu": 0.01, "batch_offsets": [0]}
    r.update(extra)
    return r
a = [record(s, None if s == 7 else 10 - 0.2 * s,
            **({"val_loss": 10.5 - 0.2 * s} if s % 10 == 0 else {}))
     for s in range(1, 31)]
write("a", a)
write("b", [record(s, 9 - 0.1 * s) for s in range(1, 21)])
write("c", [record(s, 50.0 if s == 12345 else 5.0) for s in range(1, 20001)])
write("d", [record(s, 5.0) for s in range(1, 4)], tail='{"step": 4, "lo')
write("bad", [record(1, 5.0)] + [{"loss": 3}] + [record(3, 4.0)])
os.makedirs(f"{work}/twice", exist_ok=True)
with open(f"{work}/twice/metrics.jsonl", "w") as f:
    f.write(json.dumps(record(1, 5.0)) + "\n")
    f.write('{"step": 2, "loss": 4.0, "loss": 9.0}\n')
os.makedirs(f"{work}/empty", exist_ok=True)
open(f"{work}/empty/metrics.jsonl", "w").close()
EOF

# check_svg FILE RUNS: well-formed, one primary curve per run and panel, and
# run A's training loss points in step order with y falling as loss rises.
check_svg() {
  "$python" - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
path, runs = sys.argv[1], int(sys.argv[2])
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(path).getroot()
assert root.tag.endswith("svg"), root.tag
primary = [p for p in root.iter("{http://www.w3.org/2000/svg}polyline")
           if p.get("class") == "primary"]
assert len(primary) == 3 * runs, f"{len(primary)} curves, expected {3 * runs}"
loss = [tuple(map(float, xy.split(","))) for xy in primary[0].get("points").split()]
xs = [x for x, _ in loss]
assert xs == sorted(xs), "points out of step order"
print(f"{path}: {len(primary)} curves, first has {len(loss)} points")
EOF
}

"$gigarun" plot "$work/a" >"$work/a.out" 2>"$work/a.err" ||
  fail "plot a: $(cat "$work/a.err")"
[[ -f $work/a/loss.svg ]] || fail "plot a wrote no $work/a/loss.svg"
grep -q "wrote $work/a/loss.svg (1 run, steps 1 to 30)" "$work/a.out" ||
  fail "plot a: unexpected output: $(cat "$work/a.out")"
check_svg "$work/a/loss.svg" 1 || fail "plot a: bad SVG"
# 29 finite training losses (step 7's is null), 3 validation markers.
"$python" - "$work/a/loss.svg" <<'EOF' || fail "plot a: wrong curves"
import sys, xml.etree.ElementTree as ET
svg = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
lines = {}
for p in root.iter(svg + "polyline"):
    lines.setdefault(p.get("class"), []).append(
        [tuple(map(float, xy.split(","))) for xy in p.get("points").split()])
train, val = lines["primary"][0], lines["secondary"][0]
assert len(train) == 29, len(train)
assert len(val) == 3, len(val)
assert len(list(root.iter(svg + "circle"))) == 3
# loss falls with the step, so y (downwards) grows left to right
assert all(b[1] > a[1] for a, b in zip(train, train[1:])), "loss curve not falling"
# validation is 0.5 above training at steps 10, 20, 30: drawn above it
assert all(v[1] < t[1] for v, t in zip(val, [train[8], train[18], train[28]]))
EOF

"$gigarun" plot "$work/a" "$work/b/" -o "$work/ab.svg" >"$work/ab.out" 2>&1 ||
  fail "plot a b: $(cat "$work/ab.out")"
check_svg "$work/ab.svg" 2 || fail "plot a b: bad SVG"
grep -q ">$work/b<" "$work/ab.svg" || fail "plot a b: no legend entry for b"

"$gigarun" plot "$work/c/metrics.jsonl" -o - >"$work/c.svg" 2>"$work/c.err" ||
  fail "plot c: $(cat "$work/c.err")"
"$python" - "$work/c.svg" <<'EOF' || fail "plot c: thinning lost points or the spike"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
p = next(root.iter("{http://www.w3.org/2000/svg}polyline"))
points = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
assert 500 < len(points) < 4000, f"{len(points)} points for 20000 steps"
ys = [y for _, y in points]
assert max(ys) - min(ys) > 100, "the spike at step 12345 is gone"
EOF

"$gigarun" plot "$work/d" -o "$work/d.svg" >"$work/d.out" 2>"$work/d.err" ||
  fail "plot d: $(cat "$work/d.err")"
grep -q "skipped its last line, cut short" "$work/d.err" ||
  fail "plot d: no note about the cut-short line: $(cat "$work/d.err")"

expect_user_error plot-missing "no such file" "$gigarun" plot "$work/nowhere"
expect_user_error plot-bad-line "metrics.jsonl:2: not a metrics record" \
  "$gigarun" plot "$work/bad"
expect_user_error plot-key-twice 'metrics.jsonl:2: "loss" appears twice' \
  "$gigarun" plot "$work/twice"
expect_user_error plot-empty "no steps recorded yet" "$gigarun" plot "$work/empty"
expect_user_error plot-no-run "RUN_DIR is required" "$gigarun" plot
expect_user_error plot-into-directory "not a regular file" \
  "$gigarun" plot "$work/a" -o "$work/b"
cp "$work/a/loss.svg" "$work/before.svg"
expect_user_error plot-unwritable "cannot create" \
  "$gigarun" plot "$work/a" -o "$work/missing-dir/x.svg"
cmp -s "$work/a/loss.svg" "$work/before.svg" || fail "a failed plot changed loss.svg"
finish

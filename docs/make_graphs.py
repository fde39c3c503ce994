"""Make docs/graphs.md and its pictures (docs/img/graphs/): static graphs beside dynamic ones.

    python docs/make_graphs.py            # everything (a few minutes: the whole zoo to ONNX)
    python docs/make_graphs.py --quick    # smaller batch, fewer rounds, a few zoo models

Needs the `reference` (PyTorch) and `onnx` extras; Graphviz's `dot` only for the PNGs (without
it the DOT files are written and the page links to pictures made earlier).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))  # the torch ResNet-18 of the import test

import striate  # noqa: E402
from striate import functional as F  # noqa: E402
from striate import jit, nn  # noqa: E402
from striate.benchmark import format_traced_table, run_traced  # noqa: E402
from striate.jit.passes import planned_peak_bytes  # noqa: E402
from striate.models import create_model, list_models  # noqa: E402
from striate.models.stats import count_parameters, skip_init  # noqa: E402
from striate.utils import draw_graph  # noqa: E402

IMG = HERE / "img" / "graphs"


def _png(obj, name: str, **kw) -> str:
    """Draw obj to IMG/name.png (DOT text beside it in /tmp, not in the repo)."""
    dot_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "striate-graphs"
    draw_graph(obj, dot_dir / name, format="png" if shutil.which("dot") else None, **kw)
    png = dot_dir / f"{name}.png"
    if png.exists():
        IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, IMG / f"{name}.png")
    return f"img/graphs/{name}.png"


def circuit() -> tuple[str, str]:
    x = striate.tensor(-2.0, requires_grad=True)
    y = striate.tensor(5.0, requires_grad=True)
    z = striate.tensor(-4.0, requires_grad=True)
    f = (x + y) * z
    f.backward(retain_graph=True)
    return _png(f, "circuit", params={"x": x, "y": y, "z": z}, rankdir="LR"), \
        f"df/dx = {x.grad.item():g}, df/dy = {y.grad.item():g}, df/dz = {z.grad.item():g}"


class Branchy(nn.Module):
    """A forward whose path depends on the data: fine eagerly, wrong once traced."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        if x.sum() > 0:
            return F.relu(self.fc(x))
        return -x


def control_flow() -> dict:
    striate.manual_seed(0)
    m = Branchy()
    pos, neg = striate.ones(1, 3), -striate.ones(1, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = jit.trace(m, pos)
    msg = str(caught[0].message) if caught else "(no warning)"
    msg = msg.replace(str(HERE), "docs")
    with striate.no_grad():
        return {"warning": msg, "eager": m(neg).array.astype(float).round(3).tolist(),
                "traced": t(neg).array.astype(float).round(3).tolist()}


def digits_convnet():
    striate.manual_seed(0)
    m = create_model("convnet", num_classes=10, input_shape=(1, 8, 8))
    rng = np.random.default_rng(0)
    for name, b in m.named_buffers():  # trained-like statistics, so folding has work to do
        if name.endswith("running_mean"):
            b.array[:] = rng.uniform(-0.2, 0.2, b.shape)
        elif name.endswith("running_var"):
            b.array[:] = rng.uniform(0.5, 2.0, b.shape)
    return m.eval()


def static_side() -> dict:
    m = digits_convnet()
    x = striate.randn(64, 1, 8, 8)
    t0 = time.perf_counter()
    traced = jit.trace(m, x)
    trace_ms = 1e3 * (time.perf_counter() - t0)
    opt = jit.optimize_for_inference(traced)
    with striate.no_grad():
        err = float(np.abs(opt(x).array - m(x).array).max())
    try:
        traced(striate.randn(2, 1, 9, 9))
        shape_error = "(none)"
    except ValueError as e:
        shape_error = str(e)
    loss = F.cross_entropy(m.train()(x[:4]), striate.tensor(np.array([0, 1, 2, 3])))
    m.eval()
    return {
        "forward_png": _png(traced, "convnet_forward"),
        "optimised_png": _png(opt, "convnet_optimised"),
        "backward_png": _png(loss, "convnet_backward", params=dict(m.named_parameters()),
                             dpi=60),
        "graph_text": str(traced.graph), "opt_text": str(opt.graph),
        "trace_ms": trace_ms, "err": err, "shape_error": shape_error,
        "peak_plain": planned_peak_bytes(traced.graph), "peak_opt": planned_peak_bytes(opt.graph),
        "raw_counts": traced.graph.op_counts(), "raw_opt_counts": opt.graph.op_counts(),
    }


def _randomise(model, rng):
    for p in model.parameters():
        fan = p.array[0].size if p.ndim > 1 else 1
        p.array[...] = (rng.random(p.shape, dtype=np.float32) - 0.5) * (3.4 / np.sqrt(fan))
    for name, b in model.named_buffers():
        if name.endswith("running_var"):
            b.array[...] = rng.uniform(0.5, 2.0, b.shape)
        elif name.endswith("running_mean"):
            b.array[...] = rng.uniform(-0.2, 0.2, b.shape)


def zoo_table(names) -> list[str]:
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    rows = ["| model | parameters | ONNX nodes | file MB | trace + export s | "
            "max abs diff (onnxruntime vs striate) | max abs output |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        with skip_init():
            model = create_model(name, num_classes=5, input_shape=(1, 8, 8))
        _randomise(model, rng)
        model.eval()
        x = striate.tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
        buf = io.BytesIO()
        t0 = time.perf_counter()
        proto = striate.onnx.export(model, x, buf, input_names=["images"], output_names=["scores"],
                                    dynamic_axes={"images": [0], "scores": [0]})
        dt = time.perf_counter() - t0
        sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
        x3 = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
        got = sess.run(None, {"images": x3})[0]
        with striate.no_grad():
            ref = model(striate.tensor(x3)).array
        rows.append(f"| {name} | {count_parameters(model):,} | {len(proto.graph.node)} | "
                    f"{len(buf.getvalue()) / 1e6:.1f} | {dt:.1f} | "
                    f"{np.abs(got - ref).max():.1e} | {np.abs(ref).max():.2f} |")
        print(f"zoo {name} done", file=sys.stderr)
    return rows


def import_side() -> list[str]:
    import torch
    from torch_resnet18 import ResNet18

    out = ["| PyTorch model | operators in the file | max abs diff (striate vs PyTorch) |",
           "|---|---|---:|"]
    torch.manual_seed(0)
    cases = []
    r = ResNet18(num_classes=10).eval()
    for mod in r.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 2.0)
    cases.append(("ResNet-18 (torchvision's architecture), 2x3x64x64", r,
                  torch.randn(2, 3, 64, 64)))
    cases.append(("LSTM(3, 5, num_layers=2, batch_first=True), 2x4x3",
                  torch.nn.LSTM(3, 5, num_layers=2, batch_first=True), torch.randn(2, 4, 3)))
    for label, model, x in cases:
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), buf, dynamo=False)
        s = striate.onnx.load_model(buf.getvalue())
        with torch.no_grad():
            ref = model(x)
        ref = [ref] if isinstance(ref, torch.Tensor) else [ref[0], *ref[1]]
        with striate.no_grad():
            got = s(striate.tensor(x.numpy()))
        got = [got] if isinstance(got, striate.Tensor) else list(got)
        err = max(float(np.abs(a.array - b.numpy()).max()) for a, b in zip(got, ref))
        ops = sorted({n.op for n in s.graph.nodes})
        out.append(f"| {label} | {', '.join(ops)} | {err:.1e} |")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    batch, rounds = (32, 1) if args.quick else (128, 5)
    zoo = ["convnet", "resnet20", "lenet5"] if args.quick else list_models()

    circuit_png, circuit_grads = circuit()
    cf = control_flow()
    st = static_side()
    print("static side done", file=sys.stderr)
    def log(s):
        print(s, file=sys.stderr)

    cpu_rows = run_traced(batch_size=batch, threads=1, rounds=rounds, steps=3, log=log,
                          clock=time.process_time)
    wall_rows = run_traced(batch_size=batch, threads=os.cpu_count() or 1, rounds=rounds,
                           steps=3, log=log)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    imports = import_side()
    zoo_rows = zoo_table(zoo)
    by = {(r["model"], r["variant"]): r for r in cpu_rows}
    said = []
    for name in ("default_convnet", "resnet20"):
        e, o = by[(name, "striate eager")], by[(name, "striate traced+optimised")]
        said.append(f"{name} {o['vs_eager']:.2f}x eager's CPU time with "
                    f"{1 - o['peak_mib'] / e['peak_mib']:.0%} less peak memory")
    page = PAGE.format(measured="; ".join(said),
        circuit_png=circuit_png, circuit_grads=circuit_grads, **cf, **st,
        counts=", ".join(f"{k} {v}" for k, v in sorted(st["raw_counts"].items())),
        opt_counts=", ".join(f"{k} {v}" for k, v in sorted(st["raw_opt_counts"].items())),
        peak_plain_kib=st["peak_plain"] / 1024, peak_opt_kib=st["peak_opt"] / 1024,
        cpu_table=format_traced_table(cpu_rows, batch, 1, rounds, cpu_time=True),
        wall_table=format_traced_table(wall_rows, batch, os.cpu_count() or 1, rounds),
        machine=f"{platform.machine()} {os.cpu_count()} cores, NumPy {np.__version__}",
        load=load, date=time.strftime("%Y-%m-%d"), zoo_table="\n".join(zoo_rows),
        import_table="\n".join(imports), batch_note=batch,
        zoo_note="" if not args.quick else " (--quick: three models only)")
    (HERE / "graphs.md").write_text(page, encoding="utf-8")
    print(f"wrote {HERE / 'graphs.md'}", file=sys.stderr)


PAGE = """\
# Static graphs beside dynamic ones: tracing, graph passes, drawing, ONNX

*Generated by `python docs/make_graphs.py` on {date} ({machine}, load average {load:.1f} while
it ran); rerun it to refresh every number and picture on this page.*

striate is **define-by-run** (dynamic): every forward pass builds its graph as it goes, and
backward walks that graph once. The notes contrast this with **static** graphs (build once,
optimise, serialise, run anywhere). striate has both now:

| | dynamic (eager) | static (`striate.jit.trace`) |
|---|---|---|
| graph | rebuilt by every forward | recorded once, then a data structure (`traced.graph`) |
| Python control flow on values | just works | one path recorded; the tracer warns |
| shapes | anything, every call | the traced shapes (the batch dim may change) |
| optimisation | op by op | whole-graph passes: BN folding, fusion, buffer planning |
| deployment | needs Python + striate | `striate.onnx.export` -> any ONNX runtime |
| debugging | a breakpoint in `forward` | `print(traced.code)`, `draw_graph(traced)` |

## The dynamic graph, drawn

`striate.utils.draw_graph(loss)` follows `grad_fn.next_functions` as the backward engine does
and writes Graphviz DOT (a PNG or SVG too where `dot` is installed). The notes' circuit
`f = (x + y) z` at `x = -2, y = 5, z = -4`, after `f.backward()`, with each leaf's value and
gradient ({circuit_grads}):

![the circuit's backward graph]({circuit_png})

## Tracing: one forward becomes a graph

```python
traced = striate.jit.trace(model.eval(), example_batch)
print(traced.code)
```

`jit.trace` records every `Function.apply` of one forward (a hook that costs eager code one
global read per op when no trace runs). Nodes are the ops of `striate.functional` with their
attributes, edges are tensors, parameters and buffers are named constants (shared with the
model: training it changes the trace too). The default ConvNet of `striate train` (on the 8x8
digits; traced in {trace_ms:.0f} ms):

```
{graph_text}
```

![the ConvNet's traced graph]({forward_png})

The traced module is called like the model, on any batch size, and trains (its nodes run through
the same autograd Functions as eager code). Other spatial sizes are refused, because the trace
baked them in:

```
{shape_error}
```

### What a trace cannot see

A Python `if` on a tensor's value picks one branch while tracing, and the graph keeps only that
one. The tracer watches the conversions that make such choices possible (`bool()`, `.item()`,
`float()`, `int()`, `.tolist()`) and warns with the model's line:

```python
class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return F.relu(self.fc(x))
        return -x
```

```
TracerWarning: {warning}
```

Traced on a positive input, then called on `-ones(1, 3)`: eager gives `{eager}`, the trace gives
`{traced}` (it ran the linear branch). This is the price of a static graph; `torch.jit.script`
(compiling the Python itself) is PyTorch's answer and is not built here.

## Graph passes

Each pass is a function from graph to graph, tested to leave the outputs unchanged
(`tests/jit/test_jit_passes.py`):

- `eliminate_dead_code`: nodes no output depends on;
- `constant_folding`: subgraphs of constants only, computed once (parameters included with
  `include_params=True`, which freezes them);
- `fold_batch_norm`: `batch_norm(conv(x, w, b))` in eval is `conv(x, w s, (b - mean) s + beta)`
  with `s = gamma / sqrt(var + eps)` per output channel (also after `linear`);
- `fuse_activations`: `relu(conv)`, `relu(linear)`, `relu(a + b)` become one node; the
  convolution applies its bias and ReLU to each chunk of output rows right after its GEMM, while
  the rows are still in cache (`kernels.conv.conv_relu_forward`);
- `plan_buffers`: value lifetimes; each value is dropped after its last reader, and an
  elementwise node whose first input dies there writes into that input's buffer.

`jit.optimize_for_inference(traced)` runs them all. On the ConvNet above the ops go from
{counts} to {opt_counts} (largest difference from eager {err:.1e}); the intermediate values alive
at once go from {peak_plain_kib:.0f} KiB (every value kept to the end, as a graph runner without
a plan does) to {peak_opt_kib:.0f} KiB.

![the optimised graph]({optimised_png})

And the backward graph of this ConvNet's loss (training mode: batch statistics), as the engine
sees it:

![the ConvNet's backward graph]({backward_png})

## Speed and memory: `striate bench --traced`

Inference (eval, no gradients) of `striate train`'s default ConvNet (`models.ConvNet`: three
conv3x3-BN-ReLU-maxpool blocks of 32/64/128 channels, dropout, a linear head) and ResNet-20 on a
batch of 3x32x32 images: striate eager, the plain trace,
the trace after `optimize_for_inference`, PyTorch eager on the same architecture, and
onnxruntime on striate's exported file. Peak memory is what NumPy allocated during one call
(tracemalloc sees NumPy's arrays, not PyTorch's or onnxruntime's).

This machine was shared by eight engineers' test suites while the numbers were taken, so wall
times are several times a quiet machine's. The first table counts this process's CPU time on one
thread, which descheduling does not inflate:

```
striate bench --traced --threads 1 --cpu-time --batch-size {batch_note}
```

{cpu_table}

Wall-clock, all cores:

{wall_table}

What the numbers say (traced+optimised, one thread: {measured}): in NumPy the convolutions'
GEMMs and im2col copies are most of the time (85-90% of ResNet-20's inference), and eager
striate already runs batch norm and ReLU as compiled passes; folding and fusing remove those
passes, so the traced graph can gain at most their share (about 10%), and a gain of that size
is close to this shared machine's run-to-run noise (earlier runs measured ties). The clear win
is memory.
The memory plan matters more: a graph runner that keeps every value (the plain trace) holds the
whole forward's activations, the plan holds about one layer's. onnxruntime and PyTorch use
tuned direct convolutions (oneDNN/MLAS), which NumPy's im2col + BLAS does not match.

## ONNX: the ecosystem's format

`striate.onnx.export(model, args, "model.onnx", input_names=..., output_names=...,
dynamic_axes=..., opset_version=17)` has `torch.onnx.export`'s signature: it traces the model in
eval mode and writes each op as ONNX operators (recurrent weights in ONNX's gate order), checks
the file with `onnx.checker`, and writes reshapes that keep the batch dim with ONNX's "copy"
0, so `dynamic_axes` on the batch works. `striate export RUN --format onnx` does this for a
trained run, with the run's input normalisation as the model's first ops (raw pixels in), and
compares onnxruntime with striate on the test split. An op with no mapping is named with the
module it occurs in:

```
UnsupportedOperatorError: onnx.export: op 'cumsum' (Function Cumsum) in module 1 has no ONNX mapping
```

Every zoo model, exported at 1x8x8 with random weights and running statistics and run by
onnxruntime on a batch of another size{zoo_note}:

{zoo_table}

The char-RNN (embedding, two LSTM layers, linear: all three outputs), both captioners' `scores`
(LSTM or RNN decoder; soft attention with an LSTM cell) and the default ConvNet are checked the
same way in `tests/onnx_exchange/test_onnx_export.py`.

### Importing: `striate.onnx.load_model`

`load_model("model.onnx")` turns the file into a `jit` graph whose nodes are
`striate.functional` calls, inside a module whose float weights are parameters (it fine-tunes:
`tests/onnx_exchange/test_onnx_import.py` takes three SGD steps). Files written by real PyTorch
(`torch.onnx.export(..., dynamo=False)`: torch 2.13's default exporter needs `onnxscript`, which
the TorchScript exporter does not):

{import_table}

An operator without a mapping, or an opset outside 13-21, is refused with both named:
`operator 'Hardmax' (opset 17) of node hm has no striate mapping; supported: ...`.

## Commands

```
striate graph RUN [--backward] [--optimized] [--format svg|png|dot]  # RUN/graph_*.dot (+ .svg)
striate export RUN --format onnx [--output FILE]                     # RUN/model.onnx
striate bench --traced [--threads 1 --cpu-time]                      # the tables above
```
"""


if __name__ == "__main__":
    main()

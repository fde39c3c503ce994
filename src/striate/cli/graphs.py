"""``striate export`` (a trained run as an ONNX file) and ``striate graph`` (its graphs drawn).

Both read a run folder (or checkpoint) as ``striate eval`` does. The exported model takes raw
images: the run's input normalisation (fitted on its training split) is its first two ops, so
another runtime needs nothing but the file. The outputs go into the run's folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import CommandError, positive_int
from .train import _load_trained


def _with_normalisation(model, norm):
    """``model`` preceded by ``(x - mean) / std`` with the run's statistics, as one module."""
    from .. import nn
    from ..autograd.tensor import Tensor

    class Normalized(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", Tensor(np.asarray(norm.mean, np.float32)))
            self.register_buffer("std", Tensor(np.asarray(norm.std, np.float32)))
            self.model = model

        def forward(self, x):
            return self.model((x - self.mean) / self.std)

    return Normalized().eval()


def _run_folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def export(args) -> int:
    import striate

    if args.format != "onnx":  # pragma: no cover - argparse's choices
        raise CommandError(f"unknown format {args.format!r}")
    ckpt, config, data, norm, model = _load_trained(args.run)
    full = _with_normalisation(model.eval(), norm)
    x = np.asarray(data.test.X[: args.batch_size], dtype=np.float32)
    out = Path(args.output) if args.output else _run_folder(Path(args.run)) / "model.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    striate.onnx.export(full, striate.tensor(x), str(out), input_names=["images"],
                        output_names=["scores"], opset_version=args.opset,
                        dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}})
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB; input 'images' (batch, "
          f"{', '.join(map(str, x.shape[1:]))}) raw pixels, output 'scores' (batch, "
          f"{data.num_classes}); {config['model']} from {ckpt})")
    try:
        import onnxruntime as ort
    except ImportError:
        return 0
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    test = np.asarray(data.test.X, dtype=np.float32)
    got = sess.run(["scores"], {"images": test})[0]
    with striate.no_grad():
        ref = full(striate.tensor(test)).array
    agree = float(np.mean(got.argmax(1) == ref.argmax(1)))
    print(f"onnxruntime on the {len(test)} test images: max |difference| from striate "
          f"{np.abs(got - ref).max():.2e}, same prediction for {agree:.1%}")
    return 0


def graph(args) -> int:
    import striate

    from .. import functional as F
    from ..utils import draw_graph

    ckpt, config, data, norm, model = _load_trained(args.run)
    model.eval()
    folder = Path(args.out) if args.out else _run_folder(Path(args.run))
    x = striate.tensor(np.asarray(norm(data.test.X[:1]), dtype=np.float32))
    traced = striate.jit.trace(model, x)
    fmt = None if args.format == "dot" else args.format
    written = []
    draw_graph(traced, folder / "graph_forward", format=fmt)
    written.append("graph_forward")
    if args.optimized:
        draw_graph(striate.jit.optimize_for_inference(traced), folder / "graph_optimized",
                   format=fmt)
        written.append("graph_optimized")
    if args.backward:
        loss = F.cross_entropy(model(x), striate.tensor(np.asarray(data.test.y[:1])))
        draw_graph(loss, folder / "graph_backward", format=fmt,
                   params=dict(model.named_parameters()))
        written.append("graph_backward")
    counts = traced.graph.op_counts()
    print(f"{config['model']}: {len(traced.graph.nodes)} ops "
          f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
    import shutil

    drawn = fmt is not None and shutil.which("dot") is not None
    for name in written:
        extra = f" and {name}.{fmt}" if drawn else ""
        print(f"wrote {folder / name}.dot{extra}")
    if fmt is not None and not drawn:
        print("note: Graphviz's dot is not installed; only the DOT text was written "
              "(apt-get install graphviz, then: dot -Tsvg FILE.dot -o FILE.svg)")
    return 0


def add_parsers(sub) -> None:
    e = sub.add_parser(
        "export", help="write a trained run as an ONNX file (needs the onnx extra)",
        description="Trace a run's model (best checkpoint) with its input normalisation and write "
        "it as ONNX (opset 17+, batch dim dynamic); with onnxruntime installed, the file is run "
        "on the test split and compared with striate.")
    e.add_argument("run", help="run folder or checkpoint")
    e.add_argument("--format", default="onnx", choices=["onnx"], help="default: %(default)s")
    e.add_argument("--output", default=None, help="file to write (default: RUN/model.onnx)")
    e.add_argument("--opset", type=positive_int, default=17, help="default: %(default)s")
    e.add_argument("--batch-size", type=positive_int, default=2,
                   help="batch of the example input traced (default: %(default)s)")
    e.set_defaults(handler=export)

    g = sub.add_parser(
        "graph", help="draw a run's model as a graph (Graphviz DOT, SVG/PNG with dot)",
        description="Trace a run's model on one test image and write its forward graph "
        "(graph_forward.dot), optionally the inference-optimised graph and the backward graph "
        "of the loss; SVG or PNG too where Graphviz's dot is installed.")
    g.add_argument("run", help="run folder or checkpoint")
    g.add_argument("--format", default="svg", choices=["svg", "png", "dot"],
                   help="picture format besides the DOT text (default: %(default)s)")
    g.add_argument("--backward", action="store_true", help="also the loss's backward graph")
    g.add_argument("--optimized", action="store_true",
                   help="also the graph after BN folding, fusion and buffer planning")
    g.add_argument("--out", default=None, help="folder to write to (default: the run's)")
    g.set_defaults(handler=graph)

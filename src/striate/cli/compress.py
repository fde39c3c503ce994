"""``striate compress prune|dsd|deep-compression|lowrank|quantize|qat|binary|ternary|distill``.

Each sub-command loads the run's best checkpoint (any run of ``train`` or ``compress``),
compresses the model (fine-tuning on the run's training split where the method retrains), and
writes a new run folder with ``checkpoint_best.npz``: the compressed model exactly as the report
measured it (pruned and shared weights as plain weights holding their zeros and shared values,
int8 layers as their integers, thinner or factorised layers as they are), its config recording
the layers that differ from the zoo's architecture (``train.architecture``), so ``striate
eval``, ``predict``, ``attack`` and ``train.runs.load_run`` rebuild it. Also ``report.json`` and
``report.md`` (size in bytes, sparsity, test accuracy before and after, measured inference time
of a test batch). ``deep-compression`` also writes ``weights.huffman``: the Huffman-coded
layers whose length the report counts.
"""

from __future__ import annotations

import json
import struct
import sys

import numpy as np

from . import CommandError, non_negative_float, positive_int, run_dir
from .train import load_trained, split_loader, train_loader


def _fraction(text: str) -> float:
    import argparse

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {v}")
    return v


def _setup(args):
    import striate

    from ..compress import dense_bytes, evaluate, inference_time

    path, config, data, norm, model = load_trained(args.run)
    # what _model_record rebuilds the architecture with (older runs' configs lack them)
    config.setdefault("classes", list(data.classes))
    config.setdefault("input_shape", list(data.input_shape))
    striate.manual_seed(args.seed)
    test = split_loader(data.test, norm, 512)
    x = striate.Tensor(norm(data.test.X[:256]))
    before = {"accuracy": evaluate(model, test), "bytes": dense_bytes(model),
              "inference_s": inference_time(model, x)}
    print(f"striate compress {args.method}: {config['model']} from {path}")
    print(f"before: test accuracy {100 * before['accuracy']:.2f}%, {before['bytes']:,} bytes")
    return path, config, data, norm, model, test, x, before


def _fit_fn(args, config, data, norm):
    from ..compress import finetune

    loader = train_loader(data.train, norm, config)

    def fit(model, epochs=None, lr=None):
        finetune(model, loader, args.epochs if epochs is None else epochs,
                 lr=args.lr if lr is None else lr, progress=not args.no_progress)
    return fit, loader


def _finish(args, path, config, model, test, x, before, after_bytes, extra: dict, blobs=None,
            model_config: dict | None = None):
    """Measure the compressed ``model``, write the run folder (checkpoint, report) and return
    it; ``model_config`` (``model``, ``model_kwargs``) when the model is not the source run's
    architecture (a distilled student)."""
    from ..compress import evaluate, inference_time, sparsity
    from ..train import save

    after = {"accuracy": evaluate(model, test), "bytes": int(after_bytes),
             "inference_s": inference_time(model, x), "sparsity": sparsity(model)}
    out = run_dir(args.out, args.name or f"{config['model']}-{args.method}")
    cfg = _model_record(dict(config, **(model_config or {})), model)
    cfg["compressed"] = {"method": args.method, "from": str(path), **extra.get("settings", {})}
    save({"config": cfg, "model": model.state_dict(), "epoch": 0}, out / "checkpoint_best.npz")
    report = {"method": args.method, "source": str(path), "before": before, "after": after,
              "ratio": before["bytes"] / after["bytes"], **extra}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    lines = [f"# {args.method} of {config['model']} ({path})", "",
             "| | test accuracy | bytes | sparsity | inference (256 images) |",
             "|---|---|---|---|---|",
             f"| before | {100 * before['accuracy']:.2f}% | {before['bytes']:,} | 0.0% | "
             f"{1000 * before['inference_s']:.1f} ms |",
             f"| after | {100 * after['accuracy']:.2f}% | {after['bytes']:,} | "
             f"{100 * after['sparsity']:.1f}% | {1000 * after['inference_s']:.1f} ms |", ""]
    for key in ("stages", "steps"):
        if key in extra:
            lines += _table(extra[key])
    if "structured" in extra:
        lines += _structured_lines(extra["structured"])
    (out / "report.md").write_text("\n".join(lines) + "\n")
    if blobs:
        _write_blobs(out, blobs)
    print(f"after: test accuracy {100 * after['accuracy']:.2f}%, {after['bytes']:,} bytes "
          f"({report['ratio']:.1f}x smaller), sparsity {100 * after['sparsity']:.1f}%")
    print(f"run folder: {out}")
    sys.stdout.flush()
    return out


def _model_record(config: dict, model) -> dict:
    """``config`` with ``replaced_modules``: how ``model`` differs from the architecture its
    ``model`` and ``model_kwargs`` build (what ``train.runs.load_run`` replays)."""
    from ..train.architecture import architecture_changes, build_model

    config.pop("replaced_modules", None)
    base = build_model(config, len(config["classes"]), config["input_shape"])
    config["replaced_modules"] = architecture_changes(base, model)
    return config


def _structured_lines(s: dict) -> list[str]:
    """report.md's part on removed channels: per layer, and zeroed against removed."""
    z, r = s["zeroed"], s["removed"]
    lines = _table(s["layers"]) + [
        "| model | parameters | multiply-adds per image | inference (256 images) |",
        "|---|---|---|---|",
        f"| filters zeroed | {z['parameters']:,} | {z['macs']:,} | "
        f"{1000 * z['inference_s']:.1f} ms |",
        f"| filters removed | {r['parameters']:,} | {r['macs']:,} | "
        f"{1000 * r['inference_s']:.1f} ms |", "",
        f"Largest difference between their outputs: {s['max_output_difference']:.2g}. Times: "
        "medians of 7 alternating rounds on this machine, as loaded at the time.", ""]
    if s["kept_whole"]:
        lines += ["Kept whole: " + "; ".join(f"{k} ({v})" for k, v in s["kept_whole"].items()),
                  ""]
    return lines


def _table(rows: list[dict]) -> list[str]:
    keys = list(rows[0])
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        out.append("| " + " | ".join(_cell(r[k]) for k in keys) + " |")
    return out + [""]


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def prune_cmd(args) -> int:
    from ..compress import (
        channel_groups,
        channel_prune,
        dense_bytes,
        evaluate,
        finalize,
        magnitude_prune,
        sparse_bytes,
    )
    from ..compress import sparsity as sparsity_of

    path, config, data, norm, model, test, x, before = _setup(args)
    fit, _ = _fit_fn(args, config, data, norm)
    if args.structured:
        groups, skipped = channel_groups(model, x[:2])
        if not groups:
            raise CommandError(f"compress prune --structured: no layer of {config['model']} has "
                               f"channels that can be removed ({skipped})")
    steps = []
    for i in range(args.steps):
        target = args.sparsity * (i + 1) / args.steps
        if args.structured:
            channel_prune(model, target, x[:2], groups=groups)
        else:
            magnitude_prune(model, target, scope=args.scope)
        pruned_acc = evaluate(model, test)
        fit(model)
        steps.append({"step": i + 1, "sparsity": sparsity_of(model),
                      "accuracy_pruned": pruned_acc, "accuracy_retrained": evaluate(model, test)})
        print(f"step {i + 1}: sparsity {100 * steps[-1]['sparsity']:.1f}%, accuracy "
              f"{100 * pruned_acc:.2f}% pruned -> {100 * steps[-1]['accuracy_retrained']:.2f}% "
              "retrained")
    finalize(model)
    settings = {"sparsity": args.sparsity, "scope": args.scope, "structured": args.structured,
                "steps": args.steps, "epochs": args.epochs}
    extra = {"settings": settings, "steps": steps}
    if args.structured:
        extra["structured"] = _remove_channels(model, x, groups, skipped)
        size = dense_bytes(model)  # a smaller dense model: no index to store
    else:
        size = sparse_bytes(model)
    _finish(args, path, config, model, test, x, before, size, extra)
    return 0


def _remove_channels(model, x, groups, skipped) -> dict:
    """Cut the zeroed channels out of ``model``; what that changed, measured on the batch
    ``x``: parameters, inference time and outputs of the zeroed and of the smaller model (timed
    in alternation, so both see the same load on a shared machine)."""
    import copy

    import striate

    from ..compress import inference_time, remove_channels
    from ..models.stats import count_macs

    def parameters(m):
        return sum(p.numel() for p in m.parameters())

    zeroed_model = copy.deepcopy(model).eval()
    layers = remove_channels(model, x[:2], groups)
    model.eval()
    with striate.no_grad():
        diff = float(np.abs(model(x).array - zeroed_model(x).array).max())
    times = {"zeroed": [], "removed": []}
    for _ in range(7):
        times["zeroed"].append(inference_time(zeroed_model, x, repeats=3))
        times["removed"].append(inference_time(model, x, repeats=3))
    zeroed, removed = ({"parameters": parameters(m), "macs": count_macs(m, x.shape[1:]),
                        "inference_s": float(np.median(times[k]))}
                       for k, m in (("zeroed", zeroed_model), ("removed", model)))
    for r in layers:
        print(f"  {r['layer']}: {r['channels_before']} -> {r['channels_after']} channels")
    for k, v in (("zeroed", zeroed), ("removed", removed)):
        print(f"{k}: {v['parameters']:,} parameters, {v['macs']:,} multiply-adds per image, "
              f"{1000 * v['inference_s']:.1f} ms for 256 images (this machine, as loaded now)")
    print(f"largest difference between their outputs: {diff:.2g}")
    return {"layers": layers, "kept_whole": skipped, "zeroed": zeroed, "removed": removed,
            "max_output_difference": diff}


def dsd_cmd(args) -> int:
    from ..compress import dense_bytes, dsd, evaluate

    path, config, data, norm, model, test, x, before = _setup(args)
    fit, _ = _fit_fn(args, config, data, norm)
    phases = {}

    def sparse(m):
        fit(m)
        phases["sparse_accuracy"] = evaluate(m, test)

    dsd(model, sparse, target=args.sparsity, fit_dense=lambda m: fit(m, lr=args.lr / 10))
    settings = {"sparsity": args.sparsity, "epochs": args.epochs}
    _finish(args, path, config, model, test, x, before, dense_bytes(model),
            {"settings": settings, **phases})
    return 0


def deep_compression_cmd(args) -> int:
    from ..compress import deep_compression

    path, config, data, norm, model, test, x, before = _setup(args)
    _, loader = _fit_fn(args, config, data, norm)
    sparsity = args.sparsity if len(args.sparsity) > 1 else args.sparsity[0]
    val = split_loader(data.val, norm, 512) if args.select_on_val else None
    try:
        model, stages, blobs = deep_compression(
            model, loader, test, sparsity=sparsity, steps=args.steps, bits=args.bits,
            index_bits=args.index_bits, retrain_epochs=args.epochs,
            centroid_epochs=args.centroid_epochs, lr=args.lr, progress=not args.no_progress,
            anneal_epochs=args.anneal_epochs, schedule=args.schedule, lr_decay=args.lr_decay,
            weight_decay=args.weight_decay, val_loader=val)
    except ValueError as e:
        raise CommandError(str(e)) from None
    for s in stages:
        print(f"  {s['stage']:<10} {s['bytes']:>9,} bytes  {s['ratio']:5.1f}x  "
              f"accuracy {100 * s['accuracy']:.2f}%")
    settings = {"sparsity": args.sparsity, "bits": args.bits, "index_bits": args.index_bits,
                "steps": args.steps, "epochs": args.epochs, "schedule": args.schedule,
                "lr": args.lr, "lr_decay": args.lr_decay, "weight_decay": args.weight_decay}
    _finish(args, path, config, model, test, x, before, stages[-1]["bytes"],
            {"settings": settings, "stages": stages}, blobs)
    return 0


def _quantize(args, model, data, norm):
    """Quantize ``model`` to int8 on a few calibration batches of the training split."""
    import striate

    from ..compress import quantize_model

    n = args.calibration_batches * 64
    calib = [striate.Tensor(norm(data.train.X[i:i + 64])) for i in range(0, min(n, len(
        data.train.X)), 64)]
    return quantize_model(model, calib, per_channel=not args.per_tensor,
                          symmetric=not args.asymmetric)


def quantize_cmd(args) -> int:
    from ..compress import model_bytes_int8

    path, config, data, norm, model, test, x, before = _setup(args)
    _quantize(args, model, data, norm)
    _finish(args, path, config, model, test, x, before, model_bytes_int8(model),
            {"settings": _qsettings(args)})
    return 0


def qat_cmd(args) -> int:
    from ..compress import convert_qat, model_bytes_int8, prepare_qat

    path, config, data, norm, model, test, x, before = _setup(args)
    fit, _ = _fit_fn(args, config, data, norm)
    prepare_qat(model, per_channel=not args.per_tensor)
    fit(model)
    convert_qat(model)
    _quantize(args, model, data, norm)
    _finish(args, path, config, model, test, x, before, model_bytes_int8(model),
            {"settings": _qsettings(args)})
    return 0


def lowrank_cmd(args) -> int:
    from ..compress import dense_bytes, low_rank

    path, config, data, norm, model, test, x, before = _setup(args)
    fit, _ = _fit_fn(args, config, data, norm)
    low_rank(model, rank=args.rank)
    fit(model)
    settings = {"rank": args.rank, "epochs": args.epochs}
    _finish(args, path, config, model, test, x, before, dense_bytes(model),
            {"settings": settings})
    return 0


def _low_bit_bytes(model, bits: int) -> int:
    """Bytes with every layer but the last stored at ``bits`` per weight (+ float32 scales)."""
    from ..compress import prunable

    layers = prunable(model)[:-1]
    weights = {id(getattr(m, n)) for m, n in layers}
    total = sum((getattr(m, n).array.size * bits + 7) // 8 + 4 * getattr(m, n).shape[0]
                for m, n in layers)
    return total + 4 * sum(t.array.size for t in model.state_dict(keep_vars=True).values()
                           if id(t) not in weights and t.array.dtype.kind == "f")


def low_bit_cmd(args) -> int:
    from ..compress import binarize, freeze_low_bit, ternarize

    path, config, data, norm, model, test, x, before = _setup(args)
    fit, _ = _fit_fn(args, config, data, norm)
    if args.method == "binary":
        binarize(model)
    else:
        ternarize(model, threshold=args.threshold)
    fit(model)
    freeze_low_bit(model)
    bits = 1 if args.method == "binary" else 2
    _finish(args, path, config, model, test, x, before, _low_bit_bytes(model, bits),
            {"settings": {"epochs": args.epochs, "bits": bits}})
    return 0


_HALF_WIDTH = {"convnet": ("convnet", {"channels": (16, 32, 64)}),
               "mlp": ("mlp", {"hidden": (128, 64)}),
               "lenet300_100": ("mlp", {"hidden": (150, 50), "batch_norm": False})}


def distill_cmd(args) -> int:
    import striate

    from ..compress import dense_bytes, distill, transfer_set
    from ..data.datasets import Split
    from ..models import create_model

    path, config, data, norm, teacher, test, x, before = _setup(args)
    if config["model"] not in _HALF_WIDTH:
        raise CommandError(f"distill: no half-width student for {config['model']!r}; "
                           f"the teacher must be one of {sorted(_HALF_WIDTH)}")
    name, kwargs = _HALF_WIDTH[config["model"]]
    striate.manual_seed(args.seed)
    student = create_model(name, num_classes=data.num_classes, input_shape=data.input_shape,
                           **kwargs)
    split = data.train
    if args.labelled < 1:  # a transfer set: the teacher alone teaches the unlabelled images
        split = Split(split.X, transfer_set(split.y, args.labelled, seed=args.seed))
    loader = train_loader(split, norm, config)
    distill(student, teacher, loader, epochs=args.epochs, temperature=args.temperature,
            alpha=args.alpha, lr=args.lr, min_lr=args.lr * args.lr_decay)
    settings = {"student": name, **kwargs, "temperature": args.temperature,
                "alpha": args.alpha, "epochs": args.epochs, "labelled": args.labelled,
                "lr_decay": args.lr_decay}
    _finish(args, path, config, student, test, x, before, dense_bytes(student),
            {"settings": settings}, model_config={"model": name, "model_kwargs": kwargs})
    return 0


def _labelled(text: str) -> float:
    import argparse

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {v}")
    return v


def _rank(text: str):
    import argparse

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rank, got {text!r}") from None
    if v >= 1 and v == int(v):
        return int(v)
    if 0 < v < 1:
        return v
    raise argparse.ArgumentTypeError(f"expected an int >= 1 or a fraction in (0, 1), got {text}")


def _qsettings(args) -> dict:
    return {"per_channel": not args.per_tensor, "symmetric": not args.asymmetric,
            "calibration_batches": args.calibration_batches}


def _write_blobs(folder, blobs: dict) -> None:
    """``weights.huffman``: for each layer, its name and byte length, then its bytes."""
    with open(folder / "weights.huffman", "wb") as f:
        for name, blob in blobs.items():
            key = name.encode()
            f.write(struct.pack("<HI", len(key), len(blob)) + key + blob)


def add_parsers(sub) -> None:
    """``striate compress prune | dsd | deep-compression``."""
    c = sub.add_parser(
        "compress",
        help="compress a trained run: pruning, DSD, Deep Compression, int8, QAT",
        description="Compress a trained run into a new run folder with the compressed model "
        "and a report (size, sparsity, accuracy, inference time); `striate eval` loads it.",
    )
    csub = c.add_subparsers(dest="method", metavar="METHOD", required=True)

    def common(p, epochs: int, lr: float):
        p.add_argument("run", metavar="RUN", help="a run folder or checkpoint")
        p.add_argument("--epochs", type=non_negative_int, default=epochs,
                       help="fine-tuning epochs per step (default: %(default)s)")
        p.add_argument("--lr", type=non_negative_float, default=lr,
                       help="fine-tuning learning rate, Adam (default: %(default)s)")
        p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
        p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
        p.add_argument("--name", default=None, help="run name (default: MODEL-METHOD)")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = csub.add_parser("prune", help="magnitude (or filter) pruning with retraining",
                        description="Prune to --sparsity in --steps equal steps, retraining "
                        "--epochs after each (Han et al. 2015).")
    common(p, 3, 1e-3)
    p.add_argument("--sparsity", type=_fraction, default=0.9,
                   help="final fraction of zero weights (default: %(default)s)")
    p.add_argument("--steps", type=positive_int, default=3, help="default: %(default)s")
    p.add_argument("--scope", choices=("layer", "global"), default="layer",
                   help="one sparsity per layer, or one threshold over all (default: layer)")
    p.add_argument("--structured", action="store_true",
                   help="remove whole filters / hidden units (smallest L2 norm; --sparsity is "
                   "the fraction of each layer's channels) instead of zeroing single weights; "
                   "layers whose output meets a residual add or is the output are kept whole")
    p.set_defaults(handler=prune_cmd)

    p = csub.add_parser("dsd", help="dense-sparse-dense training",
                        description="Prune to --sparsity and retrain, then lift the mask and "
                        "retrain all weights at a tenth of the learning rate (Han et al. 2017).")
    common(p, 5, 1e-3)
    p.add_argument("--sparsity", type=_fraction, default=0.5, help="default: %(default)s")
    p.set_defaults(handler=dsd_cmd)

    p = csub.add_parser("deep-compression", help="pruning + k-means sharing + Huffman coding",
                        description="Deep Compression (Han et al. 2016): iterative pruning, "
                        "k-means weight sharing with centroid fine-tuning, Huffman coding; "
                        "reports the size after every stage.")
    common(p, 15, 3e-3)
    p.add_argument("--sparsity", type=_fraction, nargs="+", default=[0.8, 0.95, 0.7],
                   help="final sparsity, one number or one per prunable layer (default: 0.8 "
                   "0.95 0.7, for LeNet-300-100 on the digits: its 64-input first layer is the "
                   "most sensitive, docs/efficient.md)")
    p.add_argument("--steps", type=positive_int, default=5, help="default: %(default)s")
    p.add_argument("--bits", type=positive_int, default=5,
                   help="bits per shared-weight index (default: %(default)s)")
    p.add_argument("--index-bits", type=positive_int, default=5,
                   help="bits per relative index (default: %(default)s)")
    p.add_argument("--centroid-epochs", type=non_negative_int, default=5,
                   help="epochs of centroid fine-tuning (default: %(default)s)")
    p.add_argument("--anneal-epochs", type=non_negative_int, default=5,
                   help="epochs at lr/10 after the last pruning step (default: %(default)s)")
    p.add_argument("--schedule", choices=("geometric", "linear"), default="geometric",
                   help="steps that remove the same fraction of the surviving weights, or the "
                   "same points of sparsity (default: %(default)s)")
    p.add_argument("--lr-decay", type=non_negative_float, default=0.1,
                   help="each retraining phase anneals its rate to lr x this along a cosine "
                   "(default: %(default)s)")
    p.add_argument("--weight-decay", type=non_negative_float, default=1e-4,
                   help="L2 penalty while retraining (default: %(default)s)")
    p.add_argument("--select-on-val", action="store_true",
                   help="end every retraining phase on its best epoch on the validation split")
    p.set_defaults(handler=deep_compression_cmd)

    def qoptions(p):
        p.add_argument("--per-tensor", action="store_true",
                       help="one weight scale per layer (default: one per output channel)")
        p.add_argument("--asymmetric", action="store_true",
                       help="asymmetric weight range with a zero point (default: symmetric)")
        p.add_argument("--calibration-batches", type=positive_int, default=4,
                       help="training batches of 64 that set the activation ranges "
                       "(default: %(default)s)")

    p = csub.add_parser("lowrank", help="SVD factorisation of linear and conv layers",
                        description="Factorise every Linear (two thinner Linears) and k x k "
                        "Conv2d (a k x 1 then a 1 x k conv) by the truncated SVD, then fine-tune.")
    common(p, 3, 1e-3)
    p.add_argument("--rank", type=_rank, default=0.5,
                   help="inner rank: an int, or a fraction of the full rank (default: 0.5)")
    p.set_defaults(handler=lowrank_cmd)

    for method, bits in (("binary", 1), ("ternary", 2)):
        p = csub.add_parser(method, help=f"{bits}-bit weights trained with the STE",
                            description=f"Fine-tune with {method} weights (straight-through "
                            "estimator; ternary: TTQ's learned scales), the class-score layer "
                            "kept in float32.")
        common(p, 5, 1e-3)
        if method == "ternary":
            p.add_argument("--threshold", type=non_negative_float, default=0.05,
                           help="t of delta = t * max|w| (default: %(default)s)")
        p.set_defaults(handler=low_bit_cmd)

    p = csub.add_parser("distill", help="knowledge distillation into a half-width student",
                        description="Train a student of half the teacher's width on the "
                        "teacher's temperature-softened outputs plus the labels.")
    common(p, 30, 3e-3)
    p.add_argument("--temperature", type=non_negative_float, default=4.0,
                   help="default: %(default)s")
    p.add_argument("--alpha", type=non_negative_float, default=0.9,
                   help="weight of the soft loss (default: %(default)s)")
    p.add_argument("--lr-decay", type=non_negative_float, default=0.1,
                   help="anneal the rate to lr x this along a cosine (default: %(default)s)")
    p.add_argument("--labelled", type=_labelled, default=1.0,
                   help="keep the labels of this stratified fraction of the training images; "
                   "the teacher alone teaches the rest, a transfer set (default: all)")
    p.set_defaults(handler=distill_cmd)

    p = csub.add_parser("quantize", help="post-training int8 quantization",
                        description="Fold batch norm, calibrate activation ranges, and run "
                        "every Linear and Conv2d as an int8 kernel with int32 accumulation.")
    common(p, 0, 1e-3)
    qoptions(p)
    p.set_defaults(handler=quantize_cmd)

    p = csub.add_parser("qat", help="quantization-aware training, then int8",
                        description="Fine-tune through fake quantization (straight-through "
                        "estimator), then quantize to int8 as `quantize` does.")
    common(p, 3, 3e-4)
    qoptions(p)
    p.set_defaults(handler=qat_cmd)


def non_negative_int(text: str) -> int:
    """argparse type: an int >= 0."""
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v}")
    return v

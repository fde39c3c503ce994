"""Make the numbers and pictures of docs/efficient.md (rerun: ``python docs/make_efficient.py``).

Everything runs on the bundled digits (1,797 8x8 images; 359 test images, so one image is 0.28
points) on the CPU; a few minutes on two cores. Writes ``docs/img/efficient/*.png`` and
``docs/img/efficient/results.json`` and prints the tables of the page as Markdown.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

import striate
from striate import adversarial as A
from striate import compress, optim
from striate.data import DataLoader, TensorDataset, digits
from striate.data.transforms import Normalize
from striate.models import create_model
from striate.train import Trainer

OUT = Path(__file__).resolve().parent / "img" / "efficient"
SEEDS = (0, 1, 2)


def data():
    d = digits()
    norm = Normalize.fit(d.train.X, per_channel=True)
    train = DataLoader(TensorDataset(norm(d.train.X), d.train.y), batch_size=64, shuffle=True)
    test = DataLoader(TensorDataset(norm(d.test.X), d.test.y), batch_size=512)
    return d, norm, train, test


def val_loader(d, norm):
    """The validation split (180 images): what every choice on this page is allowed to see."""
    return DataLoader(TensorDataset(norm(d.val.X), d.val.y), batch_size=512)


def trained(name, seed, train, epochs=20, lr=1e-3):
    striate.manual_seed(seed)
    model = create_model(name, 10, (1, 8, 8))
    compress.finetune(model, train, epochs, lr=lr)
    return model


DC_SEEDS = tuple(range(10))
# the pipeline of docs/efficient.md: per-layer targets from the sensitivity scan, geometric
# steps, each retraining phase annealed from 3e-3 to 3e-4 with a little L2
DC_SETTINGS = dict(sparsity=[0.8, 0.95, 0.7], steps=5, bits=5, retrain_epochs=15,
                   centroid_epochs=5, anneal_epochs=5, lr=3e-3, lr_decay=0.1, weight_decay=1e-4,
                   schedule="geometric")
# the way to it, one change at a time from last session's pipeline (seeds 0-4)
DC_ABLATION = (
    ("last session: 90/90/70%, linear steps, constant 1e-3",
     dict(sparsity=[0.9, 0.9, 0.7], schedule="linear", lr=1e-3, lr_decay=1, weight_decay=0)),
    ("geometric steps", dict(sparsity=[0.9, 0.9, 0.7], lr=1e-3, lr_decay=1, weight_decay=0)),
    ("+ cosine 1e-3 -> 1e-4", dict(sparsity=[0.9, 0.9, 0.7], lr=1e-3, weight_decay=0)),
    ("+ 80/95/70% (sensitivity)", dict(lr=1e-3, weight_decay=0)),
    ("+ rate 3e-3 -> 3e-4", dict(weight_decay=0)),
    ("+ L2 1e-4 (the pipeline)", {}),
    ("+ best epoch on validation", dict(select_on_val=True)),
)


def deep_compression_table(train, val, test, seeds=DC_SEEDS, **changes):
    """Deep Compression of LeNet-300-100 (20 epochs at 1e-3, the last epoch's weights: the
    dense baseline) for each seed; ``changes`` override ``DC_SETTINGS``."""
    settings = dict(DC_SETTINGS, **changes)
    on_val = settings.pop("select_on_val", False)
    rows = {}
    for seed in seeds:
        model = trained("lenet300_100", seed, train)
        striate.manual_seed(seed)
        _, report, _ = compress.deep_compression(model, train, test,
                                                 val_loader=val if on_val else None, **settings)
        rows[seed] = report
        print(f"  deep compression seed {seed}:",
              [(r["stage"], r["bytes"], round(100 * r["accuracy"], 2)) for r in report],
              flush=True)
    return rows


def dc_ablation(train, val, test):
    """Mean and worst accuracy loss (points, dense -> Huffman) over seeds 0-4 of each step of
    ``DC_ABLATION``."""
    out = []
    for label, changes in DC_ABLATION:
        rows = deep_compression_table(train, val, test, seeds=range(5), **changes)
        loss = [100 * (r[0]["accuracy"] - r[-1]["accuracy"]) for r in rows.values()]
        out.append({"change": label, "loss": loss, "ratio": min(r[-1]["ratio"]
                                                                for r in rows.values())})
    return out


def sensitivity(train, val, seeds=(0, 1), fractions=(0.5, 0.7, 0.8, 0.9, 0.95)):
    """Han et al.'s sensitivity scan: validation accuracy with one layer pruned alone (no
    retraining) of the dense LeNet-300-100; it sets the per-layer targets."""
    out = {}
    for seed in seeds:
        state = trained("lenet300_100", seed, train).state_dict()
        for layer in range(3):
            for f in fractions:
                m = create_model("lenet300_100", 10, (1, 8, 8))
                m.load_state_dict(state)
                target = [0.0, 0.0, 0.0]
                target[layer] = f
                compress.magnitude_prune(m, target)
                out.setdefault(str(layer), {}).setdefault(str(f), []).append(
                    compress.evaluate(m, val))
    return out


def pruning_curve(train, test, sparsities=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98)):
    """One-shot magnitude pruning of the dense net without retraining, against iterative
    pruning with retraining (3 epochs after every step of 10 points) to the same sparsity."""
    base = trained("lenet300_100", 0, train)
    state = base.state_dict()  # copies of the arrays
    no_retrain, retrain = [], []
    for s in sparsities:
        m = create_model("lenet300_100", 10, (1, 8, 8))
        m.load_state_dict(state)
        compress.magnitude_prune(m, s)
        no_retrain.append(compress.evaluate(m, test))
    m = create_model("lenet300_100", 10, (1, 8, 8))
    m.load_state_dict(state)
    striate.manual_seed(0)
    retrain.append(compress.evaluate(m, test))
    for s in sparsities[1:]:
        steps = np.arange(compress.sparsity(m) + 0.1, s, 0.1).tolist() + [s]
        for t in steps:
            compress.magnitude_prune(m, t)
            compress.finetune(m, train, 3, lr=1e-3)
        retrain.append(compress.evaluate(m, test))
    return list(sparsities), no_retrain, retrain


def dsd_vs_dense(train, test, epochs=10):
    """DSD against the same number of extra epochs of dense training, from one trained net."""
    out = {"dense": [], "dsd": [], "start": []}
    for seed in SEEDS:
        base = trained("lenet300_100", seed, train, epochs=20)
        state = base.state_dict()  # copies of the arrays
        out["start"].append(compress.evaluate(base, test))
        striate.manual_seed(seed)
        compress.finetune(base, train, 2 * epochs, lr=1e-4)
        out["dense"].append(compress.evaluate(base, test))
        m = create_model("lenet300_100", 10, (1, 8, 8))
        m.load_state_dict(state)
        striate.manual_seed(seed)
        compress.dsd(m, lambda mm: compress.finetune(mm, train, epochs, lr=1e-3), target=0.5,
                     fit_dense=lambda mm: compress.finetune(mm, train, epochs, lr=1e-4))
        out["dsd"].append(compress.evaluate(m, test))
    return out


def filter_pruning(d, norm, train, test, name="convnet", epochs=10, rounds=7):
    """Filter (structured) pruning of ``name``, retrained 3 epochs per step; after each step a
    copy has its zeroed channels removed: parameters, inference time of the 359 test images
    (zeroed and removed timed in alternation, so both see the same load) and the largest
    difference of their outputs."""
    import copy

    from striate.models.stats import count_macs

    base = trained(name, 0, train, epochs=epochs, lr=3e-3)
    x = striate.Tensor(norm(d.test.X))
    groups, kept = compress.channel_groups(base, x[:2])
    acc = compress.evaluate(base, test)
    n = sum(p.numel() for p in base.parameters())
    t = compress.inference_time(base, x)
    rows = [{"amount": 0.0, "pruned": acc, "retrained": acc, "parameters": n,
             "macs": count_macs(base, (1, 8, 8)), "zeroed_seconds": t, "removed_seconds": t,
             "max_difference": 0.0}]
    for amount in (0.25, 0.5, 0.75):
        compress.channel_prune(base, amount, x[:2], groups=groups)
        pruned = compress.evaluate(base, test)
        compress.finetune(base, train, 3, lr=1e-3)
        zeroed = compress.finalize(copy.deepcopy(base)).eval()
        removed = copy.deepcopy(zeroed)
        compress.remove_channels(removed, x[:2], groups)
        with striate.no_grad():
            diff = float(np.abs(removed(x).array - zeroed(x).array).max())
        times = {"z": [], "r": []}
        for _ in range(rounds):
            times["z"].append(compress.inference_time(zeroed, x, repeats=3))
            times["r"].append(compress.inference_time(removed, x, repeats=3))
        rows.append({"amount": amount, "pruned": pruned, "retrained": compress.evaluate(base, test),
                     "parameters": sum(p.numel() for p in removed.parameters()),
                     "macs": count_macs(removed, (1, 8, 8)),
                     "zeroed_seconds": float(np.median(times["z"])),
                     "removed_seconds": float(np.median(times["r"])), "max_difference": diff})
        print(f"  {name} {amount}: {rows[-1]}", flush=True)
    return {"model": name, "rows": rows, "kept_whole": kept}


def quantization(d, norm, train, test):
    """int8 post-training quantization of the default ConvNet (4 variants) and QAT; inference
    time of the test set, float32 against the integer kernels."""
    from striate.compress import quantize as Q

    base = trained("convnet", 0, train, epochs=10, lr=3e-3)
    state = base.state_dict()
    x = striate.Tensor(norm(d.test.X))
    rows = [{"variant": "float32", "accuracy": compress.evaluate(base, test),
             "bytes": compress.dense_bytes(base), "seconds": compress.inference_time(base, x)}]
    calib = [striate.Tensor(norm(d.train.X[i:i + 64])) for i in range(0, 256, 64)]
    for per_channel in (True, False):
        for symmetric in (True, False):
            m = create_model("convnet", 10, (1, 8, 8))
            m.load_state_dict(state)
            Q.quantize_model(m, calib, per_channel=per_channel, symmetric=symmetric)
            rows.append({"variant": f"int8 {'per-channel' if per_channel else 'per-tensor'}, "
                         f"{'symmetric' if symmetric else 'asymmetric'}",
                         "accuracy": compress.evaluate(m, test), "bytes": Q.model_bytes_int8(m),
                         "seconds": compress.inference_time(m, x)})
    m = create_model("convnet", 10, (1, 8, 8))
    m.load_state_dict(state)
    Q.prepare_qat(m)
    striate.manual_seed(0)
    compress.finetune(m, train, 3, lr=3e-4)
    Q.convert_qat(m)
    Q.quantize_model(m, calib)
    rows.append({"variant": "QAT (3 epochs) + int8 per-channel, symmetric",
                 "accuracy": compress.evaluate(m, test), "bytes": Q.model_bytes_int8(m),
                 "seconds": compress.inference_time(m, x)})
    # one layer: the int32 GEMM against float32's BLAS on the same shapes
    rng = np.random.default_rng(0)
    lin = striate.nn.Linear(512, 512)
    xs = rng.standard_normal((256, 512)).astype(np.float32)
    ql = Q.QuantizedLinear.from_float(lin, (xs.min(), xs.max()))
    layer = {"float32": compress.inference_time(lin, striate.Tensor(xs)),
             "int8": compress.inference_time(ql, striate.Tensor(xs))}
    return rows, layer


def adversarial(d, norm, train, eps=0.2, eps_grid=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)):
    X, y = d.test.X, d.test.y
    models, times = {}, {}
    for label, objective in (("standard", None),
                             ("FGSM training (mix 0.5)", A.AdversarialObjective(
                                 "fgsm", eps=eps, mean=norm.mean, std=norm.std)),
                             ("PGD training (7 steps)", A.AdversarialObjective(
                                 "pgd", eps=eps, steps=7, mean=norm.mean, std=norm.std))):
        striate.manual_seed(0)
        m = create_model("convnet", 10, (1, 8, 8))
        t0 = time.perf_counter()
        Trainer(m, optim.Adam(m.parameters(), lr=3e-3), progress=False, checks=False, log=False,
                monitor="train_loss", adversarial=objective).fit(train, None, epochs=10)
        times[label] = time.perf_counter() - t0
        models[label] = A.Normalized(m, norm.mean, norm.std)
        print(f"  trained {label} in {times[label]:.0f} s", flush=True)
    fgsm_curves = {k: A.robustness_curve(m, X, y, eps_grid) for k, m in models.items()}
    pgd_curves = {k: A.robustness_curve(m, X, y, eps_grid, method="pgd", steps=20)
                  for k, m in models.items()}
    # transfer between architectures: ConvNet <-> LeNet-300-100 and an MLP with batch norm
    others = {name: A.Normalized(trained(name, 0, train), norm.mean, norm.std)
              for name in ("lenet300_100", "mlp")}
    std = models["standard"]
    transfer = {
        "convnet -> lenet300_100": A.transfer_rate(std, others["lenet300_100"], X, y, eps=eps),
        "lenet300_100 -> convnet": A.transfer_rate(others["lenet300_100"], std, X, y, eps=eps),
        "mlp -> lenet300_100": A.transfer_rate(others["mlp"], others["lenet300_100"], X, y,
                                               eps=eps),
        "ensemble(convnet, mlp) -> lenet300_100": A.transfer_rate(
            A.EnsembleModel([std, others["mlp"]]), others["lenet300_100"], X, y, eps=eps),
    }
    return fgsm_curves, pgd_curves, transfer, times


DISTILL_SEEDS = (0, 1, 2, 3, 4)


def distillation(d, norm, train, val, test, labelled=0.1, epochs=30):
    """A teacher ConvNet (94,410 weights; 30 epochs, label smoothing 0.1, rate 3e-3 -> 3e-4) and
    a student MLP 64-280-100-10 with half its weights (47,310), every student arm trained the
    same way (30 epochs of Adam, 3e-3 -> 3e-4 along a cosine), 5 seeds of the student. With all
    the labels, and with a transfer set: labels for a stratified ``labelled`` fraction of the
    training images, the teacher labelling the rest."""
    import striate.functional as F

    def smooth(ls):
        return lambda out, y: F.cross_entropy(out, y, label_smoothing=ls)

    striate.manual_seed(0)
    teacher = create_model("convnet", 10, (1, 8, 8))
    compress.finetune(teacher, train, epochs, lr=3e-3, min_lr=3e-4, loss_fn=smooth(0.1))
    teacher.eval()
    # one fixed labelled subset, the same for every seed
    has_label = compress.transfer_set(d.train.y, labelled, seed=123) != -100
    X = norm(d.train.X)
    with striate.no_grad():
        guess = teacher(striate.Tensor(X)).array.argmax(1)

    def loader(x, y):
        return DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)

    arms = {  # name: (kind, training inputs and targets, label smoothing)
        "labels": ("labels", loader(X, d.train.y), 0.0),
        "labels + smoothing 0.1": ("labels", loader(X, d.train.y), 0.1),
        "distillation T=4, alpha=0.9": ("distill", loader(X, d.train.y), 0.0),
        "subset: labels + smoothing 0.1": ("labels", loader(X[has_label], d.train.y[has_label]),
                                           0.1),
        "subset: + teacher's hard labels for the rest": (
            "labels", loader(X, np.where(has_label, d.train.y, guess)), 0.1),
        "subset: distillation T=4, alpha=0.9": (
            "distill", loader(X, np.where(has_label, d.train.y, -100)), 0.0),
    }
    out = {"teacher": compress.evaluate(teacher, test), "teacher_val": compress.evaluate(
        teacher, val), "labelled": int(has_label.sum()), "arms": {}}
    for name, (kind, data_, ls) in arms.items():
        accs = []
        for seed in DISTILL_SEEDS:
            striate.manual_seed(seed)
            s = create_model("mlp", 10, (1, 8, 8), hidden=(280, 100), batch_norm=False)
            if kind == "distill":
                compress.distill(s, teacher, data_, epochs=epochs, lr=3e-3, min_lr=3e-4,
                                 temperature=4.0, alpha=0.9)
            else:
                compress.finetune(s, data_, epochs, lr=3e-3, min_lr=3e-4, loss_fn=smooth(ls))
            accs.append(compress.evaluate(s, test))
        out["arms"][name] = accs
        print(f"  {name}: {[round(100 * a, 2) for a in accs]}", flush=True)
    out["params"] = {"teacher": teacher.num_parameters(), "student": s.num_parameters()}
    return out


def lowrank(train, test):
    """SVD factorisation at several ranks, before and after 3 epochs of fine-tuning."""
    rows = []
    for name, epochs, lr in (("lenet300_100", 20, 1e-3), ("convnet", 10, 3e-3)):
        base = trained(name, 0, train, epochs=epochs, lr=lr)
        state = base.state_dict()
        rows.append({"model": name, "rank": 1.0, "params": base.num_parameters(),
                     "factorised": compress.evaluate(base, test),
                     "fine_tuned": compress.evaluate(base, test)})
        for rank in (0.5, 0.25, 0.1):
            m = create_model(name, 10, (1, 8, 8))
            m.load_state_dict(state)
            compress.low_rank(m, rank)
            before = compress.evaluate(m, test)
            striate.manual_seed(0)
            compress.finetune(m, train, 3, lr=1e-3)
            rows.append({"model": name, "rank": rank, "params": m.num_parameters(),
                         "factorised": before, "fine_tuned": compress.evaluate(m, test)})
    return rows


def lowbit(train, test):
    """Binary and ternary (TTQ) weights fine-tuned 10 epochs from the trained nets."""
    rows = []
    for name, epochs, lr in (("lenet300_100", 20, 1e-3), ("convnet", 10, 3e-3)):
        base = trained(name, 0, train, epochs=epochs, lr=lr)
        state = base.state_dict()
        rows.append({"model": name, "weights": "float32", "accuracy":
                     compress.evaluate(base, test)})
        for kind in ("binary", "ternary"):
            m = create_model(name, 10, (1, 8, 8))
            m.load_state_dict(state)
            (compress.binarize if kind == "binary" else compress.ternarize)(m)
            striate.manual_seed(0)
            compress.finetune(m, train, 10, lr=1e-3)
            compress.freeze_low_bit(m)
            rows.append({"model": name, "weights": kind, "accuracy": compress.evaluate(m, test)})
    return rows


def winograd(batch=64, rounds=15):
    """ResNet-20 (CIFAR shape, 3x32x32) training step with its 3x3 stride-1 convs by im2col,
    by Winograd F(2x2, 3x3) or F(4x4, 3x3) everywhere, and chosen per layer by measurement.
    One warm-up step each (auto measures in it), then ``rounds`` rounds of one step of each
    model in turn (so that a slow phase of a shared machine hits all four); medians."""
    import striate.functional as F

    rng = np.random.default_rng(0)
    x = striate.Tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = striate.Tensor(rng.integers(0, 10, batch))
    arms = {}
    for name, mode, tile in (("im2col everywhere", "never", 2),
                             ("F(2x2, 3x3) everywhere", "always", 2),
                             ("F(4x4, 3x3) everywhere", "always", 4),
                             ("chosen per layer (auto)", "auto", 2)):
        striate.manual_seed(0)
        m = create_model("resnet20", 10, (3, 32, 32))
        layers = compress.use_winograd(m, mode, tile)
        arms[name] = (m, layers, optim.SGD(m.parameters(), lr=0.01, momentum=0.9), [])

    def step(m, opt):
        t0 = time.perf_counter()
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return time.perf_counter() - t0

    for m, _, opt, _ in arms.values():
        step(m, opt)  # warm-up (and auto's measurement)
    for _ in range(rounds):
        for m, _, opt, times in arms.values():
            times.append(step(m, opt))
    out = {}
    for name, (_, layers, _, times) in arms.items():
        chosen = [c.algorithm if c.algorithm == "im2col" else f"F({c.tile}x{c.tile})"
                  for c in layers]
        out[name] = {"step_seconds": float(np.median(times)), "layers": len(layers),
                     "winograd_layers": sum(c != "im2col" for c in chosen),
                     "chosen": {c: chosen.count(c) for c in sorted(set(chosen))}}
        if layers and layers[0].timings:  # auto: what each layer measured (fwd + bwd, best of 3)
            out[name]["per_layer"] = [
                {"weight": list(conv.weight.shape), "chosen": c,
                 "ms": {k: 1000 * v for k, v in conv.timings.items()}}
                for conv, c in zip(layers, chosen)]
    return out


def plot_pruning(curve, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, a, b = curve
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    ax.plot([100 * v for v in s], [100 * v for v in a], "o-", ms=3, label="pruned, no retraining")
    ax.plot([100 * v for v in s], [100 * v for v in b], "o-", ms=3,
            label="iterative pruning + retraining")
    ax.set_xlabel("weights pruned (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("LeNet-300-100 on the digits")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv) -> int:
    """All sections, or only those named on the command line (``deep``, ``deep-ablation``,
    ``distill``, ``lowrank``, ``lowbit``, ``winograd``, ``quantization``, ``filters``), merged
    into an existing results.json. ``deep-ablation`` (about 6 minutes) is not part of the full
    run."""
    OUT.mkdir(parents=True, exist_ok=True)
    d, norm, train, test = data()
    val = val_loader(d, norm)
    if argv:
        path = OUT / "results.json"
        results = json.loads(path.read_text()) if path.exists() else {}
        if "deep" in argv:
            results["deep_compression"] = {str(k): v for k, v in
                                           deep_compression_table(train, val, test).items()}
            results["sensitivity"] = sensitivity(train, val)
        if "deep-ablation" in argv:
            results["deep_compression_ablation"] = dc_ablation(train, val, test)
        if "distill" in argv:
            results["distillation"] = distillation(d, norm, train, val, test)
        if "lowrank" in argv:
            results["lowrank"] = lowrank(train, test)
        if "lowbit" in argv:
            results["lowbit"] = lowbit(train, test)
        if "winograd" in argv:
            results["winograd"] = winograd()
        if "quantization" in argv:
            rows, layer = quantization(d, norm, train, test)
            results["quantization"] = {"models": rows, "linear_512x512_batch256_seconds": layer}
        if "filters" in argv:
            results["filter_pruning"] = filter_pruning(d, norm, train, test)
            results["filter_pruning_resnet20"] = filter_pruning(d, norm, train, test, "resnet20",
                                                                epochs=5)
        path.write_text(json.dumps(results, indent=1, default=float) + "\n")
        print_tables(results)
        return 0
    results = {}
    t0 = time.perf_counter()
    print("deep compression", flush=True)
    dc = deep_compression_table(train, val, test)
    results["deep_compression"] = {str(k): v for k, v in dc.items()}
    results["sensitivity"] = sensitivity(train, val)
    print("pruning curve", flush=True)
    curve = pruning_curve(train, test)
    results["pruning_curve"] = dict(zip(("sparsity", "no_retraining", "retraining"), curve))
    plot_pruning(curve, OUT / "pruning_curve.png")
    print("dsd", flush=True)
    results["dsd"] = dsd_vs_dense(train, test)
    print("filter pruning", flush=True)
    results["filter_pruning"] = filter_pruning(d, norm, train, test)
    results["filter_pruning_resnet20"] = filter_pruning(d, norm, train, test, "resnet20",
                                                        epochs=5)
    print("quantization", flush=True)
    rows, layer = quantization(d, norm, train, test)
    results["quantization"] = {"models": rows, "linear_512x512_batch256_seconds": layer}
    print("adversarial", flush=True)
    fgsm_curves, pgd_curves, transfer, times = adversarial(d, norm, train)
    results["adversarial"] = {"fgsm": fgsm_curves, "pgd": pgd_curves, "transfer": transfer,
                              "train_seconds": times}
    A.plot_robustness(fgsm_curves, OUT / "robustness_fgsm.png", "ConvNet under FGSM")
    A.plot_robustness(pgd_curves, OUT / "robustness_pgd.png", "ConvNet under PGD (20 steps)")
    print("distillation", flush=True)
    results["distillation"] = distillation(d, norm, train, val, test)
    print("low rank", flush=True)
    results["lowrank"] = lowrank(train, test)
    print("binary and ternary", flush=True)
    results["lowbit"] = lowbit(train, test)
    print("winograd", flush=True)
    results["winograd"] = winograd()
    results["seconds"] = time.perf_counter() - t0
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    print_tables(results)
    return 0


def print_deep_compression(r) -> None:
    print("\n## Deep Compression (seed 0)\n")
    print("| stage | bytes | smaller | test accuracy |\n|---|---|---|---|")
    for s in r["deep_compression"]["0"]:
        print(f"| {s['stage']} | {s['bytes']:,} | {s['ratio']:.1f}x | {100 * s['accuracy']:.2f}% |")
    print("\n| seed | dense | pruned | quantized | Huffman | loss (points) | smaller |")
    print("|---|---|---|---|---|---|---|")
    losses = []
    for seed, rep in r["deep_compression"].items():
        losses.append(100 * (rep[0]["accuracy"] - rep[-1]["accuracy"]))
        print(f"| {seed} | " + " | ".join(f"{100 * s['accuracy']:.2f}%" for s in rep)
              + f" | {losses[-1]:.2f} | {rep[-1]['ratio']:.1f}x |")
    print(f"\nloss: mean {np.mean(losses):.2f}, worst {max(losses):.2f} points")
    if r.get("sensitivity"):
        print("\n## Sensitivity (validation accuracy, one layer pruned alone, mean of seeds)\n")
        for layer, row in r["sensitivity"].items():
            print(f"- layer {layer}: " + ", ".join(f"{100 * float(f):.0f}%: {100 * np.mean(v):.1f}"
                                                   for f, v in row.items()))
    if r.get("deep_compression_ablation"):
        print("\n| change | mean loss | worst loss | smallest ratio |\n|---|---|---|---|")
        for a in r["deep_compression_ablation"]:
            print(f"| {a['change']} | {np.mean(a['loss']):.2f} | {max(a['loss']):.2f} | "
                  f"{a['ratio']:.1f}x |")


def print_tables(r) -> None:
    print_deep_compression(r)
    print("\n## Pruning curve\n\n| pruned | no retraining | retraining |\n|---|---|---|")
    c = r["pruning_curve"]
    for s, a, b in zip(c["sparsity"], c["no_retraining"], c["retraining"]):
        print(f"| {100 * s:.0f}% | {100 * a:.2f}% | {100 * b:.2f}% |")
    ds = r["dsd"]
    print("\n## DSD\n")
    for k in ("start", "dense", "dsd"):
        print(f"- {k}: {[round(100 * v, 2) for v in ds[k]]}, mean {100 * np.mean(ds[k]):.2f}%")
    for key in ("filter_pruning", "filter_pruning_resnet20"):
        fp = r.get(key)
        if not isinstance(fp, dict):  # results.json of before channels were removed
            continue
        print(f"\n## Filter pruning, {fp['model']}\n")
        print("| filters pruned | before retraining | after | parameters | multiply-adds | "
              "inference, zeroed | removed | largest difference |")
        print("|---|---|---|---|---|---|---|---|")
        for q in fp["rows"]:
            print(f"| {100 * q['amount']:.0f}% | {100 * q['pruned']:.2f}% | "
                  f"{100 * q['retrained']:.2f}% | {q['parameters']:,} | {q['macs']:,} | "
                  f"{1000 * q['zeroed_seconds']:.1f} ms | {1000 * q['removed_seconds']:.1f} ms | "
                  f"{q['max_difference']:.1g} |")
        print("\nkept whole: " + "; ".join(f"{k} ({v})" for k, v in fp["kept_whole"].items()))
    print("\n## int8\n\n| variant | test accuracy | bytes | inference (359 images) |")
    print("|---|---|---|---|")
    for q in r["quantization"]["models"]:
        print(f"| {q['variant']} | {100 * q['accuracy']:.2f}% | {q['bytes']:,} | "
              f"{1000 * q['seconds']:.1f} ms |")
    lay = r["quantization"]["linear_512x512_batch256_seconds"]
    print(f"\nLinear 512x512, batch 256: float32 {1000 * lay['float32']:.2f} ms, int8 "
          f"{1000 * lay['int8']:.2f} ms")
    adv = r["adversarial"]
    print("\n## Adversarial (accuracy %, by eps)\n")
    for kind in ("fgsm", "pgd"):
        for label, pts in adv[kind].items():
            print(f"- {kind} {label}: " + ", ".join(f"{e:g}: {100 * a:.1f}" for e, a in pts))
    print("\ntransfer at eps 0.2:")
    for k, v in adv["transfer"].items():
        print(f"- {k}: rate {100 * v['transfer_rate']:.1f}% (n={v['n']}), target accuracy "
              f"{100 * v['target_acc']:.1f}% -> {100 * v['target_adv_acc']:.1f}%")
    print(f"\ntraining seconds: {adv['train_seconds']}; total {r.get('seconds', 0):.0f} s")
    if r.get("lowrank"):
        print("\n## Low rank\n\n| model | rank | parameters | factorised | fine-tuned |")
        print("|---|---|---|---|---|")
        for q in r["lowrank"]:
            print(f"| {q['model']} | {q['rank']:g} | {q['params']:,} | "
                  f"{100 * q['factorised']:.2f}% | {100 * q['fine_tuned']:.2f}% |")
    if r.get("lowbit"):
        print("\n## Binary and ternary\n\n| model | weights | test accuracy |\n|---|---|---|")
        for q in r["lowbit"]:
            print(f"| {q['model']} | {q['weights']} | {100 * q['accuracy']:.2f}% |")
    if r.get("winograd"):
        print("\n## Winograd (ResNet-20 training step, batch 64, 3x32x32)\n")
        for k, v in r["winograd"].items():
            print(f"- {k}: {1000 * v['step_seconds']:.0f} ms, {v['winograd_layers']} of "
                  f"{v['layers']} eligible convs by Winograd ({v.get('chosen')})")
        per_layer = next((v["per_layer"] for v in r["winograd"].values() if "per_layer" in v),
                         None)
        if per_layer:
            print("\n| conv (F, C) | im2col | F(2x2, 3x3) | F(4x4, 3x3) | chosen |")
            print("|---|---:|---:|---:|---|")
            for q in per_layer:
                t = q["ms"]
                print(f"| {tuple(q['weight'][:2])} | {t['im2col']:.1f} ms | "
                      f"{t['winograd F(2x2)']:.1f} ms | {t['winograd F(4x4)']:.1f} ms | "
                      f"{q['chosen']} |")
    dist = r.get("distillation")
    if dist and "arms" in dist:
        print(f"\n## Distillation (teacher {100 * dist['teacher']:.2f}%, {dist['params']}, "
              f"{dist['labelled']} labelled images in the subset)\n")
        print("| student training | " + " | ".join(f"seed {k}" for k in DISTILL_SEEDS)
              + " | mean +- std |")
        print("|---|" + "---|" * (len(DISTILL_SEEDS) + 1))
        for k, v in dist["arms"].items():
            print(f"| {k} | " + " | ".join(f"{100 * a:.2f}%" for a in v)
                  + f" | {100 * np.mean(v):.2f} +- {100 * np.std(v, ddof=1):.2f}% |")
        a = dist["arms"]
        for x, y in (("distillation T=4, alpha=0.9", "labels"),
                     ("distillation T=4, alpha=0.9", "labels + smoothing 0.1"),
                     ("subset: distillation T=4, alpha=0.9", "subset: labels + smoothing 0.1")):
            diff = 100 * (np.array(a[x]) - np.array(a[y]))
            print(f"- {x} - {y}: {np.round(diff, 2).tolist()}, mean {diff.mean():.2f} +- "
                  f"{diff.std(ddof=1):.2f} points (paired by seed)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

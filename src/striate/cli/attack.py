"""``striate attack fgsm | pgd RUN --eps ...``: adversarial examples against a trained run.

Prints the accuracy under attack at every eps (a robustness curve; eps in pixel units, images
in [0, 1]), and with ``--transfer OTHER_RUN`` how often the examples made against RUN (or, with
``--ensemble``, against RUN and the ensemble's runs together) also fool the other run's model.
Writes a run folder with ``report.json``, ``robustness.png`` and ``examples.png``.
"""

from __future__ import annotations

import json
import sys

from . import CommandError, non_negative_float, positive_int, run_dir
from .train import load_trained


def _pixel_model(run):
    from ..adversarial import Normalized

    path, config, data, norm, model = load_trained(run)
    model.eval()
    return path, config, data, Normalized(model, norm.mean, norm.std)


def _save_examples(path, X, adv, y, pred_clean, pred_adv, classes) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(8, len(X))
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.8), dpi=80)
    for i in range(n):
        for row, (img, p) in enumerate(((X[i], pred_clean[i]), (adv[i], pred_adv[i]))):
            ax = axes[row, i] if n > 1 else axes[row]
            ax.imshow(img.transpose(1, 2, 0).squeeze(), cmap="gray", vmin=0, vmax=1)
            ax.set_title(str(classes[p]), fontsize=8, color="black" if p == y[i] else "red")
            ax.axis("off")
    fig.suptitle("clean (top) and adversarial (bottom), predicted class", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _transfer_text(name: str, tr: dict) -> str:
    rate = tr["transfer_rate"]
    rate = "n/a (no example fooled the source)" if rate != rate else f"{100 * rate:.1f}%"
    return f", transfer to {name}: {rate} (its accuracy {100 * tr['target_adv_acc']:.1f}%)"


def attack_cmd(args) -> int:
    import numpy as np

    import striate

    from ..adversarial import EnsembleModel, attack, plot_robustness, predict, transfer_rate

    striate.manual_seed(args.seed)
    path, config, data, model = _pixel_model(args.run)
    split = getattr(data, args.split)
    X, y = split.X[:args.limit] if args.limit else split.X, split.y[:args.limit] if args.limit \
        else split.y
    sources = [model] + [_pixel_model(r)[3] for r in args.ensemble]
    attacked = sources[0] if len(sources) == 1 else EnsembleModel(sources)
    targets = [(r, _pixel_model(r)[3]) for r in args.transfer]
    kwargs = {}
    if args.method == "pgd":
        kwargs = {"steps": args.steps, "alpha": args.alpha, "norm": args.norm,
                  "random_start": not args.no_random_start}
    labels = y
    if args.target is not None:
        if not 0 <= args.target < data.num_classes:
            raise CommandError(f"--target must be a class index in [0, {data.num_classes}), "
                               f"got {args.target}")
        keep = y != args.target
        X, y = X[keep], y[keep]
        labels = np.full(len(y), args.target)
        kwargs["targeted"] = True
    print(f"striate attack {args.method}: {config['model']} from {path}, {len(X)} "
          f"{args.split} images" + (f", ensemble of {len(sources)}" if len(sources) > 1 else ""))
    rows, curve = [], []
    adv = X
    for eps in args.eps:
        adv = attack(attacked, X, labels, args.method, eps, args.batch_size, **kwargs)
        pred = predict(model, adv, args.batch_size)
        row = {"eps": eps, "accuracy": float((pred == y).mean())}
        if args.target is not None:
            row["target_success"] = float((pred == args.target).mean())
        for name, tgt in targets:
            tr = transfer_rate(attacked, tgt, X, y, args.method, eps, args.batch_size,
                               **{k: v for k, v in kwargs.items() if k != "targeted"})
            row[f"transfer_to:{name}"] = tr
        rows.append(row)
        curve.append((eps, row["accuracy"]))
        extra = "".join(_transfer_text(name, row[f"transfer_to:{name}"]) for name, _ in targets)
        target_txt = (f", reaches class {args.target}: {100 * row['target_success']:.1f}%"
                      if args.target is not None else "")
        print(f"eps {eps:g}: accuracy {100 * row['accuracy']:.2f}%{target_txt}{extra}")
    out = run_dir(args.out, args.name or f"{config['model']}-attack-{args.method}")
    report = {"method": args.method, "run": str(path), "split": args.split, "n": int(len(X)),
              "settings": {k: v for k, v in kwargs.items()}, "ensemble": list(args.ensemble),
              "results": rows}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    plot_robustness({f"{config['model']} ({args.method})": curve}, out / "robustness.png")
    _save_examples(out / "examples.png", X, adv, y, predict(model, X, args.batch_size),
                   predict(model, adv, args.batch_size), data.classes)
    print(f"run folder: {out}")
    sys.stdout.flush()
    return 0


def add_parsers(sub) -> None:
    """``striate attack fgsm | pgd``."""
    a = sub.add_parser(
        "attack",
        help="adversarial examples against a trained run (FGSM, PGD), transfer and ensembles",
        description="Attack a trained run's model on its test images at each --eps (pixel "
        "units, images in [0, 1]) and report the accuracy under attack.",
    )
    asub = a.add_subparsers(dest="method", metavar="METHOD", required=True)
    for method, text in (("fgsm", "the fast gradient sign method (one step)"),
                         ("pgd", "projected gradient descent (iterative, random start)")):
        p = asub.add_parser(method, help=text, description=f"Attack RUN with {text}.")
        p.add_argument("run", metavar="RUN", help="a run folder or checkpoint")
        p.add_argument("--eps", type=non_negative_float, nargs="+", default=[0.1],
                       help="perturbation sizes (default: 0.1)")
        if method == "pgd":
            p.add_argument("--steps", type=positive_int, default=10, help="default: %(default)s")
            p.add_argument("--alpha", type=non_negative_float, default=None,
                           help="step size (default: 2.5 eps / steps)")
            p.add_argument("--norm", choices=("inf", "2"), default="inf",
                           help="the ball: L-inf or L2 (default: %(default)s)")
            p.add_argument("--no-random-start", action="store_true",
                           help="start at the image instead of a random point of the ball")
        p.add_argument("--target", type=int, default=None, metavar="CLASS",
                       help="targeted attack: push every image toward this class index")
        p.add_argument("--transfer", nargs="+", default=[], metavar="RUN",
                       help="also measure how often the examples fool these runs' models")
        p.add_argument("--ensemble", nargs="+", default=[], metavar="RUN",
                       help="attack RUN and these runs together (mean log-probabilities)")
        p.add_argument("--split", default="test", choices=("train", "val", "test"),
                       help="default: %(default)s")
        p.add_argument("--limit", type=positive_int, default=None,
                       help="attack only the first N images")
        p.add_argument("--batch-size", type=positive_int, default=256,
                       help="default: %(default)s")
        p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
        p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
        p.add_argument("--name", default=None, help="run name (default: MODEL-attack-METHOD)")
        p.set_defaults(handler=attack_cmd)

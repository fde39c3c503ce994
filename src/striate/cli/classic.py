"""``striate knn`` and ``striate linear``: the classic classifiers on any registered dataset.

Both flatten the images to rows, print the validation and test accuracy and write a run folder
``runs/<date>-<name>/`` with ``config.json``, ``metrics.json`` and their plots.
"""

from __future__ import annotations

import numpy as np

from . import CommandError, non_negative_float, positive_int, run_dir


def _k_list(text: str) -> list[int]:
    import argparse

    try:
        ks = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints like 1,3,5, "
                                         f"got {text!r}") from None
    if not ks or ks[0] < 1:
        raise argparse.ArgumentTypeError(f"expected positive ints, got {text!r}")
    return ks


def _load(args):
    """The dataset of ``--data``, cut by --num-train / --num-test, as flat float rows."""
    from ..data import load_dataset, subsample_splits

    data = load_dataset(args.data)
    data = subsample_splits(data, train=args.num_train, test=args.num_test, seed=args.seed)
    rows = {}
    for name in ("train", "val", "test"):
        split = getattr(data, name)
        X = np.asarray(split.X)
        X = X.astype(np.float32) if X.dtype.kind != "f" else X
        rows[name] = (X.reshape(len(X), -1), split.y)
    return data, rows


def _accuracy(pred, y) -> float:
    return float(np.mean(pred == y)) if len(y) else float("nan")


def _start_run(args, default_name, config):
    from ..train.history import write_json

    out_dir = run_dir(args.out, args.name or default_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(str(out_dir / "config.json"), config)
    return out_dir


def knn(args) -> int:
    from ..classic import KNearestNeighbor, cross_validate, plot_cross_validation
    from ..train.history import write_csv, write_json

    data, rows = _load(args)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = rows["train"], rows["val"], rows["test"]
    if args.folds > len(Xtr):
        raise CommandError(f"--folds {args.folds} is more than the {len(Xtr)} training images")
    # the folds are consecutive slices: shuffle once (seeded) so each fold mixes the classes
    perm = np.random.default_rng(args.seed).permutation(len(Xtr))
    cv = cross_validate(Xtr[perm], ytr[perm], args.k, args.folds, args.metric)
    config = {"command": "knn", "data": args.data, "k_choices": cv.k_choices,
              "folds": args.folds, "metric": args.metric, "num_train": len(Xtr),
              "seed": args.seed}
    out_dir = _start_run(args, f"knn-{args.data.split(':')[0]}", config)
    print(f"striate knn: {args.metric} distance on {data!r}")
    for k, m, s in zip(cv.k_choices, cv.mean, cv.std):
        print(f"  k = {k:3d}: cross-validation accuracy {100 * m:.2f}% +- {100 * s:.2f}")
    model = KNearestNeighbor()
    model.train(Xtr, ytr)
    val = _accuracy(model.predict(Xva, k=cv.best_k, metric=args.metric), yva)
    test = _accuracy(model.predict(Xte, k=cv.best_k, metric=args.metric), yte)
    write_csv(str(out_dir / "cross_validation.csv"),
              [{"k": k, "mean": m, "std": s, **{f"fold{f + 1}": a for f, a in enumerate(row)}}
               for k, m, s, row in zip(cv.k_choices, cv.mean, cv.std, cv.accuracies)])
    write_json(str(out_dir / "metrics.json"),
               {**cv.as_dict(), "val_accuracy": val, "test_accuracy": test})
    plot_cross_validation(cv, out_dir / "knn_cross_validation.png")
    print(f"best k = {cv.best_k}: val accuracy {100 * val:.2f}% ({len(yva)} images), "
          f"test accuracy {100 * test:.2f}% ({len(yte)} images)")
    print(f"run folder: {out_dir}")
    return 0


def linear(args) -> int:
    import striate

    from ..classic import LinearSVM, Softmax, plot_loss_history, plot_templates
    from ..train.history import write_csv, write_json

    striate.manual_seed(args.seed)
    data, rows = _load(args)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = rows["train"], rows["val"], rows["test"]
    # centre on the mean training image and scale by one number: the templates stay pictures
    mean = Xtr.mean(axis=0)
    std = float(Xtr.std()) or 1.0
    prep = [(X - mean) / np.float32(std) for X in (Xtr, Xva, Xte)]
    clf = LinearSVM(args.delta) if args.loss == "svm" else Softmax()
    config = {"command": "linear", "loss": args.loss, "data": args.data, "lr": args.lr,
              "reg": args.reg, "reg_type": args.reg_type, "l1_ratio": args.l1_ratio,
              "iters": args.iters, "batch_size": args.batch_size, "seed": args.seed,
              "num_train": len(Xtr), "preprocess": "subtract mean image, divide by std"}
    if args.loss == "svm":
        config["delta"] = args.delta
    out_dir = _start_run(args, f"{args.loss}-{args.data.split(':')[0]}", config)
    print(f"striate linear: {args.loss} classifier on {data!r}")
    history = clf.train(prep[0], ytr, learning_rate=args.lr, reg=args.reg,
                        num_iters=args.iters, batch_size=args.batch_size,
                        verbose=args.verbose, reg_type=args.reg_type, l1_ratio=args.l1_ratio,
                        num_classes=data.num_classes)
    if not np.isfinite(history[-1]):
        raise CommandError(f"the loss diverged to {history[-1]} (try a smaller --lr)")
    acc = [_accuracy(clf.predict(X), y) for X, y in zip(prep, (ytr, yva, yte))]
    write_csv(str(out_dir / "loss_history.csv"),
              [{"iteration": i + 1, "loss": v} for i, v in enumerate(history)])
    plot_loss_history(history, out_dir / "loss.png", f"{args.loss} loss")
    write_json(str(out_dir / "metrics.json"),
               {"train_accuracy": acc[0], "val_accuracy": acc[1], "test_accuracy": acc[2],
                "final_loss": history[-1]})
    np.savez(out_dir / "weights.npz", W=clf.W, b=clf.b, mean=mean, std=np.float32(std))
    plot_templates(clf.W, data.input_shape, data.classes, out_dir / "templates.png")
    print(f"loss {history[0]:.4f} -> {history[-1]:.4f} over {args.iters} iterations")
    print(f"train accuracy {100 * acc[0]:.2f}%, val accuracy {100 * acc[1]:.2f}% "
          f"({len(yva)} images), test accuracy {100 * acc[2]:.2f}% ({len(yte)} images)")
    print(f"run folder: {out_dir}")
    return 0


def _common(p, name):
    p.add_argument("--data", default="digits",
                   help="dataset: digits (bundled, default), cifar10:PATH, cifar100:PATH, "
                   "mnist:PATH, fashion-mnist:PATH, folder:PATH[?size=32]")
    p.add_argument("--num-train", type=positive_int, default=None,
                   help="use a class-balanced subset of this many training images")
    p.add_argument("--num-test", type=positive_int, default=None,
                   help="use a class-balanced subset of this many test images")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    p.add_argument("--name", default=None, help=f"run name (default: {name}-DATA)")


def add_parsers(sub) -> None:
    """``striate knn`` and ``striate linear``."""
    k = sub.add_parser(
        "knn", help="k-nearest neighbours with k chosen by cross-validation",
        description="Cross-validate k on the training split, then print the validation and "
        "test accuracy of the best k; writes a run folder with the accuracy-against-k plot.")
    _common(k, "knn")
    k.add_argument("--k", type=_k_list, default=[1, 3, 5, 8, 10, 12, 15, 20, 50, 100],
                   help="comma-separated k to try (default: 1,3,5,8,10,12,15,20,50,100)")
    k.add_argument("--folds", type=positive_int, default=5, help="default: %(default)s")
    k.add_argument("--metric", choices=["l2", "l1"], default="l2", help="default: %(default)s")
    k.set_defaults(handler=knn)

    li = sub.add_parser(
        "linear", help="a linear SVM or softmax classifier trained by minibatch SGD",
        description="Train a linear classifier on flattened, centred images; print the "
        "validation and test accuracy; write the loss history and the class templates.")
    _common(li, "LOSS")
    li.add_argument("--loss", choices=["svm", "softmax"], default="softmax",
                    help="default: %(default)s")
    li.add_argument("--lr", type=non_negative_float, default=0.1,
                    help="learning rate (default: %(default)s)")
    li.add_argument("--reg", type=non_negative_float, default=1e-3,
                    help="regularisation strength (default: %(default)s)")
    li.add_argument("--reg-type", choices=["l2", "l1", "elastic"], default="l2",
                    help="default: %(default)s")
    li.add_argument("--l1-ratio", type=non_negative_float, default=0.5,
                    help="share of L1 in the elastic net (default: %(default)s)")
    li.add_argument("--delta", type=non_negative_float, default=1.0,
                    help="SVM margin (default: %(default)s)")
    li.add_argument("--iters", type=positive_int, default=2000, help="default: %(default)s")
    li.add_argument("--batch-size", type=positive_int, default=200,
                    help="default: %(default)s")
    li.add_argument("--verbose", action="store_true", help="print the loss every 100 steps")
    li.set_defaults(handler=linear)

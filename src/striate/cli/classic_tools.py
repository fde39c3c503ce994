"""``striate features`` and ``striate search``.

``features`` extracts image features (HOG, hue histogram, bag of visual words), standardises
them (and reduces them with PCA), trains a linear SVM, softmax or small network on them and
prints the validation and test accuracy. ``search`` runs the notes' hyper-parameter search
(random or grid, coarse to fine, in worker processes) and looks at the test set once, for the
best config. Both write a run folder ``runs/<date>-<name>/``.
"""

from __future__ import annotations

import argparse
import os

from . import CommandError, non_negative_float, positive_int, run_dir


def _load(spec: str, num_train, seed: int):
    from ..data import load_dataset

    data = load_dataset(spec)
    if num_train is not None:
        from ..data import subsample_splits

        data = subsample_splits(data, train=num_train, seed=seed)
    return data


def _start_run(out, name, config):
    from ..train.history import write_json

    out_dir = run_dir(out, name)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(str(out_dir / "config.json"), config)
    return out_dir


def _feature_list(text: str) -> list[str]:
    from ..classic.pipeline import FEATURES

    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in FEATURES]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list from "
                                         f"{','.join(FEATURES)}, got {text!r}")
    return list(dict.fromkeys(names))


def _pca(text: str):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of components (an int) or a "
                                         f"variance fraction in (0, 1), got {text!r}") from None
    if v >= 1 and v == int(v):
        return int(v)
    if 0 < v < 1:
        return v
    raise argparse.ArgumentTypeError(f"expected a number of components (an int >= 1) or a "
                                     f"variance fraction in (0, 1), got {text!r}")


def features(args) -> int:
    from ..classic.pipeline import train_on_features
    from ..train import save
    from ..train.history import write_json

    data = _load(args.data, args.num_train, args.seed)
    names = args.features
    notes = []
    if "color" in names and data.input_shape[0] == 1:
        notes.append("the hue histogram is degenerate on grayscale images (every pixel has "
                     "hue 0, so it is the same for every image and adds nothing)")
    config = {"command": "features", "data": args.data, "features": names,
              "classifier": args.classifier, "pca": args.pca, "whiten": args.whiten,
              "lr": args.lr, "reg": args.reg, "iters": args.iters, "epochs": args.epochs,
              "batch_size": args.batch_size, "cell": args.cell, "bins": args.bins,
              "block": args.block, "hue_bins": args.hue_bins, "words": args.words,
              "patch": args.patch, "patches": args.patches, "seed": args.seed}
    out_dir = _start_run(args.out, args.name or f"features-{'+'.join(names)}-"
                         f"{args.classifier}-{args.data.split(':')[0]}", config)
    print(f"striate features: {'+'.join(names)} -> {args.classifier} on {data!r}")
    for note in notes:
        print(f"note: {note}")
    run = train_on_features(
        data, names, args.classifier, pca=args.pca, whiten=args.whiten, lr=args.lr,
        reg=args.reg, num_iters=args.iters, batch_size=args.batch_size, epochs=args.epochs,
        seed=args.seed, out_dir=out_dir if args.classifier == "mlp" else None,
        cell=args.cell, nbins=args.bins, block=args.block, hue_bins=args.hue_bins,
        words=args.words, patch=args.patch, patches=args.patches,
        progress=not args.no_progress)
    metrics = {"train_accuracy": run.train_acc, "val_accuracy": run.val_acc,
               "test_accuracy": run.test_acc, "n_features": run.n_features,
               "options": run.pipeline.options, "notes": notes}
    write_json(str(out_dir / "metrics.json"), metrics)
    state = {"pipeline": run.pipeline.state_dict()}
    if args.classifier != "mlp":
        from ..classic import plot_loss_history

        state["W"], state["b"] = run.classifier.W, run.classifier.b
        plot_loss_history(run.history, out_dir / "loss.png", f"{args.classifier} loss on "
                          f"{'+'.join(names)} features")
    save(state, out_dir / "features_model.npz")
    reduced = f", PCA to {run.n_features}" if args.pca else ""
    print(f"{run.n_features} features per image{reduced}")
    print(f"train accuracy {100 * run.train_acc:.2f}%, val accuracy {100 * run.val_acc:.2f}% "
          f"({len(data.val)} images), test accuracy {100 * run.test_acc:.2f}% "
          f"({len(data.test)} images)")
    print(f"run folder: {out_dir}")
    return 0


def _space_from_args(args):
    from ..classic.search import CLASSIC_KINDS
    from ..train.search import Choice, LogUniform, Uniform, load_space, parse_range

    classic = args.model in CLASSIC_KINDS
    space, fixed = ({}, {}) if args.config is None else load_space(args.config)
    defaults = {"lr": "1e-3:1" if classic else "1e-4:1e-1",
                "reg": "1e-6:1e-1" if classic else "1e-6:1e-2"}
    for name in ("lr", "reg"):
        text = getattr(args, name)
        if text is not None or name not in space and name not in fixed:
            try:
                value = parse_range(text if text is not None else defaults[name])
            except ValueError as e:
                raise CommandError(f"--{name}: {e}") from None
            numbers = value.values if isinstance(value, Choice) else (value,)
            if not all(isinstance(v, (int, float, LogUniform, Uniform)) for v in numbers):
                raise CommandError(f"--{name}: expected a range LO:HI, a list A,B,C or a "
                                   f"number, got {text!r}")
            fixed.pop(name, None)
            space[name] = value
    if classic:
        base = {"kind": args.model, "num_iters": args.iters}
        if args.batch_size is not None:
            base["batch_size"] = args.batch_size
    else:
        base = {"kind": "model", "model": args.model, "epochs": args.epochs,
                "optimizer": args.optimizer}
        if args.batch_size is not None:
            base["batch_size"] = args.batch_size
    base.update(fixed)
    # a name that is searched is not also fixed
    return space, {k: v for k, v in base.items() if k not in space}


def search_command(args) -> int:
    from ..classic.search import CLASSIC_KINDS, run_trial
    from ..models import list_models
    from ..train.history import write_json
    from ..train.search import search

    if args.model not in CLASSIC_KINDS and args.model not in list_models():
        raise CommandError(f"--model must be linear-svm, softmax or one of "
                           f"{', '.join(m for m in list_models() if m != 'softmax')}, "
                           f"got {args.model!r}")
    if args.report or args.storage:
        return _shared_search(args)
    space, base = _space_from_args(args)
    data = _load(args.data, args.num_train, args.seed)
    config = {"command": "search", "data": args.data, "model": args.model,
              "space": {k: repr(v) for k, v in space.items()}, "base_config": base,
              "trials": args.trials, "stages": args.stages, "method": args.method,
              "workers": args.workers, "folds": args.folds, "seed": args.seed}
    out_dir = _start_run(args.out, args.name or f"search-{args.model}-"
                         f"{args.data.split(':')[0]}", config)
    print(f"striate search: {args.model} on {data!r}; {args.method} search, {args.trials} "
          f"trials x {args.stages} stage(s), {args.workers} worker(s)")
    for k, v in space.items():
        print(f"  {k}: {v}")
    result = search(space, data, base, trials=args.trials, stages=args.stages,
                    method=args.method, workers=args.workers, seed=args.seed,
                    folds=args.folds, log=print, trial_fn=run_trial)
    result.to_csv(out_dir / "trials.csv")
    result.plot(out_dir / "search.png")
    best = result.best
    if best is None:
        write_json(str(out_dir / "best.json"), {"best": None})
        raise CommandError(f"every trial was abandoned or failed (see {out_dir / 'trials.csv'}); "
                           "lower the learning-rate range")
    shown = ", ".join(f"{p}={best[p]:.4g}" if isinstance(best[p], float) else f"{p}={best[p]}"
                      for p in result.params)
    print(f"best config (trial {best['trial']}, stage {best['stage']}): {shown}: "
          f"val accuracy {100 * best['val_acc']:.2f}%")
    test = result.evaluate_test(data)  # the one look at the test set
    write_json(str(out_dir / "best.json"),
               {"config": result.best_config, "val_accuracy": best["val_acc"],
                "test_accuracy": test, "spaces": [{k: repr(v) for k, v in s.items()}
                                                  for s in result.spaces]})
    print(f"test accuracy of the best config: {100 * test:.2f}% ({len(data.test)} images, "
          "measured once)")
    print(f"run folder: {out_dir}")
    return 0


def _shared_search(args) -> int:
    """``striate search --storage URL --study NAME``: this process's share of an Optuna study
    that other processes (on other machines) work on too; with ``--report``, the study so far."""
    from ..train.study import open_study, optuna_search, study_report

    if not (args.storage and args.study):
        raise CommandError("--storage URL and --study NAME go together (and --report needs "
                           "both)")
    if args.report:
        study = open_study(args.storage, args.study, create=False)
        out_dir = _start_run(args.out, args.name or f"study-{args.study}",
                             {"command": "search --report", "storage": _redact(args.storage),
                              "study": args.study})
        print("\n".join(study_report(study, out_dir)))
        print(f"run folder: {out_dir}")
        return 0
    from ..classic.search import CLASSIC_KINDS, run_trial

    space, base = _space_from_args(args)
    data = _load(args.data, args.num_train, args.seed)
    trial_fn = run_trial if args.model in CLASSIC_KINDS else None
    print(f"striate search: {args.model} on {data!r}; {args.trials} trials of study "
          f"{args.study!r} at {_redact(args.storage)} (process {os.getpid()})")
    study = optuna_search(space, data, base, trials=args.trials, storage=args.storage,
                          study_name=args.study, seed=args.seed, trial_fn=trial_fn, log=print)
    try:
        best = study.best_trial
    except ValueError:
        print("no trial of the study has finished yet")
        return 0
    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in best.params.items())
    print(f"best trial of the study so far: {best.number} ({shown}): val accuracy "
          f"{100 * best.value:.2f}%")
    return 0


def _redact(url: str) -> str:
    """A database URL without its password, for printing and run folders."""
    import re

    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def add_parsers(sub) -> None:
    """``striate features`` and ``striate search``."""
    f = sub.add_parser(
        "features", help="train a classifier on image features (HOG, hue histogram, words)",
        description="Extract image features, standardise them (fitted on the training split), "
        "optionally reduce them with PCA, train a linear SVM, softmax or small network on "
        "them, print the validation and test accuracy, and write a run folder.")
    f.add_argument("--data", default="digits", help="dataset (default: digits; cifar10:PATH, "
                   "mnist:PATH, folder:PATH, ...)")
    f.add_argument("--features", type=_feature_list, default=["hog"],
                   help="comma-separated: hog, color, bow (default: hog)")
    f.add_argument("--classifier", choices=["svm", "softmax", "mlp"], default="svm",
                   help="default: %(default)s")
    f.add_argument("--pca", type=_pca, default=None,
                   help="reduce the features to N principal components (or a variance "
                   "fraction like 0.95)")
    f.add_argument("--whiten", action="store_true", help="whiten the PCA components")
    f.add_argument("--lr", type=non_negative_float, default=None,
                   help="learning rate (default: 1e-2 for svm/softmax, 1e-3 for mlp)")
    f.add_argument("--reg", type=non_negative_float, default=None,
                   help="regularisation (default: 1e-2 for svm/softmax, weight decay 1e-4 "
                   "for mlp)")
    f.add_argument("--iters", type=positive_int, default=1500,
                   help="SGD steps of svm/softmax (default: %(default)s)")
    f.add_argument("--epochs", type=positive_int, default=20,
                   help="epochs of the mlp (default: %(default)s)")
    f.add_argument("--batch-size", type=positive_int, default=None,
                   help="default: 200 for svm/softmax, 64 for mlp")
    f.add_argument("--cell", type=positive_int, default=None,
                   help="HOG cell size in pixels (default: about 4x4 cells per image)")
    f.add_argument("--bins", type=positive_int, default=9,
                   help="HOG orientation bins (default: %(default)s)")
    f.add_argument("--block", type=positive_int, default=None,
                   help="HOG block normalisation over BxB cells (default: none)")
    f.add_argument("--hue-bins", type=positive_int, default=10, help="default: %(default)s")
    f.add_argument("--words", type=positive_int, default=50,
                   help="bag-of-words codebook size (default: %(default)s)")
    f.add_argument("--patch", type=positive_int, default=3,
                   help="bag-of-words patch size (default: %(default)s)")
    f.add_argument("--patches", type=positive_int, default=10000,
                   help="random patches clustered into the codebook (default: %(default)s)")
    _common(f, "features")
    f.set_defaults(handler=features)

    s = sub.add_parser(
        "search", help="hyper-parameter search (random/grid, coarse to fine, parallel)",
        description="Random (log-uniform) or grid search of learning rate and regularisation, "
        "in stages from coarse to fine, abandoning trials whose loss exceeds 3x its start; "
        "prints the best config with its validation accuracy, then its test accuracy once; "
        "writes trials.csv, search.png and best.json. Ranges are LO:HI (log-uniform), "
        "lin:LO:HI, A,B,C (a choice) or one value; --config reads them from TOML or JSON.")
    s.add_argument("--data", default="digits", help="dataset (default: digits)")
    s.add_argument("--model", default="linear-svm",
                   help="linear-svm, softmax (the classic classifiers) or a model name of "
                   "`striate train` (default: %(default)s)")
    s.add_argument("--lr", default=None,
                   help="learning-rate range (default: 1e-3:1 classic, 1e-4:1e-1 models)")
    s.add_argument("--reg", default=None,
                   help="regularisation / weight-decay range (default: 1e-6:1e-1 classic, "
                   "1e-6:1e-2 models)")
    s.add_argument("--config", default=None, metavar="RANGES",
                   help="a .toml or .json file of ranges and fixed settings")
    s.add_argument("--trials", type=positive_int, default=20,
                   help="trials per stage (default: %(default)s)")
    s.add_argument("--stages", type=positive_int, default=2,
                   help="coarse-to-fine stages (default: %(default)s)")
    s.add_argument("--method", choices=["random", "grid"], default="random",
                   help="default: %(default)s")
    s.add_argument("--epochs", type=positive_int, default=5,
                   help="epochs per trial of a model (default: %(default)s)")
    s.add_argument("--iters", type=positive_int, default=500,
                   help="SGD steps per trial of linear-svm/softmax (default: %(default)s)")
    s.add_argument("--optimizer", default="adam",
                   choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
                   help="optimizer of a model (default: %(default)s)")
    s.add_argument("--batch-size", type=positive_int, default=None,
                   help="default: 200 classic, 64 models")
    s.add_argument("--folds", type=positive_int, default=None,
                   help="judge each config by k-fold cross-validation on train+val pooled "
                   "(default: the validation split)")
    s.add_argument("--workers", type=positive_int, default=1,
                   help="trials run at once in worker processes (default: %(default)s)")
    s.add_argument("--storage", default=None, metavar="URL",
                   help="share the search through Optuna: a database URL (sqlite:///search.db "
                   "on one machine, postgresql+psycopg://USER@HOST/DB for many); every "
                   "`striate search` given the same URL and --study works on one study "
                   "(--trials: this process's share); needs the search extra")
    s.add_argument("--study", default=None, metavar="NAME", help="the Optuna study's name")
    s.add_argument("--report", action="store_true",
                   help="with --storage and --study: show the study (trial states, best "
                   "trials) and write study.csv and study.png (log axes) to a run folder")
    _common(s, "search")
    s.set_defaults(handler=search_command)


def _common(p, name) -> None:
    p.add_argument("--num-train", type=positive_int, default=None,
                   help="use a class-balanced subset of this many training images")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    p.add_argument("--name", default=None, help=f"run name (default: {name}-...)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


"""``striate generate``: train generative models and draw from them.

``striate generate KIND train`` (KIND: ae, vae, gan, lsgan, dcgan, pixelcnn, pixelrnn, ddpm)
trains on the bundled digits or on ``--data mnist:PATH`` / ``folder:PATH?size=..&channels=1``
into a run folder (sample grid per epoch, loss curves, checkpoint; ``--resume RUN`` continues
one); ``sample RUN`` writes a grid of new samples, ``interpolate RUN`` a grid of latent
interpolations, ``evaluate RUN --classifier CLS`` labels samples with a classifier trained by
``striate train``.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import CommandError, non_negative_float, positive_int, run_dir

KIND_HELP = {
    "ae": "autoencoder (conv or fc), with the 100-label feature experiment",
    "vae": "variational autoencoder (Bernoulli or Gaussian decoder)",
    "gan": "fully-connected GAN (the notebook's networks)",
    "lsgan": "least-squares GAN (the notebook's networks)",
    "dcgan": "deep convolutional GAN",
    "pixelcnn": "PixelCNN with masked convolutions",
    "pixelrnn": "row-LSTM PixelRNN",
    "ddpm": "denoising diffusion model (U-Net; DDIM sampling)",
}
# option -> the kinds it belongs to
KIND_OPTIONS = {
    "latent_dim": ("vae",), "hidden": ("vae", "pixelrnn"), "likelihood": ("vae",),
    "code_dim": ("ae",), "arch": ("ae",), "noise_dim": ("gan", "lsgan", "dcgan"),
    "channels": ("pixelcnn",), "blocks": ("pixelcnn",), "T": ("ddpm",), "schedule": ("ddpm",),
    "width": ("ddpm",), "ddim_steps": ("ddpm",), "grid_steps": ("ddpm",),
    "probe_steps": ("ae", "vae"), "probe_draws": ("ae", "vae"),
}


def _load(path, kinds=None):
    from ..generative import load_run

    if not Path(path).exists():
        raise CommandError(f"no such run folder or checkpoint: {path}")
    try:
        return load_run(str(path), kinds)
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None


def _train(args) -> int:
    from ..data import load_dataset
    from ..generative import train_run

    kind = args.kind
    options = {k: getattr(args, k, None) for k in KIND_OPTIONS if kind in KIND_OPTIONS[k]}
    options.update(lr=args.lr, batch_size=args.batch_size)
    if args.resume:
        out = Path(args.resume)
        if out.is_file():
            out = out.parent
        if not out.is_dir():
            raise CommandError(f"--resume: no such run folder: {args.resume}")
        ckpt = _load(out)[1]
        if ckpt["kind"] != kind:
            raise CommandError(f"--resume: {out} is a {ckpt['kind']} run, not {kind}")
        data = load_dataset(ckpt["config"]["data"])
        summary = train_run(kind, data, str(out), data_spec=ckpt["config"]["data"],
                            epochs=args.epochs, resume=True, progress=not args.quiet)
    else:
        data = load_dataset(args.data)
        out = run_dir(args.out, args.name or kind)
        try:
            summary = train_run(kind, data, str(out), data_spec=args.data, epochs=args.epochs,
                                seed=args.seed, progress=not args.quiet, **options)
        except ValueError as e:
            raise CommandError(str(e)) from None
    print(json.dumps(_rounded(summary)))
    print(f"run folder: {out}")
    return 0


def _rounded(v):
    """The summary for the terminal: floats to 4 decimals, inside lists and dicts too (the
    100-label experiment's per-draw accuracies); summary.json keeps them whole."""
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    return v


def _out_path(args, run: str, default: str) -> Path:
    if args.output:
        return Path(args.output)
    folder = Path(run) if Path(run).is_dir() else Path(run).parent
    return folder / default


def _sample(args) -> int:
    import numpy as np

    from ..generative import save_grid

    task, ckpt = _load(args.run)
    rng = np.random.default_rng(args.seed)
    try:
        if ckpt["kind"] == "ddpm":
            x = task.sample(args.n, rng, ancestral=args.ancestral)
        else:
            x = task.sample(args.n, rng)
    except ValueError as e:
        raise CommandError(str(e)) from None
    path = save_grid(x, str(_out_path(args, args.run, "sample.png")))
    if args.npy:
        np.save(args.npy, x)
    print(f"{args.n} samples of {ckpt['kind']} (epoch {ckpt['epoch']}) -> {path}")
    return 0


def _interpolate(args) -> int:
    import numpy as np

    from ..data import load_dataset
    from ..generative import save_grid

    task, ckpt = _load(args.run)
    X = None
    if ckpt["kind"] in ("ae", "vae"):  # these interpolate between two encoded test images
        X = load_dataset(ckpt["config"]["data"]).test.X
    try:
        x = task.interpolate(args.rows, args.steps, X, np.random.default_rng(args.seed))
    except ValueError as e:
        raise CommandError(str(e)) from None
    path = save_grid(x, str(_out_path(args, args.run, "interpolation.png")), nrow=args.steps)
    print(f"{args.rows} interpolations of {args.steps} steps ({ckpt['kind']}) -> {path}")
    return 0


def _evaluate(args) -> int:
    import numpy as np

    from ..generative import label_samples, save_grid
    from .train import load_trained

    task, ckpt = _load(args.run)
    _, config, data, norm, model = load_trained(args.classifier)
    if tuple(config.get("input_shape", data.input_shape)) != tuple(task.shape):
        raise CommandError(f"--classifier: {args.classifier} takes images of shape "
                           f"{tuple(data.input_shape)}, the run makes {tuple(task.shape)}")
    try:
        x = task.sample(args.n, np.random.default_rng(args.seed))
    except ValueError as e:
        raise CommandError(str(e)) from None
    result = label_samples(model, x, norm, data.num_classes)
    result.update(kind=ckpt["kind"], run=str(args.run))
    save_grid(x[:100], str(_out_path(args, args.run, "evaluated_samples.png")), nrow=10)
    print(json.dumps(result))
    return 0


def add_parsers(sub) -> None:
    """``striate generate KIND train | sample | interpolate | evaluate``."""
    from ..generative.tasks import DEFAULTS, KINDS

    p = sub.add_parser("generate", help="generative models: ae, vae, GANs, PixelCNN/RNN, DDPM",
                       description="Train generative models (on the digits, MNIST IDX files or "
                       "an image folder) and sample or interpolate from trained runs.")
    p.set_defaults(handler=lambda a: p.print_help() or 0)
    cmds = p.add_subparsers(dest="generate_command",
                            metavar="{" + ",".join(KINDS) + ",sample,interpolate,evaluate}")
    for kind in KINDS:
        k = cmds.add_parser(kind, help=KIND_HELP[kind], description=KIND_HELP[kind])
        k.set_defaults(handler=lambda a, k=k: k.print_help() or 0)
        t = k.add_subparsers(dest="action", metavar="{train}").add_parser(
            "train", help=f"train a {kind} into a run folder")
        d = DEFAULTS[kind]
        t.add_argument("--data", default="digits",
                       help="digits (default), mnist:PATH (IDX files), folder:PATH?size=28"
                       "&channels=1")
        t.add_argument("--epochs", type=positive_int, default=None,
                       help=f"total epochs (default: {d['epochs']})")
        t.add_argument("--batch-size", type=positive_int, default=None,
                       help=f"default: {d['batch_size']}")
        t.add_argument("--lr", type=non_negative_float, default=None,
                       help=f"Adam learning rate (default: {d['lr']})")
        t.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
        t.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
        t.add_argument("--name", default=None, help=f"run folder name (default: {kind})")
        t.add_argument("--resume", default=None, metavar="RUN",
                       help="continue this run folder to --epochs")
        t.add_argument("--quiet", action="store_true", help="no progress bars")
        for opt, kinds in KIND_OPTIONS.items():
            if kind not in kinds:
                continue
            flag = "--" + opt.replace("_", "-")
            if opt == "likelihood":
                t.add_argument(flag, choices=("bernoulli", "gaussian"), default=None,
                               help=f"decoder p(x|z) (default: {d[opt]})")
            elif opt == "schedule":
                t.add_argument(flag, choices=("linear", "cosine"), default=None,
                               help=f"noise schedule (default: {d[opt]})")
            elif opt == "arch":
                t.add_argument(flag, choices=("conv", "fc"), default=None,
                               help=f"default: {d[opt]}")
            elif opt.startswith("probe_"):
                what = {"probe_steps": "full-batch Adam steps of each arm",
                        "probe_draws": "draws of the labels"}[opt]
                t.add_argument(flag, dest=opt, type=positive_int, default=None,
                               help=f"100-label experiment: {what} (default: {d[opt]})")
            else:
                t.add_argument(flag, dest=opt, type=positive_int, default=None,
                               help=f"default: {d[opt]}")
        t.set_defaults(handler=_train, kind=kind)

    s = cmds.add_parser("sample", help="a grid of new samples from a trained run")
    s.add_argument("run", help="a run folder of `striate generate KIND train`")
    s.add_argument("--n", type=positive_int, default=64, help="samples (default: 64)")
    s.add_argument("--output", "-o", default=None, help="PNG path (default: RUN/sample.png)")
    s.add_argument("--npy", default=None, help="also save the samples as a .npy array")
    s.add_argument("--ancestral", action="store_true",
                   help="ddpm: all T ancestral steps instead of DDIM")
    s.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    s.set_defaults(handler=_sample)

    i = cmds.add_parser("interpolate", help="latent interpolations from a trained run")
    i.add_argument("run", help="a run folder (ae, vae, gan, lsgan, dcgan or ddpm)")
    i.add_argument("--rows", type=positive_int, default=8, help="interpolations (default: 8)")
    i.add_argument("--steps", type=positive_int, default=10, help="images each (default: 10)")
    i.add_argument("--output", "-o", default=None,
                   help="PNG path (default: RUN/interpolation.png)")
    i.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    i.set_defaults(handler=_interpolate)

    e = cmds.add_parser("evaluate", help="label samples with a classifier from `striate train`")
    e.add_argument("run", help="a run folder of `striate generate KIND train`")
    e.add_argument("--classifier", required=True, help="a run folder of `striate train`")
    e.add_argument("--n", type=positive_int, default=1000, help="samples (default: 1000)")
    e.add_argument("--output", "-o", default=None,
                   help="PNG of the first 100 (default: RUN/evaluated_samples.png)")
    e.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    e.set_defaults(handler=_evaluate)

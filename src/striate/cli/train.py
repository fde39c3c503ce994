"""``striate train``, ``striate eval`` and ``striate predict``.

A run is reproducible from its ``config.json``: the config names the model, the dataset, the
optimizer and the input normalisation fitted on the training split, and every checkpoint carries
it, so ``eval`` and ``predict`` rebuild exactly the model and preprocessing that were trained.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np

from ..optim import OPTIMIZERS, create_optimizer
from ..optim.lr_scheduler import CosineAnnealingLR
from . import CommandError, model_name, new_folder, non_negative_float, positive_int, run_dir

DEFAULT_EPOCHS = 20
DEFAULT_LR = 3e-3
SCHEDULES = {"none", "cosine", "step", "exponential", "invtime"}


def _make_schedule(name, optimizer, epochs):
    """A per-epoch schedule: cosine down to lr/100 over the run, step (x0.1 at 1/2 and 3/4 of
    the run), exponential (x0.9 per epoch) or the notes' 1/t decay."""
    from ..optim import lr_scheduler as sch

    if name == "none":
        return None
    if name == "cosine":
        lr = optimizer.defaults["lr"]
        return CosineToFloorLR(optimizer, T_max=epochs, eta_min=0.01 * lr)
    if name == "step":
        return sch.MultiStepLR(optimizer, milestones=[epochs // 2, (3 * epochs) // 4], gamma=0.1)
    if name == "exponential":
        return sch.ExponentialLR(optimizer, gamma=0.9)
    if name == "invtime":
        return sch.InverseTimeLR(optimizer, decay=0.5)
    raise CommandError(f"unknown schedule {name!r}; choose from {', '.join(sorted(SCHEDULES))}")


class CosineToFloorLR(CosineAnnealingLR):
    """Cosine annealing that stays at its floor after ``T_max`` instead of rising again.

    This is the rule for extending a run (``--resume RUN --epochs N`` with a larger N): the
    restored schedule keeps the length it was planned with and the added epochs continue at the
    rate it ended with, so the learning rate of a decaying schedule never climbs back up (step
    stays at its last value; exponential and 1/t keep decaying).
    """

    def _lr(self, base_lr: float, t: int) -> float:
        return super()._lr(base_lr, min(t, self.T_max))


def _prepare(config):
    """Dataset, fitted normalisation and model described by a run's config."""
    from ..data import load_dataset
    from ..data.transforms import Normalize, transform_from_dict
    from ..train.architecture import build_model

    data = load_dataset(config["data"])
    if "normalize" in config:
        norm = transform_from_dict(config["normalize"])
    else:
        norm = Normalize.fit(data.train.X, per_channel=True)
    return data, norm, build_model(config, data.num_classes, data.input_shape)


def _loader(split, norm, batch_size, shuffle=False):
    from ..data import DataLoader, TensorDataset

    # the data sets here fit in memory: normalise once, not once per batch
    return DataLoader(TensorDataset(norm(split.X), split.y), batch_size=batch_size,
                      shuffle=shuffle)


def _train_loader(split, norm, config):
    """The training loader; with ``config["augment"]`` (e.g. ``"crop,flip"``) it augments the raw
    images of every batch in the loader's prefetch thread, then normalises them."""
    if not config.get("augment"):
        return _loader(split, norm, config["batch_size"], shuffle=True)
    from ..data import DataLoader, TensorDataset
    from ..data.augment import build_augmentation
    from ..data.transforms import Compose

    augs = build_augmentation(config["augment"], split.X.shape[1:])
    return DataLoader(TensorDataset(split.X, split.y), batch_size=config["batch_size"],
                      shuffle=True, transform=Compose([*augs, norm]))


def _trained_state(ckpt) -> dict:
    """The weights to use from a checkpoint: a run with ``--ema`` uses its averaged weights."""
    from ..train.runs import trained_state

    return trained_state(ckpt)


def _default_lr(args) -> float:
    """--lr if given; else the zoo's recommended Adam rate for the model (SqueezeNet, which has
    no normalisation, dies at 3e-3: see ``models.RECOMMENDED_ADAM_LR``), else DEFAULT_LR."""
    if args.lr is not None:
        return args.lr
    from ..models import RECOMMENDED_ADAM_LR

    if args.optimizer == "adam" and args.model in RECOMMENDED_ADAM_LR:
        lr = RECOMMENDED_ADAM_LR[args.model]
        print(f"learning rate {lr:g}: {args.model}'s recommended rate with adam (no "
              "normalisation layers; give --lr to choose another)")
        return lr
    return DEFAULT_LR


def train(args) -> int:
    if getattr(args, "distributed", False):
        from .distributed import run_distributed

        return run_distributed(_train, args)
    if getattr(args, "nproc", None):
        from .distributed import launch

        return launch(args)
    return _train(args)


def _train(args, rank: int = 0, world: int = 1) -> int:
    """One process's training; with ``world`` > 1, one rank of a data-parallel job: every rank
    computes, rank 0 alone prints and writes the run folder."""
    import striate

    from ..train import Trainer, load
    from ..train import history as plots

    lead = rank == 0
    if args.resume:
        resume_path = _checkpoint_path(args.resume, prefer=("checkpoint_last.npz",))
        ckpt = load(resume_path)
        config = dict(ckpt["config"])
        out_dir = _resume_folder(resume_path, int(ckpt["epoch"])) if lead else None
        if args.epochs is not None:  # a resumed run may be extended to more epochs
            config["epochs"] = args.epochs
    else:
        config = {
            "model": args.model,
            "data": args.data,
            "epochs": args.epochs or DEFAULT_EPOCHS,
            "batch_size": args.batch_size,
            "optimizer": args.optimizer,
            "lr": _default_lr(args),
            "momentum": args.momentum,
            "weight_decay": args.weight_decay,
            "schedule": args.schedule,
            "grad_clip": args.grad_clip,
            "seed": args.seed,
            "augment": args.augment,
            "ema": args.ema,
            "test_with": args.test_with,
            "adversarial": _adversarial_config(args),
            "winograd": args.winograd,
        }
        out_dir = None  # made once the data and options are known good

    striate.manual_seed(config["seed"])
    data, norm, model = _prepare(config)
    if config.get("winograd", "never") != "never":
        from ..nn.winograd import use_winograd

        use_winograd(model, config["winograd"], tile=4)  # state unchanged: checkpoints as before
    config["normalize"] = norm.to_dict()
    config["classes"] = list(data.classes)
    config["input_shape"] = list(data.input_shape)
    optimizer = create_optimizer(config["optimizer"], model.parameters(), lr=config["lr"],
                                 momentum=config["momentum"],
                                 weight_decay=config["weight_decay"])
    scheduler = _make_schedule(config["schedule"], optimizer, config["epochs"])
    train_loader = _train_loader(data.train, norm, config)
    if out_dir is None and lead:
        name = args.name or f"{config['model']}-{config['data'].split(':')[0]}"
        out_dir = run_dir(args.out, name)
    net = model
    if world > 1:
        from .. import distributed as dist
        from ..nn import SyncBatchNorm
        from ..nn.parallel import DistributedDataParallel

        folder = [str(out_dir) if lead else None]
        dist.broadcast_object_list(folder)  # where rank 0 writes: the other ranks read there
        out_dir = Path(folder[0])
        model = SyncBatchNorm.convert_sync_batchnorm(model)
        net = DistributedDataParallel(model, broadcast_buffers=False)  # SyncBN keeps them equal
        threads = os.cpu_count() // int(os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE", world))
        striate.set_num_threads(max(1, threads))
    trainer = Trainer(net, optimizer, scheduler=scheduler, out_dir=out_dir if lead else None,
                      config=config, grad_clip=config["grad_clip"],
                      progress=lead and not args.no_progress, log=None if lead else False,
                      monitor="val_loss", tensorboard=_tensorboard_option(args) if lead else False,
                      ema_decay=config.get("ema"), distributed=world > 1,
                      adversarial=_adversarial_objective(config.get("adversarial"), norm))
    n_params = sum(p.numel() for p in model.parameters())
    if lead:
        procs = f", {world} processes" if world > 1 else ""
        print(f"striate train: {config['model']} ({n_params:,} parameters) on {data!r}{procs}")
        print(f"run folder: {out_dir}")
        plots.start_plot_worker()  # matplotlib loads on another core while training runs
    trainer.fit(train_loader, _loader(data.val, norm, 512), epochs=config["epochs"],
                resume=resume_path if args.resume else None)
    if world > 1:
        dist.barrier()  # rank 0 has written the last checkpoints before anyone reads them

    test_with = config.get("test_with", "best")
    best = out_dir / "checkpoint_best.npz"
    if test_with == "best" and best.exists():
        best_ckpt = load(best)
        model.load_state_dict(best_ckpt["model"])
        if trainer.ema is not None and best_ckpt.get("ema"):  # evaluate with the best averages
            trainer.ema.load_state_dict(best_ckpt["ema"])
    test = trainer.evaluate(_loader(data.test, norm, 512))
    if not lead:
        return 0
    test["checkpoint"] = test_with
    (out_dir / "test_metrics.json").write_text(json.dumps(test, indent=2) + "\n")
    print(f"test accuracy: {100 * test['accuracy']:.2f}%  (loss {test['loss']:.4f}, "
          f"{len(data.test)} images, {test_with} checkpoint)")
    sys.stdout.flush()
    plots.wait_for_plots()  # the answer first, then the plots the run folder promises
    return 0


def _adversarial_config(args):
    """``--adversarial fgsm|pgd`` and its settings as a JSON-able dict (None: clean training)."""
    if not getattr(args, "adversarial", None):
        return None
    return {"method": args.adversarial, "eps": args.adv_eps, "steps": args.adv_steps,
            "mix": args.adv_mix}


def _adversarial_objective(settings, norm):
    """The Trainer's adversarial objective for a run's config, attacking in pixel units."""
    if not settings:
        return None
    from ..train.adversarial import AdversarialObjective

    return AdversarialObjective(settings["method"], eps=settings["eps"], mix=settings["mix"],
                                steps=settings["steps"], mean=norm.mean, std=norm.std)


def _tensorboard_option(args):
    """``--tensorboard`` alone: the run folder's ``tensorboard/``; with a folder: that one."""
    value = getattr(args, "tensorboard", False)
    if value and importlib.util.find_spec("tensorboardX") is None:
        raise CommandError("--tensorboard needs tensorboardX: pip install 'striate[tensorboard]'")
    return value


def _resume_folder(checkpoint: Path, epoch: int) -> Path:
    """Where a run resumed from ``checkpoint`` (after ``epoch``) writes: its own folder, unless
    that folder's ``checkpoint_last.npz`` is further on (resuming from ``checkpoint_best`` or a
    snapshot); then a new sibling folder ``<run>-from-epoch<epoch>``, so the later epochs'
    checkpoints and metrics are never overwritten."""
    from ..train import load

    folder = checkpoint.parent
    last = folder / "checkpoint_last.npz"
    if last.exists() and last.resolve() != checkpoint.resolve():
        try:
            last_epoch = int(load(last)["epoch"])
        except Exception:  # an unreadable checkpoint_last: keep it, branch off
            last_epoch = epoch + 1
        if last_epoch > epoch:
            branch = new_folder(folder.parent, f"{folder.name}-from-epoch{epoch}")
            print(f"{folder} has trained past epoch {epoch} (checkpoint_last: epoch "
                  f"{last_epoch}); the resumed run writes to {branch}")
            return branch
    return folder


def _checkpoint_path(run_or_checkpoint,
                     prefer=("checkpoint_best.npz", "checkpoint_last.npz")) -> Path:
    """The checkpoint a path names: the file itself, or in a run folder the first of ``prefer``
    (``eval`` and ``predict`` use the best weights, ``train --resume`` the last)."""
    from ..train.runs import checkpoint_path

    try:
        return checkpoint_path(run_or_checkpoint, prefer)
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None


# the public name other command modules (cli/detect.py) use
checkpoint_path = _checkpoint_path


def _load_trained(run_or_checkpoint):
    """``train.runs.load_run`` (every run ``train`` and ``compress`` write; the model in eval
    mode) with its errors as one-line ``CommandError``s."""
    from ..train.runs import load_run

    path = _checkpoint_path(run_or_checkpoint)
    try:
        run = load_run(path)
    except ValueError as e:
        raise CommandError(str(e)) from None
    return run.path, run.config, run.data, run.norm, run.model


def load_trained(run_or_checkpoint):
    """A trained classifier of ``striate train`` (run folder or checkpoint; the best weights):
    ``(path, config, data, normalize, model)``, for commands that use one (``generate
    evaluate``)."""
    return _load_trained(run_or_checkpoint)


def evaluate(args) -> int:
    from .. import functional as F
    from ..train import Trainer

    path, config, data, norm, model = _load_trained(args.run)
    split = getattr(data, args.split)
    trainer = Trainer(model, None, loss_fn=F.cross_entropy, progress=False, checks=False)
    m = trainer.evaluate(_loader(split, norm, args.batch_size))
    print(f"{path}: {config['model']} on {config['data']} ({args.split}, {len(split)} images)")
    print(f"loss {m['loss']:.4f}  accuracy {100 * m['accuracy']:.2f}%")
    return 0


def _read_image(path: Path, shape, invert: str) -> np.ndarray:
    """An image file as a float array (C, H, W) in [0, 1], in the model's channels and size."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:  # pragma: no cover - Pillow is a core dependency
        raise CommandError("predict needs Pillow: pip install pillow") from e
    c, h, w = shape
    if not path.exists():
        raise CommandError(f"no such image: {path}")
    try:
        with Image.open(path) as im:
            im = im.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
            a = np.asarray(im, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as e:
        raise CommandError(f"cannot read image {path}: {e}") from None
    a = a[None] if c == 1 else a.transpose(2, 0, 1)
    if invert == "yes" or (invert == "auto" and c == 1 and a.mean() > 0.5):
        a = 1.0 - a  # the digits are bright ink on a dark ground
    return a


def predict(args) -> int:
    import striate

    from .. import functional as F

    path, config, data, norm, model = _load_trained(args.checkpoint)
    classes = config.get("classes", data.classes)
    shape = tuple(config.get("input_shape", data.input_shape))
    # the digits store ink as 0..16 scaled to [0, 1]; an image in [0, 1] matches that range
    x = np.stack([_read_image(Path(p), shape, args.invert) for p in args.images])
    model.eval()
    with striate.no_grad():
        probs = F.softmax(model(striate.Tensor(norm(x.astype(np.float32)))), dim=1).array
    k = min(args.top_k, probs.shape[1])
    for p, row in zip(args.images, probs):
        top = np.argsort(-row)[:k]
        guesses = ", ".join(f"{classes[i]} ({100 * row[i]:.1f}%)" for i in top)
        print(f"{p}: {guesses}")
    sys.stdout.flush()
    return 0


def add_optimizer_options(parser) -> None:
    """--optimizer, --momentum, --weight-decay and --schedule, shared by train and finetune."""
    parser.add_argument("--optimizer", default="adam", choices=OPTIMIZERS,
                        help="default: %(default)s")
    parser.add_argument("--momentum", type=non_negative_float, default=0.9,
                        help="momentum for sgd/rmsprop (default: %(default)s)")
    parser.add_argument("--weight-decay", type=non_negative_float, default=1e-4,
                        help="L2 weight decay (default: %(default)s)")
    parser.add_argument("--schedule", default="cosine", choices=sorted(SCHEDULES),
                        help="learning-rate schedule (default: %(default)s)")


def add_parsers(sub) -> None:
    """``striate train``, ``striate eval`` and ``striate predict``."""
    t = sub.add_parser(
        "train",
        help="train a model (by default a small ConvNet on the bundled digits)",
        description="Train a model, show progress, print the test accuracy, and write a run "
        "folder (config, metrics CSV, best and last checkpoints, plots).",
    )
    t.add_argument("--model", default="convnet", type=model_name, metavar="MODEL",
                   help="architecture of the zoo, listed by `striate models` "
                   "(default: %(default)s)")
    t.add_argument("--data", default="digits",
                   help="dataset: digits (bundled, default), cifar10:PATH, cifar100:PATH, "
                   "mnist:PATH, fashion-mnist:PATH, folder:PATH[?size=32&channels=3]")
    t.add_argument("--epochs", type=positive_int, default=None,
                   help=f"default: {DEFAULT_EPOCHS} (with --resume: the run's own; a larger "
                   "number extends the run: its schedule finishes as planned and the added "
                   "epochs continue at the learning rate it ended with)")
    t.add_argument("--batch-size", type=positive_int, default=64, help="default: %(default)s")
    t.add_argument("--lr", type=non_negative_float, default=None,
                   help=f"learning rate (default: {DEFAULT_LR}, or with adam the model's "
                   "recommended rate where the zoo lists one: 1e-3 for SqueezeNet)")
    add_optimizer_options(t)
    t.add_argument("--grad-clip", type=non_negative_float, default=None,
                   help="clip the gradient norm to this value (default: off)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    t.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    t.add_argument("--name", default=None, help="run name (default: MODEL-DATA)")
    t.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue a run (a run folder: from its checkpoint_last.npz); resuming "
                   "from an earlier checkpoint writes to a new folder RUN-from-epochK")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")
    t.add_argument("--augment", default=None, metavar="LIST",
                   help="augment training batches on the fly, e.g. 'crop,flip' or "
                   "'crop=2,rotate=10'; from: crop, flip, vflip, scale, jitter, rotate, shear, "
                   "translate (default: none)")
    t.add_argument("--ema", type=non_negative_float, default=None, metavar="DECAY",
                   help="evaluate and save with a Polyak average of the weights of this decay, "
                   "e.g. 0.999 (default: off)")
    t.add_argument("--test-with", choices=("best", "last"), default="best",
                   help="the weights the test accuracy is measured with: the epoch of lowest "
                   "validation loss, or the end of training (steadier when the validation set is "
                   "small and the schedule anneals; default: %(default)s)")
    t.add_argument("--tensorboard", nargs="?", const=True, default=False, metavar="DIR",
                   help="also write TensorBoard event files (loss, accuracy, lr per epoch) to "
                   "RUN/tensorboard, or to DIR; needs the tensorboard extra")
    t.add_argument("--nproc", type=positive_int, default=None, metavar="N",
                   help="data-parallel training in N processes on this machine, launched "
                   "through mpirun (global batch --batch-size split over them; the same weights "
                   "as one process); needs the distributed extra")
    t.add_argument("--distributed", action="store_true",
                   help="be one process of an MPI job (`mpirun -n N [--hostfile HOSTS] striate "
                   "train --distributed ...`); rank 0 writes the run folder")

    t.add_argument("--winograd", choices=("never", "auto", "always"), default="never",
                   help="3x3 stride-1 convolutions by Winograd's minimal filtering: auto (per "
                   "layer, whichever of im2col, F(2x2, 3x3) and F(4x4, 3x3) measures fastest "
                   "on the first batch, like cuDNN's benchmark mode: faster, but which one "
                   "runs, and so the last bits of the numbers, can differ between runs), always "
                   "(F(4x4, 3x3)); default: never (im2col, reproducible)")
    t.add_argument("--adversarial", choices=("fgsm", "pgd"), default=None,
                   help="adversarial training: fgsm (Goodfellow's mixed clean + adversarial "
                   "loss) or pgd (Madry's: adversarial loss only); default: off")
    t.add_argument("--adv-eps", type=non_negative_float, default=0.2,
                   help="attack radius in pixel units, images in [0, 1] (default: %(default)s)")
    t.add_argument("--adv-steps", type=positive_int, default=7,
                   help="PGD steps per batch (default: %(default)s)")
    t.add_argument("--adv-mix", type=non_negative_float, default=None,
                   help="weight of the clean loss (default: 0.5 for fgsm, 0 for pgd)")

    e = sub.add_parser(
        "eval",
        help="evaluate a run or checkpoint on its dataset",
        description="Print loss and accuracy of a trained model on a split of its dataset.",
    )
    e.add_argument("run", metavar="RUN_OR_CHECKPOINT",
                   help="a run folder (its best checkpoint is used) or a checkpoint .npz")
    e.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="default: %(default)s")
    e.add_argument("--batch-size", type=positive_int, default=256, help="default: %(default)s")

    p = sub.add_parser(
        "predict",
        help="classify image files with a trained model",
        description="Classify image files (any format Pillow reads). Images are converted to the "
        "model's channels and size and normalised as in training.",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint .npz or a run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    p.add_argument("--top-k", type=positive_int, default=3, help="default: %(default)s")
    p.add_argument("--invert", choices=["auto", "yes", "no"], default="auto",
                   help="invert grey levels so ink is bright, as in the digits data; 'auto' "
                   "inverts images with a light background (default: %(default)s)")
    t.set_defaults(handler=train)
    e.set_defaults(handler=evaluate)
    p.set_defaults(handler=predict)


# public names of the run helpers for the other commands (compress, attack)
split_loader, train_loader = _loader, _train_loader

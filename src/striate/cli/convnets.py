"""``striate finetune`` (transfer learning from a checkpoint) and ``striate bench`` (striate
against PyTorch on the FC net, a small ConvNet and ResNet-20)."""

from __future__ import annotations

import json
import math

from ..optim import create_optimizer
from . import CommandError, non_negative_float, positive_int, run_dir
from .train import (
    DEFAULT_EPOCHS,
    _checkpoint_path,
    _loader,
    _make_schedule,
    _train_loader,
    _trained_state,
    add_optimizer_options,
)


def _normalisation(src_config: dict, data):
    """The pretrained model's input normalisation when it fits the new images (as one reuses
    ImageNet statistics), else statistics fitted on the new training split."""
    import numpy as np

    from ..data.transforms import Normalize, transform_from_dict

    if "normalize" in src_config:
        norm = transform_from_dict(src_config["normalize"])
        shape = np.broadcast_shapes(norm.mean.shape, norm.std.shape)
        try:
            if np.broadcast_shapes(shape, tuple(data.input_shape)) == tuple(data.input_shape):
                return norm, "the pretrained model's"
        except ValueError:
            pass
    return Normalize.fit(data.train.X, per_channel=True), "fitted on the new training split"


def _cosine_factor(epochs: int):
    def factor(t: int) -> float:  # 1 -> 0.01 over the run, as `train`'s cosine schedule
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(t, epochs) / epochs))

    return factor


def _finetune_schedule(name, optimizer, epochs):
    """``train``'s schedules, except that cosine scales every group's own learning rate (a
    shared floor would erase the head/backbone ratio by the end of the run)."""
    if name != "cosine":
        return _make_schedule(name, optimizer, epochs)
    from ..optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, _cosine_factor(epochs))


def finetune(args) -> int:
    import striate

    from ..data import load_dataset
    from ..models import create_model
    from ..train import Trainer, freeze, load, load_backbone, param_groups
    from ..train.transfer import head_name

    path = _checkpoint_path(args.checkpoint)
    ckpt = load(path)
    if not isinstance(ckpt, dict) or "config" not in ckpt or "model" not in ckpt:
        raise CommandError(f"{path} is not a striate training checkpoint (no config or model)")
    src = ckpt["config"]
    striate.manual_seed(args.seed)
    data = load_dataset(args.data or src["data"])
    norm, norm_from = _normalisation(src, data)
    model = create_model(src["model"], num_classes=data.num_classes, input_shape=data.input_shape)
    # the old head is excluded: the new one starts afresh (a run with --ema gives its averages)
    report = load_backbone(model, _trained_state(ckpt))
    if not report.loaded:
        raise CommandError(f"{path}: no weight of the checkpoint fits model {src['model']!r} on "
                           f"{data.name!r} ({report})")
    head = head_name(model)
    if args.freeze == "backbone":
        frozen = freeze(model, exclude=head)
    elif args.freeze and args.freeze != "none":
        try:
            frozen = freeze(model, only=[s.strip() for s in args.freeze.split(",") if s.strip()])
        except ValueError as e:
            raise CommandError(f"--freeze: {e}") from None
    else:
        frozen = 0
    head_lr = args.head_lr if args.head_lr is not None else args.lr
    backbone_lr = args.backbone_lr if args.backbone_lr is not None else head_lr / 10
    try:
        groups = param_groups(model, {"backbone": backbone_lr, "head": head_lr})
    except ValueError as e:
        raise CommandError(str(e)) from None
    config = {
        "model": src["model"],
        "data": args.data or src["data"],
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "lr": head_lr,
        "momentum": args.momentum,
        "weight_decay": args.weight_decay,
        "schedule": args.schedule,
        "grad_clip": None,
        "seed": args.seed,
        "augment": args.augment,
        "finetune": {"from": str(path), "freeze": args.freeze, "head": head, "head_lr": head_lr,
                     "backbone_lr": backbone_lr, "loaded": len(report.loaded),
                     "skipped": report.skipped},
        "normalize": norm.to_dict(),
        "classes": list(data.classes),
        "input_shape": list(data.input_shape),
    }
    optimizer = create_optimizer(args.optimizer, groups, lr=head_lr, momentum=args.momentum,
                                 weight_decay=args.weight_decay)
    scheduler = _finetune_schedule(args.schedule, optimizer, args.epochs)
    train_loader = _train_loader(data.train, norm, config)  # a bad --augment: no run folder yet
    out_dir = run_dir(args.out, args.name or f"{src['model']}-finetune-{data.name}")
    trainer = Trainer(model, optimizer, scheduler=scheduler, out_dir=out_dir, config=config,
                      progress=not args.no_progress, monitor="val_loss")
    n_train = sum(p.numel() for g in groups for p in g["params"])
    n_all = sum(p.numel() for p in model.parameters())
    print(f"striate finetune: {src['model']} from {path} on {data!r}")
    print(f"loaded {len(report.loaded)} tensors; new head {head!r} ({data.num_classes} classes); "
          f"{frozen} parameter tensors frozen; training {n_train:,} of {n_all:,} parameters "
          f"(head lr {head_lr:g}, backbone lr {backbone_lr:g}); normalisation {norm_from}")
    if report.skipped:
        print("not loaded: " + ", ".join(f"{k} ({why})" for k, why in report.skipped.items()))
    print(f"run folder: {out_dir}")
    trainer.fit(train_loader, _loader(data.val, norm, 512),
                epochs=args.epochs)
    best = out_dir / "checkpoint_best.npz"
    if best.exists():
        model.load_state_dict(load(best)["model"])
    test = trainer.evaluate(_loader(data.test, norm, 512))
    (out_dir / "test_metrics.json").write_text(json.dumps(test, indent=2) + "\n")
    print(f"test accuracy: {100 * test['accuracy']:.2f}%  (loss {test['loss']:.4f}, "
          f"{len(data.test)} images, best checkpoint)")
    return 0


def bench(args) -> int:
    from .. import benchmark

    return benchmark.run_from_args(args)


def add_parsers(sub) -> None:
    """``striate finetune`` and ``striate bench``."""
    f = sub.add_parser(
        "finetune",
        help="transfer learning: a trained model with a new head, on the same or new data",
        description="Load a checkpoint's weights into its model built for a dataset's classes, "
        "replace the head (its last Linear layer), optionally freeze the backbone, and train "
        "with separate learning rates for head and backbone. Writes a run folder as `train`.",
    )
    f.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint .npz or a run folder")
    f.add_argument("--data", default=None, help="dataset (default: the checkpoint's)")
    f.add_argument("--freeze", default="backbone", metavar="WHAT",
                   help="'backbone' (train only the new head, default), 'none', or "
                   "comma-separated module names to freeze, e.g. 'features.0,features.1'")
    f.add_argument("--lr", type=non_negative_float, default=3e-3,
                   help="learning rate of the head when --head-lr is not given (default: "
                   "%(default)s)")
    f.add_argument("--head-lr", type=non_negative_float, default=None, help="default: --lr")
    f.add_argument("--backbone-lr", type=non_negative_float, default=None,
                   help="learning rate of the unfrozen backbone (default: head lr / 10)")
    f.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS // 2,
                   help="default: %(default)s")
    f.add_argument("--batch-size", type=positive_int, default=64, help="default: %(default)s")
    add_optimizer_options(f)
    f.add_argument("--augment", default=None, metavar="LIST",
                   help="augmentations as for `striate train --augment`")
    f.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    f.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    f.add_argument("--name", default=None, help="run name (default: MODEL-finetune-DATA)")
    f.add_argument("--no-progress", action="store_true", help="no progress bars")
    f.set_defaults(handler=finetune)

    from ..benchmark import add_arguments

    b = sub.add_parser(
        "bench",
        help="time training steps and inference against PyTorch (needs the reference extra)",
        description="Time a full training step (forward, backward, SGD step; float32) and "
        "inference of striate and PyTorch on the same machine with the same threads, and print "
        "milliseconds and the ratio striate/PyTorch (medians of interleaved rounds).",
    )
    add_arguments(b)
    b.set_defaults(handler=bench)

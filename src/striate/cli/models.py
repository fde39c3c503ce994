"""``striate models``: every model of the registry with its parameter count and the
multiply-adds of one forward pass at a given input size.

Models are built without initialising their weights (``striate.models.stats.skip_init``) and
costed by shape inference, so the whole table, VGG-19 included, takes seconds.
"""

from __future__ import annotations

import argparse

from . import CommandError, model_name, positive_int


def input_size(text: str) -> tuple[int, int, int]:
    """argparse type: ``CxHxW`` (``3x224x224``) or ``HxW`` (3 channels)."""
    parts = text.lower().split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if len(dims) == 2:
        dims = (3,) + dims
    if len(dims) != 3 or min(dims) < 1:
        raise argparse.ArgumentTypeError(
            f"expected CxHxW or HxW with positive sizes (e.g. 3x224x224), got {text!r}")
    return dims


def models(args) -> int:
    from ..models import list_models
    from ..models.stats import format_count, model_stats
    from ..models.zoo import TORCHVISION_PARAMS

    names = args.names or list_models()
    for name in names:
        try:
            model_name(name)
        except argparse.ArgumentTypeError as e:
            raise CommandError(str(e).replace("; `striate models` lists them", "")) from None
    shape = args.input_size
    rows = []
    for name in names:
        try:
            s = model_stats(name, args.num_classes, shape)
        except (ValueError, TypeError) as e:  # the input is too small for this architecture
            rows.append((name, "-", "-", " ".join(str(e).split())[:60]))
            continue
        note = ""
        if name in TORCHVISION_PARAMS and args.num_classes == 1000:
            if s["params"] == TORCHVISION_PARAMS[name]:
                note = "= torchvision"
        rows.append((name, f"{s['params']:,}", format_count(s["macs"]), note))
    head = ("model", "parameters", "MACs", "")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    c, h, w = shape
    print(f"input {c}x{h}x{w}, {args.num_classes} classes; MACs = multiply-adds of conv and "
          "linear layers for one image")
    print(f"{head[0]:<{widths[0]}}  {head[1]:>{widths[1]}}  {head[2]:>{widths[2]}}")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip())
    return 0


def add_parsers(sub) -> None:
    """``striate models``."""
    p = sub.add_parser(
        "models", help="list the models with their parameter counts and multiply-adds",
        description="List every registered model (or the NAMEs given) with its parameter count "
        "and the multiply-adds of one forward pass; ImageNet-size inputs give the ImageNet "
        "layouts, inputs of at most 64 pixels a side the small-input variants.")
    p.add_argument("names", nargs="*", metavar="NAME", help="models to list (default: all)")
    p.add_argument("--input-size", type=input_size, default=(3, 224, 224),
                   help="CxHxW of one image (default: 3x224x224)")
    p.add_argument("--num-classes", type=positive_int, default=1000,
                   help="default: %(default)s")
    p.set_defaults(handler=models)

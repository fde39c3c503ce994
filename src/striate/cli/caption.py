"""``striate caption train|sample|evaluate`` and ``striate vqa train|evaluate``.

A caption run folder holds ``config.json`` (the model, the data and the vocabulary),
``metrics.csv``, ``loss.png``, ``checkpoint_best.npz`` / ``checkpoint_last.npz``,
``test_metrics.json`` (BLEU-1..4 on the test split), ``samples.txt`` and, for the attention
model, ``attention.png``. The data are rebuilt from the config: the synthetic shapes from their
seed, COCO from the files the config names.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import CommandError, non_negative_float, positive_int, run_dir
from .train import _checkpoint_path


def _load_data(config: dict):
    spec = config["data"]
    if spec == "shapes":
        from ..caption.shapes import make_shapes

        return make_shapes(config["n_train"], config["n_val"], config["n_test"],
                           config["image_size"], config["data_seed"])
    if spec.startswith("coco:"):
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise CommandError(f"--data coco needs coco:ANNOTATIONS_JSON:IMAGE_DIR, got {spec!r}")
        from ..caption.coco import load_coco

        return load_coco(parts[1], parts[2], image_size=config["image_size"],
                         max_images=config.get("max_images"))
    raise CommandError(f"unknown --data {spec!r}; use 'shapes' or "
                       "'coco:ANNOTATIONS_JSON:IMAGE_DIR'")


def _load_run(run):
    from ..caption.model import build_captioner
    from ..caption.shapes import Vocabulary
    from ..train import load

    path = _checkpoint_path(run)
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("config", {}).get("kind") != "caption":
        raise CommandError(f"{path} is not a striate caption checkpoint")
    config = ckpt["config"]
    vocab = Vocabulary.from_dict(config["vocab"])
    model = build_captioner(config, len(vocab), tuple(config["image_shape"]))
    model.load_state_dict(ckpt["model"])
    return path, config, vocab, model


def _write_attention(out_dir: Path, model, data, vocab, n: int = 6):
    """attention.png for the first n test images, and for the synthetic data the mean share of
    attention on the shape a word names and that share under uniform attention (see
    :func:`_named_mass`; NaN for other data)."""
    from ..autograd.tensor import Tensor
    from ..caption.viz import draw_attention

    images = data.test.images[:200]
    ids, att = model.greedy(Tensor(images), data.max_length + 2, return_attention=True)
    words = [vocab.decode_words(row) for row in ids]
    path = draw_attention(out_dir / "attention.png", images[:n], words[:n], att[:n],
                          model.feature_grid, title="greedy captions; bright = attended")
    if not data.test.scenes:
        return path, float("nan"), float("nan")
    return (path, *_named_mass(model, data, words, att))


def _named_mass(model, data, words, att) -> tuple[float, float]:
    """Mean share of attention on the named shape's box, at the steps that emit a shape word
    whose colour (the word before) and shape identify one object of the scene (the weights of
    the step that emits word t are att[:, t]), and the same share for uniform weights."""
    import numpy as np

    from ..caption.viz import attention_mass

    size = data.test.images.shape[2:]
    uniform = np.full(att.shape[2], 1.0 / att.shape[2])
    shares, chance = [], []
    for i, ws in enumerate(words):
        for t in range(1, len(ws)):
            match = [o for o in data.test.scenes[i]
                     if o["shape"] == ws[t] and o["colour"] == ws[t - 1]]
            if len(match) == 1:
                shares.append(attention_mass(att[i, t], model.feature_grid, size, match[0]))
                chance.append(attention_mass(uniform, model.feature_grid, size, match[0]))
    if not shares:
        return float("nan"), float("nan")
    return float(np.mean(shares)), float(np.mean(chance))


def caption_train(args) -> int:
    import striate

    from ..caption.model import build_captioner
    from ..caption.training import evaluate_bleu, train_captioner
    from ..train.history import write_json

    config = {
        "kind": "caption", "data": args.data, "attention": args.attention, "cell": args.cell,
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "lr_decay": args.lr_decay, "grad_clip": args.grad_clip, "hidden_dim": args.hidden,
        "wordvec_dim": args.wordvec, "attention_dim": args.hidden // 2,
        "channels": [int(c) for c in args.channels.split(",")], "seed": args.seed,
        "n_train": args.n_train, "n_val": args.n_val, "n_test": args.n_test,
        "image_size": args.image_size, "data_seed": args.data_seed,
        "max_images": args.max_images, "val_images": args.val_images,
    }
    if args.attention and args.cell != "lstm":
        raise CommandError("--attention uses an LSTM decoder; drop --cell rnn")
    striate.manual_seed(args.seed)
    data = _load_data(config)
    config.update(vocab=data.vocab.to_dict(), image_shape=list(data.image_shape),
                  max_length=data.max_length)
    model = build_captioner(config, len(data.vocab), data.image_shape)
    name = args.name or ("attention" if args.attention else f"caption-{args.cell}") + \
        f"-{args.data.split(':')[0]}"
    out = run_dir(args.out, name)
    out.mkdir(parents=True, exist_ok=True)  # run_dir made it
    write_json(str(out / "config.json"), config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"striate caption train: {type(model).__name__} ({n_params:,} parameters) on {data!r}")
    print(f"run folder: {out}")
    start = time.perf_counter()
    train_captioner(model, data, config, out_dir=out, log=print)
    seconds = time.perf_counter() - start
    _, _, _, model = _load_run(out)  # the best checkpoint
    scores, hyps = evaluate_bleu(model, data.test, data.vocab, 1, data.max_length + 2)
    result = {"split": "test", "decoder": "greedy", **scores, "train_seconds": seconds}
    lines = [f"{h}  |  {' / '.join(data.test.captions[i])}" for i, h in enumerate(hyps[:20])]
    (out / "samples.txt").write_text("generated  |  references\n" + "\n".join(lines) + "\n")
    if args.attention:
        path, share, chance = _write_attention(out, model, data, data.vocab)
        result["attention_on_named_shape"] = share
        result["attention_on_named_shape_if_uniform"] = chance
        print(f"attention maps: {path}; when a shape word is emitted, {100 * share:.0f}% of the "
              f"attention is on that shape's box (uniform attention: {100 * chance:.0f}%)")
    write_json(str(out / "test_metrics.json"), result)
    bleu = "  ".join(f"BLEU-{n} {scores[f'bleu{n}']:.3f}" for n in range(1, 5))
    print(f"test BLEU (greedy): {bleu}  (trained in {seconds:.0f} s)")
    return 0


def caption_sample(args) -> int:
    from ..autograd.tensor import Tensor

    path, config, vocab, model = _load_run(args.run)
    data = _load_data(config)
    split = getattr(data, args.split)
    n = min(args.n, len(split))
    x = Tensor(split.images[:n])
    ids = model.greedy(x, data.max_length + 2) if args.beam == 1 else \
        model.beam_search(x, args.beam, data.max_length + 2)
    decoder = "greedy" if args.beam == 1 else f"beam {args.beam}"
    print(f"{path}: {n} {args.split} images, {decoder}")
    for i, row in enumerate(ids):
        print(f"{i:3d}  {vocab.decode(row)}\n     reference: {split.captions[i][0]}")
    if config.get("attention"):
        from ..caption.viz import draw_attention

        images = split.images[:n]
        gids, att = model.greedy(Tensor(images), data.max_length + 2, return_attention=True)
        words = [vocab.decode_words(row) for row in gids]
        out = Path(args.output) if args.output else Path(path).parent / "attention.png"
        draw_attention(out, images, words, att, model.feature_grid,
                       title="greedy captions; bright = attended")
        print(f"attention maps (greedy captions): {out}")
    return 0


def caption_evaluate(args) -> int:
    from ..caption.training import evaluate_bleu

    path, config, vocab, model = _load_run(args.run)
    data = _load_data(config)
    split = getattr(data, args.split)
    scores, _ = evaluate_bleu(model, split, vocab, args.beam, data.max_length + 2)
    decoder = "greedy" if args.beam == 1 else f"beam {args.beam}"
    print(f"{path}: {args.split} split, {len(split)} images, {decoder}")
    print("  ".join(f"BLEU-{n} {scores[f'bleu{n}']:.4f}" for n in range(1, 5)))
    return 0


def vqa_train(args) -> int:
    import striate

    from ..caption.vqa import VQAModel, evaluate_vqa, question_vocab, train_vqa, vqa_data
    from ..train.history import write_csv, write_json

    striate.manual_seed(args.seed)
    config = {"kind": "vqa", "data": "shapes", "n_train": args.n_train, "n_val": args.n_val,
              "n_test": args.n_test, "image_size": args.image_size, "data_seed": args.data_seed,
              "per_image": args.per_image, "epochs": args.epochs, "lr": args.lr,
              "batch_size": args.batch_size, "hidden_dim": args.hidden, "seed": args.seed}
    data = _load_data(config)
    train, val, test = vqa_data(data, args.per_image, args.data_seed)
    vocab = question_vocab()
    model = VQAModel(len(vocab), image_shape=data.image_shape, hidden_dim=args.hidden)
    out = run_dir(args.out, args.name or "vqa-shapes")
    out.mkdir(parents=True, exist_ok=True)  # run_dir made it
    write_json(str(out / "config.json"), config)
    print(f"striate vqa train: {len(train)} questions on {len(data.train)} images; run folder "
          f"{out}")
    start = time.perf_counter()
    history = train_vqa(model, train, val, vocab, args.epochs, args.batch_size, args.lr)
    write_csv(str(out / "metrics.csv"), history)
    from ..caption.training import save_captioner

    save_captioner(out / "checkpoint_last.npz", model, config)
    result = evaluate_vqa(model, test, vocab)
    result["train_seconds"] = time.perf_counter() - start
    write_json(str(out / "test_metrics.json"), result)
    print(_vqa_report(result, len(test)))
    return 0


def _vqa_report(result: dict, n: int) -> str:
    per = ", ".join(f"{k[9:]} {100 * v:.1f}%" for k, v in result.items()
                    if k.startswith("accuracy_"))
    return f"test accuracy: {100 * result['accuracy']:.2f}% of {n} questions ({per})"


def vqa_evaluate(args) -> int:
    from ..caption.vqa import VQAModel, evaluate_vqa, question_vocab, vqa_data
    from ..train import load

    path = _checkpoint_path(args.run)
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("config", {}).get("kind") != "vqa":
        raise CommandError(f"{path} is not a striate vqa checkpoint")
    config = ckpt["config"]
    data = _load_data(config)
    splits = dict(zip(("train", "val", "test"),
                      vqa_data(data, config["per_image"], config["data_seed"])))
    vocab = question_vocab()
    model = VQAModel(len(vocab), image_shape=data.image_shape, hidden_dim=config["hidden_dim"])
    model.load_state_dict(ckpt["model"])
    result = evaluate_vqa(model, splits[args.split], vocab)
    print(f"{path}: {args.split} split")
    print(_vqa_report(result, len(splits[args.split])))
    return 0


def _shapes_args(p, n_train: int) -> None:
    p.add_argument("--n-train", type=positive_int, default=n_train,
                   help="synthetic training images (default: %(default)s)")
    p.add_argument("--n-val", type=positive_int, default=500, help="default: %(default)s")
    p.add_argument("--n-test", type=positive_int, default=500, help="default: %(default)s")
    p.add_argument("--image-size", type=positive_int, default=32,
                   help="image side in pixels (default: %(default)s)")
    p.add_argument("--data-seed", type=int, default=0,
                   help="seed of the synthetic data (default: %(default)s)")


def add_parsers(sub) -> None:
    """``striate caption ...`` and ``striate vqa ...``."""
    c = sub.add_parser("caption", help="image captioning (CNN + LSTM, with attention)",
                       description="Image captioning on synthetic shapes or COCO-format data.")
    csub = c.add_subparsers(dest="caption_command", metavar="SUBCOMMAND", required=True)
    t = csub.add_parser("train", help="train a captioner and write a run folder")
    t.add_argument("--attention", action="store_true", help="soft attention over the feature map")
    t.add_argument("--data", default="shapes",
                   help="'shapes' (synthetic, default) or 'coco:ANNOTATIONS_JSON:IMAGE_DIR'")
    t.add_argument("--epochs", type=positive_int, default=10, help="default: %(default)s")
    t.add_argument("--batch-size", type=positive_int, default=64, help="default: %(default)s")
    t.add_argument("--lr", type=non_negative_float, default=2e-3, help="default: %(default)s")
    t.add_argument("--lr-decay", type=non_negative_float, default=0.9,
                   help="learning-rate factor per epoch (default: %(default)s)")
    t.add_argument("--grad-clip", type=non_negative_float, default=5.0,
                   help="gradient norm clip, 0 = off (default: %(default)s)")
    t.add_argument("--cell", choices=["lstm", "rnn"], default="lstm", help="default: lstm")
    t.add_argument("--hidden", type=positive_int, default=128, help="default: %(default)s")
    t.add_argument("--wordvec", type=positive_int, default=32, help="default: %(default)s")
    t.add_argument("--channels", default="16,32,64",
                   help="encoder conv widths (default: %(default)s)")
    t.add_argument("--max-images", type=positive_int, default=None,
                   help="read at most this many COCO images")
    t.add_argument("--val-images", type=positive_int, default=200,
                   help="validation images captioned after each epoch (default: %(default)s)")
    t.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    t.add_argument("--out", default="runs", help="default: %(default)s")
    t.add_argument("--name", default=None, help="run name")
    _shapes_args(t, 4000)
    t.set_defaults(handler=caption_train)
    s = csub.add_parser("sample", help="caption images of a split with a trained run")
    s.add_argument("run", metavar="RUN", help="run folder or checkpoint")
    s.add_argument("--beam", type=positive_int, default=1, help="beam size (1 = greedy)")
    s.add_argument("--n", type=positive_int, default=8, help="images (default: %(default)s)")
    s.add_argument("--split", choices=["train", "val", "test"], default="test")
    s.add_argument("--output", default=None,
                   help="attention PNG (attention runs; default: RUN/attention.png)")
    s.set_defaults(handler=caption_sample)
    e = csub.add_parser("evaluate", help="BLEU-1..4 of a trained run on a split")
    e.add_argument("run", metavar="RUN", help="run folder or checkpoint")
    e.add_argument("--beam", type=positive_int, default=1, help="beam size (1 = greedy)")
    e.add_argument("--split", choices=["train", "val", "test"], default="test")
    e.set_defaults(handler=caption_evaluate)

    v = sub.add_parser("vqa", help="visual question answering on synthetic shapes",
                       description="Questions about synthetic shapes images, one-word answers.")
    vsub = v.add_subparsers(dest="vqa_command", metavar="SUBCOMMAND", required=True)
    vt = vsub.add_parser("train", help="train the CNN + LSTM question answerer")
    vt.add_argument("--epochs", type=positive_int, default=10, help="default: %(default)s")
    vt.add_argument("--batch-size", type=positive_int, default=64, help="default: %(default)s")
    vt.add_argument("--lr", type=non_negative_float, default=2e-3, help="default: %(default)s")
    vt.add_argument("--hidden", type=positive_int, default=128, help="default: %(default)s")
    vt.add_argument("--per-image", type=positive_int, default=4,
                    help="questions per image (default: %(default)s)")
    vt.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    vt.add_argument("--out", default="runs", help="default: %(default)s")
    vt.add_argument("--name", default=None, help="run name")
    _shapes_args(vt, 3000)
    vt.set_defaults(handler=vqa_train)
    ve = vsub.add_parser("evaluate", help="accuracy of a trained VQA run")
    ve.add_argument("run", metavar="RUN", help="run folder or checkpoint")
    ve.add_argument("--split", choices=["train", "val", "test"], default="test")
    ve.set_defaults(handler=vqa_evaluate)


"""``striate charnn train`` and ``striate charnn sample``: a character-level LSTM language model.

``train`` reads a text file (``--text``), or by default the Python standard library's own sources,
and writes a run folder ``<out>/<date>-charnn/`` with ``config.json``, ``metrics.csv``,
``loss.png``, ``samples.txt`` (samples at intervals, to watch them improve) and
``checkpoint_last.npz``. ``sample`` loads a run and prints generated text.
"""

from __future__ import annotations

from pathlib import Path

from . import CommandError, non_negative_float, positive_int, run_dir


def _train(args) -> int:
    from ..text import read_corpus
    from ..text.charnn import train_charnn

    if args.minutes is None and args.steps is None:
        args.minutes = 5.0
    if args.text is not None and not Path(args.text).is_file():
        raise CommandError(f"--text: no such file: {args.text}")
    text = read_corpus(args.text, args.max_chars)
    if len(text) < 2 * (args.seq_len + 2):
        raise CommandError(f"--text: {len(text)} characters is too short for --seq-len "
                           f"{args.seq_len}")
    out_dir = run_dir(args.out, args.name)
    source = args.text or "the Python standard library's sources"
    print(f"corpus: {source}")
    final = train_charnn(
        text, str(out_dir), steps=args.steps, minutes=args.minutes, seq_len=args.seq_len,
        batch_size=args.batch_size, hidden=args.hidden, embed_dim=args.embed, layers=args.layers,
        lr=args.lr, clip=args.grad_clip or None, sample_every=args.sample_every,
        sample_length=args.sample_length, seed_text=args.seed_text, seed=args.seed)
    print(f"run folder: {out_dir}  (final val loss {final['val_loss']:.3f} nats/char)")
    return 0


def _sample(args) -> int:
    from .. import backend
    from ..text.charnn import load_charnn, sample

    try:
        model, vocab, _ = load_charnn(args.run)
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None
    backend.manual_seed(args.seed)
    if args.seed_text == "":
        raise CommandError("--seed-text must not be empty")
    print(sample(model, vocab, args.length, args.seed_text, args.temperature, args.greedy))
    return 0


def add_parsers(sub) -> None:
    """``striate charnn train|sample``."""
    p = sub.add_parser("charnn", help="character-level LSTM language model (train, sample)",
                       description="Train a character-level LSTM on a text file (default: the "
                       "Python standard library's sources) or sample from a trained run.")
    cmds = p.add_subparsers(dest="charnn_command", metavar="{train,sample}")
    p.set_defaults(handler=lambda a: p.print_help() or 0)

    t = cmds.add_parser("train", help="train on a text file and write a run folder")
    t.add_argument("--text", default=None,
                   help="a UTF-8 text file (default: the Python standard library's .py sources)")
    t.add_argument("--max-chars", type=positive_int, default=3_000_000,
                   help="read at most this many characters (default: %(default)s)")
    stop = t.add_mutually_exclusive_group()
    stop.add_argument("--minutes", type=non_negative_float, default=None,
                      help="train for this many minutes (default: 5 unless --steps)")
    stop.add_argument("--steps", type=positive_int, default=None, help="train for N updates")
    t.add_argument("--seq-len", type=positive_int, default=64,
                   help="characters per training sequence (default: %(default)s)")
    t.add_argument("--batch-size", type=positive_int, default=32, help="default: %(default)s")
    t.add_argument("--hidden", type=positive_int, default=256,
                   help="LSTM hidden units (default: %(default)s)")
    t.add_argument("--embed", type=positive_int, default=64,
                   help="character embedding size (default: %(default)s)")
    t.add_argument("--layers", type=positive_int, default=2,
                   help="LSTM layers (default: %(default)s)")
    t.add_argument("--lr", type=non_negative_float, default=2e-3,
                   help="Adam learning rate (default: %(default)s)")
    t.add_argument("--grad-clip", type=non_negative_float, default=5.0,
                   help="clip the gradient norm to this; 0 turns it off (default: %(default)s)")
    t.add_argument("--sample-every", type=positive_int, default=200,
                   help="steps between samples, checkpoints and loss records "
                   "(default: %(default)s)")
    t.add_argument("--sample-length", type=positive_int, default=300, help="default: %(default)s")
    t.add_argument("--seed-text", default="def ",
                   help="text the samples start from (default: %(default)r)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    t.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    t.add_argument("--name", default="charnn", help="run folder name (default: %(default)s)")
    t.set_defaults(handler=_train)

    s = cmds.add_parser("sample", help="generate text from a trained run")
    s.add_argument("run", help="a run folder of `striate charnn train` (or its checkpoint file)")
    s.add_argument("--length", type=positive_int, default=500,
                   help="characters to generate (default: %(default)s)")
    s.add_argument("--temperature", type=non_negative_float, default=0.8,
                   help="softmax temperature, > 0 (default: %(default)s)")
    s.add_argument("--seed-text", default="def ",
                   help="text to start from (default: %(default)r)")
    s.add_argument("--greedy", action="store_true", help="always take the most likely character")
    s.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    s.set_defaults(handler=_sample)

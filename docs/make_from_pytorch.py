"""Recompute the "still missing" lists of docs/from-pytorch.md against the installed PyTorch.

    PYTHONPATH=src python docs/make_from_pytorch.py          # rewrites the marked section
    PYTHONPATH=src python docs/make_from_pytorch.py --print  # prints it instead

Compares names only (a name that exists may still lack an option): the public functions of
``torch.nn.functional``, the ``Module`` classes of ``torch.nn``, the distributions of
``torch.distributions``, the methods of ``torch.Tensor`` (in-place ``*_`` forms left out) and the
functions of ``torch.__all__``, leaving out internals and families striate does not aim at
(quantisation, sparse and complex tensors, cuDNN/MKL-DNN entry points, TorchScript, FFT windows
stay in the list when public). Needs the ``reference`` extra (PyTorch).
"""

from __future__ import annotations

import argparse
import inspect
import pathlib
import re
import sys

import striate.nn.functional as SF
import torch
import torch.distributions as TD
import torch.nn as tnn
import torch.nn.functional as TF

import striate
import striate.distributions as SD
import striate.nn as snn

DOC = pathlib.Path(__file__).parent / "from-pytorch.md"
START, END = "<!-- missing:start -->", "<!-- missing:end -->"

# torch.__all__ names that are internals, aliases of the layer functions (listed under
# nn.functional), or families outside striate's scope
_INTERNAL = re.compile(
    r"^(_|quantize|fake_quant|fbgemm|mkldnn|cudnn|miopen|sparse|q_|native_|is_|set_|get_|use_|"
    r"conv_tbc|batch_norm_|dsplit|hsplit|vsplit|segment_reduce|fused_|choose_qparams|nested|"
    r"slice_|select_|as_strided|.*_copy$|.*_scatter$|resolve_|promote_types|result_type|"
    r"can_cast|compile|cond|vmap|export|autocast|jit|sym_|unify|typename|from_dlpack|"
    r"frombuffer|from_file|load|save|empty_strided|empty_permuted|constant_pad_nd|rnn_|"
    r"lstm_cell|gru_cell|lstm$|gru$|embedding_renorm_|bilinear|cosine_embedding|"
    r"hinge_embedding|kl_div|margin_ranking|poisson_nll|triplet|ctc_loss|pixel_|pdist|prelu|"
    r"rrelu|selu|celu|hardshrink|threshold|alpha_dropout|feature_|dropout|adaptive_|avg_pool|"
    r"max_pool|conv|instance_norm|layer_norm|group_norm|embedding|affine_grid|grid_sampler|"
    r"import_ir|parse_|merge_type|fork$|wait$|dequantize|int_repr|empty_quantized|hspmm|"
    r"sspaddmm|smm$|dsmm|hsmm|saddmm|spmm|clear_autocast|thread_safe|init_num_threads)")


def _missing(names, have) -> list[str]:
    return sorted(n for n in names if not hasattr(have, n))


def functional() -> list[str]:
    return _missing([n for n, o in vars(TF).items() if not n.startswith("_") and callable(o)
                     and not inspect.isclass(o)
                     and (getattr(o, "__module__", "") or "").startswith("torch.nn.functional")],
                    SF)


def modules() -> list[str]:
    return _missing([n for n in dir(tnn) if not n.startswith("_")
                     and inspect.isclass(getattr(tnn, n)) and issubclass(getattr(tnn, n),
                                                                         tnn.Module)], snn)


def distributions() -> list[str]:
    return _missing([n for n in dir(TD) if not n.startswith("_")
                     and inspect.isclass(getattr(TD, n))
                     and issubclass(getattr(TD, n), TD.Distribution)], SD)


def tensor_methods() -> list[str]:
    return _missing([n for n in dir(torch.Tensor) if not n.startswith("_")
                     and not n.endswith("_")], striate.Tensor)


def top_level() -> list[str]:
    return _missing([n for n in torch.__all__ if callable(getattr(torch, n, None))
                     and not inspect.isclass(getattr(torch, n)) and not n.endswith("_")
                     and not _INTERNAL.match(n)], striate)


def _block(title: str, names: list[str]) -> str:
    lines, line = [], ""
    title = f"{title} ({len(names)})"
    for n in names:
        item = f"`{n}`"
        if len(line) + len(item) + 1 > 96:
            lines.append(line)
            line = ""
        line = f"{line} {item}" if line else item
    if line:
        lines.append(line)
    body = "\n  ".join(lines) if lines else "(none)"
    return f"- {title}:\n  {body}"


def section() -> str:
    parts = [
        "Computed by `docs/make_from_pytorch.py` against PyTorch "
        f"{torch.__version__.split('+')[0]} (names only: a name that exists may still lack an "
        "option).",
        "",
        _block("`torch.nn.functional`", functional()),
        _block("`torch.nn` modules", modules()),
        _block("`torch.distributions`", distributions()),
        _block("`torch` functions, leaving out internals, quantised/sparse/complex entry "
               "points and aliases of `nn.functional`", top_level()),
        _block("`Tensor` methods, out-of-place names (most in-place `*_` forms are missing "
               "too)", tensor_methods()),
    ]
    return "\n".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--print", action="store_true", help="print the section, change nothing")
    args = ap.parse_args(argv)
    text = section()
    if args.print:
        print(text)
        return 0
    doc = DOC.read_text()
    if START not in doc or END not in doc:
        print(f"{DOC}: the markers {START} / {END} are missing", file=sys.stderr)
        return 1
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

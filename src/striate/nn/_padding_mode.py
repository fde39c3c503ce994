"""``padding_mode`` of ``Conv1d`` / ``Conv2d``: "zeros" pads inside the convolution; "reflect",
"replicate" and "circular" pad the input first with ``F.pad`` and convolve it unpadded, as
PyTorch does."""

from __future__ import annotations

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def check_padding_mode(mode, owner: str) -> str:
    if mode not in PADDING_MODES:
        raise ValueError(f"{owner}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    return mode


def reversed_padding(padding, kernel_size: tuple, dilation: tuple) -> tuple:
    """The (left, right) pairs for ``F.pad``, last dim first, of a convolution's ``padding``
    (a tuple, "valid" or "same": total ``dilation * (kernel - 1)``, the extra one on the
    right, as PyTorch splits it)."""
    out = []
    for i in reversed(range(len(kernel_size))):
        if padding == "valid":
            left = right = 0
        elif padding == "same":
            total = dilation[i] * (kernel_size[i] - 1)
            left, right = total // 2, total - total // 2
        else:
            left = right = padding[i]
        out += [left, right]
    return tuple(out)

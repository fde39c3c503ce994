"""``striate.device``: a device name, as ``torch.device``.

A device is a ``str`` (``"cpu"``, ``"cuda"``, ``"cuda:0"``), so it goes wherever a device string
does: ``t.to(device)``, ``model.to(device)``, ``striate.load(path, map_location=device)``.
"""

from __future__ import annotations

__all__ = ["device"]


class device(str):  # noqa: N801 - PyTorch's name
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 1)``.

    Attributes:
        type: ``"cpu"`` or ``"cuda"``.
        index: the GPU number, or None.

    Example:
        >>> import striate
        >>> d = striate.device("cuda" if striate.cuda.is_available() else "cpu")
        >>> striate.ones(2).to(d).device in ("cpu", "cuda")
        True
    """

    def __new__(cls, type: str, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a str such as 'cpu' or 'cuda:0', got "
                            f"{type.__class__.__name__}")
        kind, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device: index given twice ({type!r} and index={index})")
            if not number.isdigit():
                raise ValueError(f"device: bad device index in {type!r}")
            index = int(number)
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"device: type must be 'cpu' or 'cuda', got {kind!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be an int >= 0, got {index!r}")
        self = super().__new__(cls, kind if index is None else f"{kind}:{index}")
        self.type, self.index = kind, index
        return self

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

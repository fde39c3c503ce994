"""``Module``: the base class of every layer and model.

Parameters, buffers and sub-modules are registered by attribute assignment into ordered dicts
(``self.fc = Linear(4, 3)``), so ``named_parameters()`` and ``state_dict()`` come out in the order
they were assigned, every run. ``module(x)`` runs the forward pre-hooks, ``forward`` and the
forward hooks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from . import backward_hooks as _backward_hooks
from . import global_hooks as _global
from ._state import load_into
from .hooks import RemovableHandle
from .parameter import Parameter

__all__ = ["Module", "RemovableHandle"]


def _check_name(name, what: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f"{what} name must not be empty")
    if "." in name:
        raise KeyError(f"{what} name must not contain a dot, got {name!r}")


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _with_global(global_hooks: dict, own: dict) -> list:
    """The (id, hook) pairs to run: the global ones first, then the module's (a copy, so a hook
    may remove itself)."""
    if global_hooks:
        return [*global_hooks.items(), *own.items()]
    return list(own.items())


class Module:
    """Base class of layers and models: subclass it, assign layers and Parameters in
    ``__init__`` (after ``super().__init__()``), and define ``forward``.

    Example:
        >>> import striate
        >>> from striate import nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1 = nn.Linear(4, 8)
        ...         self.fc2 = nn.Linear(8, 3)
        ...     def forward(self, x):
        ...         return self.fc2(self.fc1(x).relu())
        >>> [name for name, _ in Net().named_parameters()]
        ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    training: bool

    def __init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_backward_hooks", OrderedDict())
        set_(self, "_backward_pre_hooks", OrderedDict())
        set_(self, "_is_full_backward_hook", None)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ---- registration -------------------------------------------------------------------------

    def _check_registration(self, kind: str, store: str, name: str, value, cls,
                            cls_name: str) -> None:
        """The checks shared by ``register_parameter`` and ``register_buffer``."""
        if store not in self.__dict__:
            raise AttributeError(
                f"cannot assign {kind} '{name}' before Module.__init__() call; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        _check_name(name, kind)
        if hasattr(self, name) and name not in self.__dict__[store]:
            raise KeyError(f"attribute '{name}' already exists")
        if value is not None and not isinstance(value, cls):
            raise TypeError(
                f"cannot assign '{type(value).__name__}' object to {kind} '{name}' "
                f"({cls_name} or None required)"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._check_registration("parameter", "_parameters", name, param, Parameter,
                                 "striate.nn.Parameter")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a Tensor that is state but not learnable (BatchNorm's running mean).

        Persistent buffers are saved in ``state_dict``; all follow ``to()`` and ``double()``.
        """
        self._check_registration("buffer", "_buffers", name, tensor, Tensor, "striate.Tensor")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under ``name`` (as ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        _check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(
                    f"cannot assign parameter '{name}' before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            if name in params:
                params[name] = value  # a re-assignment keeps its place, as in PyTorch
                return
            self._forget(name)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(striate.nn.Parameter or None expected)"
                )
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError(
                    f"cannot assign module '{name}' before Module.__init__() call; "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            if name not in modules:  # a re-assigned sub-module keeps its place, as in PyTorch
                self._forget(name)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(striate.nn.Module or None expected)"
                )
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(striate.Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry (a re-assignment may change its kind)."""
        self.__dict__.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            self.__dict__[key].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        # only called when normal lookup fails; read __dict__ directly so that unpickling and
        # deepcopy (which probe attributes before __dict__ is filled) never recurse here
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            registry = d.get(key)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            registry = d.get(key)
            if registry is not None and name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__())
        for key in ("_parameters", "_buffers", "_modules"):
            keys += list(self.__dict__.get(key, ()))
        return sorted(set(keys))

    # ---- traversal ----------------------------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module (name ``prefix``) and every descendant, depth first;
        a module reachable twice is given once unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct sub-modules, in registration order."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        if recurse:
            mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            mods = [(prefix, self)]
        seen = set()
        for mod_prefix, mod in mods:
            for name, t in mod.__dict__[registry].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs, e.g. ``('features.0.weight', w)``; a parameter
        shared by two modules is given once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path such as ``'features.0'`` (``''`` is this module)."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            child = mod._modules.get(part)
            if not isinstance(child, Module):
                raise AttributeError(  # noqa: TRY004 - PyTorch raises AttributeError here
                    f"get_submodule: {type(mod).__name__} has no sub-module '{part}' "
                    f"(looking up '{target}')"
                )
            mod = child
        return mod

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch ``requires_grad`` on every parameter (False freezes the module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0

    # ---- calling ------------------------------------------------------------------------------

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a returned value (a tuple, or one value
        that is wrapped in a tuple) replaces the positional arguments. With ``with_kwargs``,
        ``hook(module, args, kwargs)`` may return ``(new_args, new_kwargs)``."""
        handle = self._add_hook("_forward_pre_hooks", hook, prepend)
        if with_kwargs:
            self._hook_flags()[handle.id] = ("kwargs",)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward``; a returned value replaces the
        output. Handy to record activations for visualisation. With ``with_kwargs``,
        ``hook(module, args, kwargs, output)``; with ``always_call``, it also runs (with output
        None) when forward raises, before the exception goes on."""
        handle = self._add_hook("_forward_hooks", hook, prepend)
        if with_kwargs or always_call:
            self._hook_flags()[handle.id] = ("kwargs",) * with_kwargs + ("always",) * always_call
        return handle

    def _hook_flags(self) -> dict:
        """{forward hook id: its options} for the hooks registered with options."""
        flags = self.__dict__.get("_forward_hook_flags")
        if flags is None:
            flags = {}
            object.__setattr__(self, "_forward_hook_flags", flags)
        return flags

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients w.r.t. the module's
        positional inputs are computed (or, if no input requires grad, w.r.t. its outputs); a
        returned tuple replaces ``grad_input``. Entries are None for non-Tensor arguments.

        The module's forward then receives views of its tensor inputs and the caller views of
        its outputs: changing either in place while recording the graph raises, as in PyTorch.
        See ``striate.nn.backward_hooks``."""
        if self.__dict__.get("_is_full_backward_hook") is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        object.__setattr__(self, "_is_full_backward_hook", True)
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients w.r.t. the module's outputs are
        computed; a returned tuple (or one Tensor) replaces ``grad_output``."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated (as in PyTorch): ``hook(module, grad_input, grad_output)`` runs on the node
        that made the module's first output, so ``grad_input`` holds *that node's* input
        gradients. Use :meth:`register_full_backward_hook` for the documented behaviour."""
        if self.__dict__.get("_is_full_backward_hook") is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        object.__setattr__(self, "_is_full_backward_hook", False)
        return self._add_hook("_backward_hooks", hook, False)

    def _add_hook(self, store: str, hook: Callable, prepend: bool) -> RemovableHandle:
        hooks = self.__dict__.get(store)
        if hooks is None:  # a module unpickled from before backward hooks existed
            hooks = OrderedDict()
            object.__setattr__(self, store, hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def __call__(self, *args, **kwargs):
        flags = self.__dict__.get("_forward_hook_flags") or {}
        if _global.flags:
            flags = {**_global.flags, **flags}
        for hook_id, hook in _with_global(_global.forward_pre_hooks, self._forward_pre_hooks):
            if "kwargs" in flags.get(hook_id, ()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        bw_hook = non_full = None
        if (self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks")
                or _global.backward_hooks or _global.backward_pre_hooks):
            bw_hook, non_full = _backward_hooks.setup(self, args)
            if bw_hook is not None:
                args = bw_hook.setup_input_hook(args)
        if not flags:
            output = self.forward(*args, **kwargs)
        else:
            output = self._forward_always_calling(flags, args, kwargs)
        for hook_id, hook in _with_global(_global.forward_hooks, self._forward_hooks):
            if "kwargs" in flags.get(hook_id, ()):
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if bw_hook is not None:
            output = _backward_hooks.finish(bw_hook, output)
        if non_full:
            _backward_hooks.register_non_full_hooks(self, non_full, args, output)
        return output

    def _forward_always_calling(self, flags: dict, args, kwargs):
        """forward; if it raises, the ``always_call`` forward hooks run (with output None)
        before the exception goes on, as in PyTorch."""
        try:
            return self.forward(*args, **kwargs)
        except Exception:
            for hook_id, hook in _with_global(_global.forward_hooks, self._forward_hooks):
                options = flags.get(hook_id, ())
                if "always" in options:
                    if "kwargs" in options:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
            raise

    # ---- state --------------------------------------------------------------------------------

    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Parameters and persistent buffers, own ones first, then each child's, as PyTorch
        orders a state_dict (a shared sub-module appears under each of its names)."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_items(prefix + name + ".")

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """An ordered dict ``dotted name -> Tensor`` of the parameters and persistent buffers.

        Each value holds a copy of the array (saving never aliases the live model); with
        ``keep_vars=True`` the live Parameters and buffers themselves are returned.
        """
        out = OrderedDict()
        for name, t in self._state_items(prefix):
            out[name] = t if keep_vars else Tensor(t.array.copy())
        return out

    def load_state_dict(self, state_dict: Mapping, strict: bool = True):
        """Copy values from ``state_dict`` into the existing parameter and buffer arrays, in place.

        Values may be Tensors, NumPy arrays or anything ``numpy.asarray`` reads; they are cast to
        each target's dtype. Every key is checked before anything is copied, so a failed load
        leaves the model untouched.

        Args:
            state_dict: mapping of dotted names to values, as :meth:`state_dict` gives.
            strict: if True, missing or unexpected keys are an error.

        Returns:
            a namedtuple ``(missing_keys, unexpected_keys)`` of lists of names.

        Raises:
            RuntimeError: listing missing/unexpected keys (strict) and any shape mismatch, naming
                the key, the model's shape and the shape received.
        """
        return load_into(self, state_dict, strict)

    # ---- dtype and device ---------------------------------------------------------------------

    def _apply_arrays(self, fn: Callable) -> Module:
        """Replace the array of every parameter, buffer and gradient by ``fn(array)``, in place:
        the Parameter objects stay the same, so optimizers built on them stay valid."""
        seen = set()
        for mod in self.modules():
            for registry in (mod._parameters, mod._buffers):
                for t in registry.values():
                    if t is None or id(t) in seen:
                        continue
                    seen.add(id(t))
                    t.array = fn(t.array)
                    if t.grad is not None:
                        t.grad = Tensor(fn(t.grad.array))
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """Convert floating parameters and buffers to ``dtype`` and/or move all to ``device``.

        ``model.to(striate.float64)``, ``model.to("cpu")``, ``model.to(device="cuda")``, or a
        Tensor whose dtype and device to copy. Integer buffers (``num_batches_tracked``) keep
        their dtype. Works in place and returns the module.
        """
        for a in args:
            if isinstance(a, str):
                device = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            else:
                dtype = a
        if dtype is not None:
            try:
                dt = np.dtype(dtype)
            except TypeError as e:
                raise TypeError(f"Module.to: {dtype!r} is not a dtype or a device") from e
            if dt.kind != "f":
                raise TypeError(f"Module.to: only floating dtypes are accepted, got {dt}")
            self._apply_arrays(
                lambda a: a.astype(dt) if a.dtype.kind == "f" and a.dtype != dt else a
            )
        if device is not None:
            self._apply_arrays(lambda a: backend.to_device(a, device))
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    # ---- printing -----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (its settings)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(child), 2) for name, child in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

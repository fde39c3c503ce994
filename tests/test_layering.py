"""The layering of docs/architecture.md, enforced: every module of striate imports only its own
package and the layers below it.

Counted: every ``import`` and ``from ... import`` anywhere in a module, module-level and inside
functions alike (a lazy import is still a dependency), except under ``if TYPE_CHECKING:``. A
``from pkg import name`` counts as an import of ``pkg.name`` when that is a module, else of
``pkg``; ``striate.functional`` is ``striate.ops``.
"""

from __future__ import annotations

import ast
import pathlib

import striate

# bottom first; a module may import its own top-level package and any package of a lower layer.
# Packages of one layer do not import each other. Matches the diagram in docs/architecture.md.
LAYERS = [
    {"_env", "backend"},
    {"parallel", "cuda", "devices"},
    {"accelerator", "backends"},  # PyTorch's device and flag namespaces
    {"kernels", "distributed"},  # distributed: collectives on arrays (MPI)
    {"autograd"},
    {"ops"},
    {"nn", "data", "distributions", "linalg"},
    {"optim", "utils"},
    {"models"},
    {"amp", "jit"},  # mixed precision; static graphs
    {"onnx"},  # the graphs' exchange format: export traces with jit, import builds jit graphs
    {"train"},
    {"detect"},  # boxes, anchors, synthetic scenes: segmentation builds on them
    {"classic", "caption", "text", "serialization", "benchmark", "vis", "generative", "segment",
     "rl", "compress", "adversarial"},
    {"cli"},
    {"__init__"},  # the package's front, striate's own names
]
# the front re-exports every layer; the application side (train and above) may reach for its
# names (``import striate; striate.manual_seed(...)``), nothing below it may
FRONT_FROM = "train"
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}

# upward edges still in the code, each to be removed (importer, imported)
KNOWN: set = set()

SRC = pathlib.Path(striate.__file__).parent


def _module(path: pathlib.Path) -> tuple[list[str], bool]:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return parts[:-1], True
    return parts, False


def _is_module(dotted: list[str]) -> bool:
    p = SRC.parent.joinpath(*dotted)
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def _type_checking_lines(tree) -> set:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def _imports(path: pathlib.Path):
    """(imported striate module as a list of parts, line) for every import in the file."""
    return _imports_of(path.read_text(encoding="utf-8"), *_module(path))


def _imports_of(text: str, name: list[str], is_pkg: bool):
    tree = ast.parse(text)
    skip = _type_checking_lines(tree)
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name.split("."), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_pkg else name[:-1]
                base = base[: len(base) - (node.level - 1)]
            else:
                base = []
            mod = base + (node.module.split(".") if node.module else [])
            for a in node.names:
                yield (mod + [a.name] if _is_module(mod + [a.name]) else mod), node.lineno


def _unit(parts: list[str]) -> str | None:
    """The layer unit of a striate module: its top-level package (or module)."""
    if not parts or parts[0] != "striate":
        return None
    if len(parts) == 1:
        return "__init__"
    return "ops" if parts[1] == "functional" else parts[1]


def _edges():
    for path in sorted(SRC.rglob("*.py")):
        src = _unit(_module(path)[0])
        for target, line in _imports(path):
            dst = _unit(target)
            if dst is not None and dst != src:
                yield src, dst, f"{path.relative_to(SRC.parent)}:{line} imports {'.'.join(target)}"


def test_every_unit_has_a_layer():
    units = {_unit(_module(p)[0]) for p in SRC.rglob("*.py")}
    assert units <= set(RANK), f"give these a layer: {sorted(units - set(RANK))}"


def test_no_module_imports_upward_or_sideways():
    bad = [where for src, dst, where in _edges()
           if RANK[dst] >= RANK[src] and (src, dst) not in KNOWN
           and not (dst == "__init__" and RANK[src] >= RANK[FRONT_FROM])]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_known_exceptions_are_still_needed():
    seen = {(src, dst) for src, dst, _ in _edges()}
    stale = KNOWN - seen
    assert not stale, f"remove these from KNOWN, they are gone: {sorted(stale)}"


def test_the_walk_sees_every_kind_of_import():
    code = """
import striate.train.trainer
from .. import models
from ..ops.conv import conv2d
if TYPE_CHECKING:
    from ..cli import main
def f():
    from ..caption import model
    from striate.functional import relu
"""
    got = [_unit(t) for t, _ in _imports_of(code, ["striate", "nn", "layer"], False)]
    assert got == ["train", "models", "ops", "caption", "ops"]


# private names still imported from another module, each owned by another change in flight
KNOWN_PRIVATE = {
    "striate/cli/caption.py", "striate/cli/convnets.py",  # cli/train.py's run helpers
    "striate/cli/graphs.py",
    "striate/optim/_one_cycle.py",  # lr_scheduler's argument checks
    "striate/train/history.py",  # checkpoint's file mode
}


def test_no_module_imports_another_modules_private_names():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        where = str(path.relative_to(SRC.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names
                           if a.name.startswith("_") and not a.name.startswith("__")
                           and a.name != "_env"]
                if private and where not in KNOWN_PRIVATE:
                    bad.append(f"{where}:{node.lineno} imports {private}")
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)

"""The default ``striate train`` job, written in PyTorch: the yardstick of bench_main_job.py.

Same data (scikit-learn's bundled digits, read from its CSV, the same stratified 70/10/20 split
with seed 0, inputs scaled to [0, 1] and normalised per channel with training statistics), same
model (three conv3x3-BN-ReLU-maxpool2x2 blocks of 32/64/128 channels, dropout 0.3, a linear head
initialised with 0.01 randn), same training (Adam lr 3e-3, L2 weight decay 1e-4, cosine schedule
per epoch down to lr/100, batch 64, 20 epochs, seed 0), and the same run folder (config.json,
metrics.csv, the best (lowest validation loss) and last checkpoints, loss/accuracy/lr plots);
the test accuracy is measured with the best checkpoint.

    python bench/digits_torch.py --out /tmp/torch-runs
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

EPOCHS, BATCH, LR, WEIGHT_DECAY = 20, 64, 3e-3, 1e-4


def _allocate(counts, fraction):
    total = int(np.floor(counts.sum() * fraction + 0.5))
    quota = counts * fraction
    alloc = np.floor(quota).astype(np.int64)
    left = total - int(alloc.sum())
    if left > 0:
        alloc[np.argsort(-(quota - alloc), kind="stable")[:left]] += 1
    return alloc


def digits_split(seed=0, val_fraction=0.1, test_fraction=0.2):
    """The digits as striate.data.digits() splits them (the same algorithm, so the same split)."""
    root = Path(importlib.util.find_spec("sklearn").submodule_search_locations[0])
    data = np.loadtxt(root / "datasets" / "data" / "digits.csv.gz", delimiter=",")
    X = (data[:, :-1].astype(np.float32) / np.float32(16)).reshape(-1, 1, 8, 8)
    y = data[:, -1].astype(np.int64)
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    n_test = _allocate(counts, test_fraction)
    n_val = np.minimum(_allocate(counts, val_fraction), counts - n_test)
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        t, v = int(n_test[c]), int(n_val[c])
        parts[2].append(members[:t])
        parts[1].append(members[t:t + v])
        parts[0].append(members[t + v:])
    return [(X[i], y[i]) for i in (np.sort(np.concatenate(p)) for p in parts)]


class ConvNet(nn.Module):
    def __init__(self, channels=(32, 64, 128), num_classes=10):
        super().__init__()
        layers, c = [], 1
        for out in channels:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c = out
        self.features = nn.Sequential(*layers)  # 8x8 -> 4 -> 2 -> 1
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(c, num_classes)
        with torch.no_grad():
            self.head.weight.normal_(0, 0.01)
            self.head.bias.zero_()

    def forward(self, x):
        return self.head(self.dropout(torch.flatten(self.features(x), 1)))


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        out = model(X)
        loss = nn.functional.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    return loss, acc


def plot(out: Path, history):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    for name, keys, log in (("loss", ["train_loss", "val_loss"], False),
                            ("accuracy", ["train_acc", "val_acc"], False), ("lr", ["lr"], True)):
        fig = Figure(figsize=(6, 4), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        for k in keys:
            ax.plot([h["epoch"] for h in history], [h[k] for h in history], marker="o",
                    markersize=3, label=k)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / f"{name}.png")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs-torch")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = digits_split()
    mean, std = Xtr.mean(axis=(0, 2, 3), keepdims=True), Xtr.std(axis=(0, 2, 3), keepdims=True)
    Xtr, Xva, Xte = (torch.from_numpy(((a - mean) / std).astype(np.float32))
                     for a in (Xtr, Xva, Xte))
    ytr, yva, yte = (torch.from_numpy(a) for a in (ytr, yva, yte))
    out = Path(args.out) / time.strftime("%Y%m%d-%H%M%S-convnet-digits-torch")
    out.mkdir(parents=True, exist_ok=True)
    config = {"model": "convnet", "data": "digits", "epochs": args.epochs, "batch_size": BATCH,
              "optimizer": "adam", "lr": LR, "weight_decay": WEIGHT_DECAY, "schedule": "cosine"}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    model = ConvNet()
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs, eta_min=LR / 100)
    print(f"digits_torch: convnet ({sum(p.numel() for p in model.parameters()):,} parameters), "
          f"{len(ytr)}/{len(yva)}/{len(yte)} images")
    history, best = [], math.inf
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(ytr))
        tot_loss = tot_correct = 0.0
        lr = opt.param_groups[0]["lr"]
        for i in range(0, len(ytr), BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = Xtr[idx], ytr[idx]
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot_loss += loss.item() * len(idx)
            tot_correct += (logits.argmax(1) == yb).sum().item()
        sched.step()
        val_loss, val_acc = evaluate(model, Xva, yva)
        history.append({"epoch": epoch, "train_loss": tot_loss / len(ytr),
                        "train_acc": tot_correct / len(ytr), "val_loss": val_loss,
                        "val_acc": val_acc, "lr": lr})
        print(f"epoch {epoch}/{args.epochs}  train_loss {history[-1]['train_loss']:.4f}  "
              f"val_loss {val_loss:.4f}  val_acc {val_acc:.4f}", flush=True)
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch}
        torch.save(state, out / "checkpoint_last.pt")
        if val_loss < best:
            best = val_loss
            torch.save(state, out / "checkpoint_best.pt")
        with open(out / "metrics.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(history[0]))
            w.writeheader()
            w.writerows(history)
    plot(out, history)
    model.load_state_dict(torch.load(out / "checkpoint_best.pt")["model"])
    test_loss, test_acc = evaluate(model, Xte, yte)
    (out / "test_metrics.json").write_text(json.dumps({"loss": test_loss,
                                                       "accuracy": test_acc}) + "\n")
    print(f"test accuracy: {100 * test_acc:.2f}%  (loss {test_loss:.4f}, {len(yte)} images, "
          f"best checkpoint)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

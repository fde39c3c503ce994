"""Make docs/generative.md's pictures and numbers: train every model with `striate generate`'s
defaults (timing each command), then sample, interpolate and evaluate.

    PYTHONPATH=src python docs/make_generative.py [--jobs 2] [--runs /tmp/generative-runs]

Stage 1 runs `striate generate KIND train` for every kind with its defaults (plus a VAE with a
2-D latent space for the latent grid, and a Gaussian-decoder VAE), and `striate train` for the
classifier that labels samples; each command's wall time is recorded. Stage 2 reads the runs
(stage 1 skips runs that already finished, so the pictures can be remade alone) and writes
docs/img/generative/*.png and docs/img/generative/numbers.json. With ``--pictures-only`` stage 2
runs on the runs as they are, an unfinished one from its last checkpoint (numbers.json says
which epoch each run reached); ``--also DIR ...`` adds runs made by other invocations.
``--ae-grid`` reruns the autoencoders' 100-label experiment over the classifier's settings,
``--ae-tries`` the other ways tried to make the autoencoder's features win (inner features,
smaller encoder rates). ``--vae-features`` trains the default VAE with seeds 0 to 4, and the
2-D and Gaussian-decoder VAEs (reusing finished runs), and gathers each run's 100-label
experiment (30 draws of the labels) into docs/img/generative/vae_features.json: the page's
claim for the VAE's encoder features.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BLAS = os.environ.get("MAKE_GENERATIVE_BLAS_THREADS", "1")
IMG = ROOT / "docs" / "img" / "generative"

# name -> the command's arguments after `striate`
RUNS = {  # longest first, so that --jobs N finishes soonest
    "dcgan": ["generate", "dcgan", "train"],
    "ddpm": ["generate", "ddpm", "train"],
    "gan": ["generate", "gan", "train"],
    "lsgan": ["generate", "lsgan", "train"],
    "pixelrnn": ["generate", "pixelrnn", "train"],
    "pixelcnn": ["generate", "pixelcnn", "train"],
    "classifier": ["train", "--epochs", "10"],
    "ae": ["generate", "ae", "train"],
    "ae-fc": ["generate", "ae", "train", "--arch", "fc"],
    "vae": ["generate", "vae", "train"],
    "vae-2d": ["generate", "vae", "train", "--latent-dim", "2"],
    "vae-gaussian": ["generate", "vae", "train", "--likelihood", "gaussian"],
}
# the default VAE again with other pretraining seeds (--vae-features; "vae" is seed 0)
VAE_SEEDS = {f"vae-seed{s}": ["generate", "vae", "train", "--seed", str(s)] for s in range(1, 5)}


def _run_one(name: str, runs: Path) -> dict:
    folder = runs / name
    done = folder / ("checkpoint_best.npz" if name == "classifier" else "summary.json")
    if done.exists():
        return json.loads((folder / "timing.json").read_text())
    if folder.exists():
        shutil.rmtree(folder)
    parent = runs / f".{name}.tmp"  # each command its own parent folder: no name clashes
    shutil.rmtree(parent, ignore_errors=True)
    command = {**RUNS, **VAE_SEEDS}[name]
    args = command + ["--out", str(parent), "--name", name]
    args += ["--no-progress"] if name == "classifier" else ["--quiet"]
    # one BLAS thread per command: on a shared, oversubscribed machine a multi-threaded GEMM
    # waits for every one of its threads to be scheduled (the small models' GEMMs ran 8x slower)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": BLAS,
           "OMP_NUM_THREADS": BLAS, "MKL_NUM_THREADS": BLAS}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "striate.cli", *args], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: {proc.stderr.strip().splitlines()[-1:]}")
    (made,) = parent.iterdir()
    made.rename(folder)
    parent.rmdir()
    timing = {"name": name, "command": "striate " + " ".join(command),
              "seconds": round(seconds, 1), "load": round(os.getloadavg()[0], 1)}
    (folder / "timing.json").write_text(json.dumps(timing))
    print(f"{name}: {seconds:.0f} s", flush=True)
    return timing


def train_all(runs: Path, jobs: int, only: list[str]) -> dict:
    runs.mkdir(parents=True, exist_ok=True)
    names = only or list(RUNS)
    with ThreadPoolExecutor(jobs) as pool:
        return dict(zip(names, pool.map(lambda n: _run_one(n, runs), names)))


def _folder(dirs: list[Path], name: str) -> Path | None:
    """A run's folder: finished (``DIR/name``) or still training (``DIR/.name.tmp/<run>``, whose
    last checkpoint is used: the page says which epoch it reached)."""
    for d in dirs:
        f = d / name
        if (f / "checkpoint_last.npz").exists() or (f / "checkpoint_best.npz").exists():
            if (f / "config.json").exists():
                return f
    for d in dirs:
        for f in sorted((d / f".{name}.tmp").glob("*")):
            if (f / "checkpoint_last.npz").exists() or (f / "checkpoint_best.npz").exists():
                return f
    return None


def pictures(dirs: list[Path]) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    import striate
    from striate.data import digits
    from striate.data.transforms import transform_from_dict
    from striate.generative import label_samples, load_run, save_grid
    from striate.models import create_model
    from striate.train import load

    IMG.mkdir(parents=True, exist_ok=True)
    data = digits()
    numbers: dict = {"runs": {}}

    def run(name):
        f = _folder(dirs, name)
        if f is None:
            print(f"{name}: no run yet, skipped", flush=True)
            return None, None
        timing = f / "timing.json"
        metrics = (f / "metrics.csv").read_text().splitlines() if (f / "metrics.csv").exists() \
            else []
        numbers["runs"][name] = {
            "folder": str(f), "finished": not f.parent.name.endswith(".tmp"),
            "command_seconds": json.loads(timing.read_text()).get("seconds")
            if timing.exists() else None,
            "epochs_done": max(0, len(metrics) - 1)}
        if metrics:
            head = metrics[0].split(",")
            numbers["runs"][name]["last_epoch"] = dict(zip(head, metrics[-1].split(",")))
        return f, (load_run(str(f)) if name != "classifier" else None)

    # the classifier of `striate train` (its best checkpoint), as `generate evaluate` loads it
    clf = norm = None
    f, _ = run("classifier")
    if f is not None:
        ck = load(str(f / "checkpoint_best.npz"))
        cfg = ck["config"]
        clf = create_model(cfg["model"], num_classes=10, input_shape=(1, 8, 8))
        clf.load_state_dict(ck["model"])
        norm = transform_from_dict(cfg["normalize"])
        clf.eval()
        with striate.no_grad():
            pred = clf(striate.tensor(norm(data.test.X))).array.argmax(1)
        numbers["classifier_test_acc"] = float((pred == data.test.y).mean())
        numbers["real_test_images"] = label_samples(clf, data.test.X, norm)

    for kind in ("gan", "lsgan", "dcgan"):
        f, loaded = run(kind)
        if f is None:
            continue
        task = loaded[0]
        save_grid(task.sample(64, np.random.default_rng(1)), str(IMG / f"{kind}_samples.png"),
                  nrow=8)
        if (f / "loss.png").exists():
            shutil.copy(f / "loss.png", IMG / f"{kind}_losses.png")
        if kind == "dcgan":
            for e in (1, 5):
                if (f / f"samples_epoch{e:03d}.png").exists():
                    shutil.copy(f / f"samples_epoch{e:03d}.png", IMG / f"dcgan_epoch{e}.png")
            save_grid(task.interpolate(8, 10, None, np.random.default_rng(2)),
                      str(IMG / "dcgan_interpolation.png"), nrow=10)
        if clf is not None:
            numbers[f"{kind}_labels"] = label_samples(
                clf, task.sample(1000, np.random.default_rng(3)), norm)

    f, loaded = run("ddpm")
    if f is not None:
        task = loaded[0]
        t0 = time.perf_counter()
        x = task.model.sample(16, np.random.default_rng(1))
        numbers["ddpm_ancestral_16_seconds"] = round(time.perf_counter() - t0, 1)
        save_grid((x + 1) / 2, str(IMG / "ddpm_samples_ancestral.png"), nrow=8)
        t0 = time.perf_counter()
        x = np.concatenate([task.model.ddim_sample(500, 20, np.random.default_rng(3 + k))
                            for k in range(2)])
        x = (x + 1) / 2
        numbers["ddpm_ddim20_1000_seconds"] = round(time.perf_counter() - t0, 1)
        save_grid(x[:64], str(IMG / "ddpm_samples_ddim.png"), nrow=8)
        if clf is not None:
            numbers["ddpm_labels"] = label_samples(clf, x, norm)
        save_grid(task.interpolate(8, 10, None, np.random.default_rng(2)),
                  str(IMG / "ddpm_interpolation.png"), nrow=10)
        if (f / "loss.png").exists():
            shutil.copy(f / "loss.png", IMG / "ddpm_losses.png")

    for name in ("vae", "vae-2d", "vae-gaussian"):
        f, loaded = run(name)
        if f is None:
            continue
        task = loaded[0]
        tag = name.replace("-", "_")
        save_grid(task.sample(64, np.random.default_rng(1)), str(IMG / f"{tag}_samples.png"),
                  nrow=8)
        ev = task.evaluate(data.test.X)
        numbers[f"{tag}_test_elbo"] = ev["test_elbo"]
        if "test_bits_per_dim" in ev:  # the Gaussian decoder: its ELBO discretised to 17 levels
            numbers[f"{tag}_test_bits_per_dim"] = ev["test_bits_per_dim"]
            sigma = np.exp(task.model.log_scale.array)
            numbers[f"{tag}_sigma"] = {"min": float(sigma.min()), "median": float(
                np.median(sigma)), "max": float(sigma.max())}
        if name in ("vae", "vae-gaussian"):
            x = data.test.X[:32]
            r = task.reconstructions(x)
            pairs = np.concatenate([np.stack([task.prepare(x[i:i + 8]), r[i:i + 8]])
                                    for i in range(0, 32, 8)]).reshape(-1, 1, 8, 8)
            save_grid(pairs, str(IMG / f"{tag}_reconstructions.png"), nrow=8)
        if name == "vae":
            save_grid(task.interpolate(8, 10, data.test.X, np.random.default_rng(2)),
                      str(IMG / "vae_interpolation.png"), nrow=10)
        if name == "vae-2d":
            save_grid(task.latent_grid(15), str(IMG / "vae_latent_grid.png"), nrow=15)

    for name in ("ae", "ae-fc"):
        f, loaded = run(name)
        if f is None:
            continue
        task = loaded[0]
        tag = name.replace("-", "_")
        # the 100-label experiment as the run reported it (summary.json), with the paired
        # differences of the draws: each draw's labels are the same for the three arms
        summary = json.loads((f / "summary.json").read_text()) if (f / "summary.json").exists() \
            else task.final_report(data)
        feats = {k: v for k, v in summary.items() if k.endswith(("_acc", "_accs"))
                 or k in ("labels", "draws")}
        for arm in ("frozen", "finetuned"):
            if f"{arm}_accs" in feats:
                diff = np.subtract(feats[f"{arm}_accs"], feats["scratch_accs"])
                feats[f"{arm}_minus_scratch"] = {
                    "mean": float(diff.mean()), "per_draw": diff.tolist(),
                    "standard_error": float(diff.std(ddof=1) / np.sqrt(len(diff)))
                    if len(diff) > 1 else None}
        numbers[f"{tag}_features"] = feats
        numbers[f"{tag}_test_loss"] = task.evaluate(data.test.X)["test_loss"]
        save_grid(task.epoch_grid(data.test.X, None), str(IMG / f"{tag}_reconstructions.png"),
                  nrow=8)
        save_grid(task.interpolate(8, 10, data.test.X, np.random.default_rng(2)),
                  str(IMG / f"{tag}_interpolation.png"), nrow=10)

    for kind in ("pixelcnn", "pixelrnn"):
        f, loaded = run(kind)
        if f is None:
            continue
        task = loaded[0]
        numbers[f"{kind}_bits_per_dim"] = task.evaluate(data.test.X)["test_bits_per_dim"]
        numbers["baseline_bits_per_dim"] = task.final_report(data)["baseline_bits_per_dim"]
        save_grid(task.sample(64, np.random.default_rng(1)), str(IMG / f"{kind}_samples.png"),
                  nrow=8)
    (IMG / "numbers.json").write_text(json.dumps(numbers, indent=1) + "\n")
    return numbers


def ae_grid(dirs: list[Path]) -> dict:
    """The 100-label experiment of each autoencoder run again over the classifier's settings
    (a linear or a one-hidden-layer head; Adam at 1e-3 or 1e-2), the same settings for the
    three arms: whether the comparison holds beyond the default's one choice. Writes
    docs/img/generative/ae_grid.json."""
    sys.path.insert(0, str(ROOT / "src"))
    from striate.data import digits
    from striate.generative import feature_experiment, load_run

    data, out = digits(), {}
    for name in ("ae", "ae-fc"):
        f = _folder(dirs, name)
        if f is None:
            continue
        task = load_run(str(f))[0]
        for hidden in (0, 64):
            for lr in (1e-3, 1e-2):
                r = feature_experiment(task.model, data, steps=task.config["probe_steps"],
                                       lr=lr, draws=task.config.get("probe_draws", 5),
                                       hidden=hidden)
                key = f"{name} hidden={hidden} lr={lr:g}"
                out[key] = {k: v for k, v in r.items() if k.endswith("_acc")}
                print(key, out[key], flush=True)
    (IMG / "ae_grid.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def _probe(encoder, input_shape, data, draws: int, steps: int = 300, lr: float = 1e-3,
           enc_lr: float | None = None, probe_first: int = 0, scratch_steps: int | None = None):
    """The 100-label experiment of ``feature_experiment`` (same labels, head, head init, Adam,
    full-batch steps) on any encoder module, with the fine-tuned arm's encoder optionally at its
    own learning rate ``enc_lr`` and after ``probe_first`` steps on the frozen encoder. Returns
    the per-draw test accuracies of each arm."""
    from striate import nn, no_grad
    from striate import ops as F
    from striate.autograd.tensor import Tensor
    from striate.generative.features import _accuracy, arm_networks, few_labels
    from striate.optim import Adam

    def fit(net, X, y, n, enc_rate):
        enc = [p for p in net[0].parameters() if p.requires_grad]
        groups = [{"params": list(net[1].parameters())}]
        groups += [{"params": enc, "lr": enc_rate}] if enc else []
        opt, x, t = Adam(groups, lr=lr), Tensor(X.astype(np.float32)), Tensor(y)
        net.train()
        for _ in range(n):
            loss = F.cross_entropy(net(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()

    with no_grad():
        dim = encoder(Tensor(np.zeros((1, *input_shape), np.float32))).reshape(1, -1).shape[1]
    accs = {"frozen": [], "finetuned": [], "scratch": []}
    for d in range(draws):
        idx = few_labels(data.train.y, 10, d)
        X, y = data.train.X[idx], data.train.y[idx]
        nets = arm_networks(nn.Sequential(encoder, nn.Flatten()), dim, 10, seed=d)
        for arm, net in nets.items():
            if arm == "finetuned":  # probe_first steps on the frozen encoder first
                for p in net[0].parameters():
                    p.requires_grad_(False)
                fit(net, X, y, probe_first, lr)
                for p in net[0].parameters():
                    p.requires_grad_(True)
            n = scratch_steps if arm == "scratch" and scratch_steps else steps
            fit(net, X, y, n, lr if enc_lr is None or arm == "scratch" else enc_lr)
            accs[arm].append(_accuracy(net, data.test.X, data.test.y))
    return accs


def ae_tries(dirs: list[Path]) -> dict:
    """What else was tried to make the autoencoders' features beat training from scratch with
    100 labels: features from inside the conv encoder, fine-tuning at a 10x smaller encoder
    rate (alone, and after probing the frozen encoder first). Each
    setting's three arms share everything but the encoder's start; prints and writes the mean
    accuracies and the paired differences (mean and standard error over the draws) to
    docs/img/generative/ae_tries.json."""
    sys.path.insert(0, str(ROOT / "src"))
    from striate import nn
    from striate.data import digits
    from striate.generative import load_run

    data, out = digits(), {}
    ae = _folder(dirs, "ae")
    tries = []
    if ae is not None:
        enc = load_run(str(ae))[0].model.encoder  # conv 3x3 32, ReLU, conv 4x4/2 64, ReLU, ...
        tries += [
            ("conv block 1, 2x2 avg-pooled (512)", nn.Sequential(*list(enc)[:2], nn.AvgPool2d(2)),
             {}),
            ("conv block 2 (1024)", nn.Sequential(*list(enc)[:4]), {}),
            ("conv block 2, 2x2 avg-pooled (256)",
             nn.Sequential(*list(enc)[:4], nn.AvgPool2d(2)), {}),
            ("code, encoder at lr/10", enc, {"enc_lr": 1e-4}),
            ("code, 300 steps frozen then encoder at lr/10 (scratch 600 steps)", enc,
             {"enc_lr": 1e-4, "probe_first": 300, "scratch_steps": 600}),
            ("conv block 2, encoder at lr/10", nn.Sequential(*list(enc)[:4]), {"enc_lr": 1e-4}),
        ]
    for name, encoder, kw in tries:
        draws = kw.pop("draws", 5)
        accs = _probe(encoder, data.train.X.shape[1:], data, draws, **kw)
        row = {arm: float(np.mean(a)) for arm, a in accs.items()}
        for arm in ("frozen", "finetuned"):
            diff = np.subtract(accs[arm], accs["scratch"])
            row[f"{arm}_minus_scratch"] = [float(diff.mean()),
                                           float(diff.std(ddof=1) / np.sqrt(len(diff)))]
        row["draws"] = draws
        out[name] = row
        print(name, json.dumps(row), flush=True)
    (IMG / "ae_tries.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def vae_features(runs: Path) -> dict:
    """The 100-label experiment of the default VAE (`striate generate vae train` reports it:
    frozen, fine-tuned and from-scratch arms on the encoder mean, 30 draws of the labels) for
    pretraining seeds 0 to 4, and of the 2-D and Gaussian-decoder VAEs (seed 0), trained here
    if not yet: each run's mean accuracies and paired differences to scratch (mean and
    standard error over the draws). Writes
    docs/img/generative/vae_features.json."""
    out = {}
    for name in ["vae", *VAE_SEEDS, "vae-2d", "vae-gaussian"]:
        _run_one(name, runs)
        summary = json.loads((runs / name / "summary.json").read_text())
        row = {k: summary[k] for k in ("draws", "frozen_acc", "finetuned_acc", "scratch_acc",
                                       "frozen_minus_scratch", "finetuned_minus_scratch")}
        row["seed"] = json.loads((runs / name / "config.json").read_text())["seed"]
        row["test_elbo"] = summary["test_elbo"]
        out[name] = row
        d = row["finetuned_minus_scratch"]
        print(f"{name} (seed {row['seed']}): frozen {100 * row['frozen_acc']:.1f}%, fine-tuned "
              f"{100 * row['finetuned_acc']:.1f}%, scratch {100 * row['scratch_acc']:.1f}%, "
              f"fine-tuned - scratch {100 * d['mean']:+.2f} +- {100 * d['standard_error']:.2f} "
              f"({d['mean'] / d['standard_error']:.1f} SE)", flush=True)
    IMG.mkdir(parents=True, exist_ok=True)
    (IMG / "vae_features.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="/tmp/generative-runs", help="where the runs go")
    p.add_argument("--also", nargs="*", default=[],
                   help="more folders of runs for the pictures (runs made by other invocations)")
    p.add_argument("--pictures-only", action="store_true",
                   help="stage 2 only, from the runs as they are (unfinished ones at their "
                        "last epoch)")
    p.add_argument("--jobs", type=int, default=1, help="commands run at once (default: 1)")
    p.add_argument("--only", nargs="*", default=[], choices=list(RUNS), help="train these")
    p.add_argument("--train-only", action="store_true", help="stage 1 only")
    p.add_argument("--ae-grid", action="store_true",
                   help="only rerun the autoencoders' 100-label experiment over head and lr")
    p.add_argument("--ae-tries", action="store_true",
                   help="only rerun the other ways tried to make the autoencoder's features win")
    p.add_argument("--vae-features", action="store_true",
                   help="only the VAE's 100-label experiment for pretraining seeds 0 to 4")
    a = p.parse_args()
    if a.vae_features:
        vae_features(Path(a.runs))
        return
    if a.ae_tries:
        ae_tries([Path(a.runs), *map(Path, a.also)])
        return
    if a.ae_grid:
        ae_grid([Path(a.runs), *map(Path, a.also)])
        return
    if not a.pictures_only:
        train_all(Path(a.runs), a.jobs, a.only)
    if not a.train_only:
        print(json.dumps(pictures([Path(a.runs), *map(Path, a.also)]), indent=1))


if __name__ == "__main__":
    main()

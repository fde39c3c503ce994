"""`striate bench --traced` on a tiny batch: every variant runs and agrees with eager (the
benchmark checks that itself), the table has a row per variant; no timing is asserted."""

import pytest

from striate import benchmark


def test_run_traced_rows_and_table():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    rows = benchmark.run_traced(["default_convnet"], batch_size=2, threads=1, rounds=1, steps=1,
                                warmup=0, log=None)
    assert [r["variant"] for r in rows] == ["striate eager", "striate traced",
                                            "striate traced+optimised", "PyTorch eager",
                                            "onnxruntime"]
    assert rows[0]["vs_eager"] == 1.0
    assert all((r["peak_mib"] is None) != r["variant"].startswith("striate") for r in rows)
    table = benchmark.format_traced_table(rows, 2, 1, 1)
    assert "| default_convnet | striate traced+optimised |" in table
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        benchmark.run_traced(["vgg"], log=None)

"""The reference safetensors reader (the one PyTorch users call) loads a file coopgen wrote.
Exits 77 (CTest: Skipped) when the safetensors and numpy packages are not installed (a failure
under COOPGEN_REQUIRE_REFERENCES=1: tests/reference_tools.py)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import skip  # noqa: E402

try:
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file
except ImportError:
    skip("python3 packages safetensors and numpy are not installed")

fixture = sys.argv[1]
with tempfile.TemporaryDirectory() as d:
    path = f"{d}/known.safetensors"
    subprocess.run([fixture, "known", path], check=True)
    t = load_file(path)
    assert t["a"].dtype == np.float32 and t["a"].shape == (3, 4), t["a"]
    assert np.array_equal(t["a"], np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5)
    assert t["b"].dtype == np.int32 and t["b"].tolist() == [-1, 7]
    assert t["c"].dtype == np.float64 and t["c"].shape == (1, 1) and t["c"][0, 0] == 0.1
    with safe_open(path, framework="numpy") as f:
        assert f.metadata() == {"producer": "coopgen"}, f.metadata()
print("safetensors reference reader: ok")

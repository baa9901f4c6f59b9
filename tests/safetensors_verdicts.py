"""coopgen's safetensors reader against the reference Python `safetensors` library, file by file.

For each file (the field cases in tests/data/safetensors/ and variants built here of every header
field: sizes that overflow, negative or fractional dimensions, names twice, gaps, overlaps and
trailing bytes in the data section, truncation, malformed or non-strict JSON, bad UTF-8, metadata
of the wrong type), the reference library's verdict (does `safe_open` load every tensor?) is the
expected one; `coopgen inspect FILE` must agree: exit 0 when the library loads the file, else exit
1 with exactly one line that names the file (and the tensor, where one tensor is at fault), never a
crash. Files of dtypes coopgen does not read (F16, I64, ...) are valid for the library and refused
by coopgen with a line naming the tensor and its dtype.
Usage: safetensors_verdicts.py COOPGEN DATA_DIR   (exit 77, Skipped, without safetensors/numpy;
a failure under COOPGEN_REQUIRE_REFERENCES=1)
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import skip  # noqa: E402

try:
    import numpy  # noqa: F401  (safe_open's numpy framework needs it)
    from safetensors import safe_open
except ImportError:
    skip("python3 packages safetensors and numpy are not installed")

coopgen, data_dir = sys.argv[1], sys.argv[2]


def build(header, data=b"", raw_header=None, length=None):
    """A safetensors file: 8-byte little-endian length, the header (JSON of `header`, or raw bytes), data."""
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


# (name, file bytes, the tensor a refusal must name or None, True when coopgen refuses a file the
# library reads because of its dtype)
cases = [
    ("valid", build({"a": t("F32", [2, 3], 0, 24), "b": t("I32", [4], 24, 40)}, bytes(40)), None, False),
    ("valid_metadata", build({"__metadata__": {"k": "v"}, "a": t("F64", [1], 0, 8)}, bytes(8)), None, False),
    ("empty_tensor_at_same_offset", build({"e": t("F32", [0, 5], 0, 0), "a": t("F32", [3], 0, 12)}, bytes(12)), None, False),
    ("valid_empty_tensor_last", build({"a": t("F32", [3], 0, 12), "e": t("F32", [0, 5], 12, 12)}, bytes(12)), None, False),
    ("valid_extra_field", build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "note": 1}}, bytes(4)), None, False),
    ("valid_unsorted_header", build({"z": t("F32", [1], 4, 8), "a": t("F32", [1], 0, 4)}, bytes(8)), None, False),
    ("valid_no_tensors", build({}), None, False),
    ("overflow_one_dim", build({"w": t("F32", [1 << 62, 1], 0, 0)}), "w", False),
    ("overflow_product", build({"w": t("F32", [1 << 32, 1 << 32], 0, 0)}), "w", False),
    ("overflow_bytes", build({"w": t("F64", [1 << 61], 0, 0)}), "w", False),
    ("negative_dim", build({"w": t("F32", [2, -2], 0, 0)}), "w", False),
    ("fractional_dim", build({"w": t("F32", [2.5], 0, 10)}, bytes(10)), "w", False),
    ("dim_too_large", build({"w": t("F32", [1 << 64], 0, 0)}), "w", False),
    ("hole", build({"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}, bytes(12)), "b", False),
    ("overlap", build({"a": t("F32", [2], 0, 8), "b": t("F32", [2], 0, 8)}, bytes(8)), None, False),
    ("trailing_bytes", build({"a": t("F32", [1], 0, 4)}, bytes(9)), None, False),
    ("truncated_data", build({"a": t("F32", [4], 0, 16)}, bytes(10)), None, False),
    ("offsets_reversed", build({"a": t("F32", [2], 8, 0)}, bytes(8)), "a", False),
    ("offsets_wrong_size", build({"a": t("F32", [2], 0, 12)}, bytes(12)), "a", False),
    ("offsets_three", build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, bytes(4)), "a", False),
    ("offsets_negative", build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}, bytes(4)), "a", False),
    ("missing_dtype", build({"a": {"shape": [1], "data_offsets": [0, 4]}}, bytes(4)), "a", False),
    ("unknown_dtype", build({"a": t("F17", [1], 0, 4)}, bytes(4)), "a", False),
    ("entry_not_object", build({"a": "F32"}), "a", False),
    ("shape_not_array", build({"a": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}}, bytes(16)), "a", False),
    ("metadata_not_strings", build({"__metadata__": {"k": 3}, "a": t("F32", [1], 0, 4)}, bytes(4)), None, False),
    ("dtype_f16", build({"h": t("F16", [2], 0, 4)}, bytes(4)), "h", True),
    ("dtype_i64", build({"a": t("F32", [1], 0, 4), "n": t("I64", [1], 4, 12)}, bytes(12)), "n", True),
    ("header_longer_than_file", build({}, length=1000), None, False),
    ("header_length_huge", build({}, length=1 << 63), None, False),
    ("header_not_json", build(None, raw_header=b"this is not json"), None, False),
    ("header_trailing_comma", build(None, raw_header=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},}', data=bytes(4)), None, False),
    ("header_comment", build(None, raw_header=b'{/* c */ "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', data=bytes(4)), None, False),
    ("header_line_comment", build(None, raw_header=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}} // c', data=bytes(4)), None, False),
    ("valid_slash_in_name", build({"enc/w": t("F32", [1], 0, 4)}, bytes(4)), None, False),
    ("header_array", build(None, raw_header=b"[1, 2]"), None, False),
    ("header_not_utf8", build(None, raw_header=b'{"a\xff": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', data=bytes(4)), None, False),
    ("empty_file", b"", None, False),
    ("seven_bytes", b"\x02\x00\x00\x00\x00\x00\x00", None, False),
]
for name in sorted(os.listdir(data_dir)):
    with open(os.path.join(data_dir, name), "rb") as f:
        cases.append(("field_" + name, f.read(), "w", False))


def reference_loads(path):
    try:
        with safe_open(path, framework="numpy") as f:
            for k in f.keys():
                f.get_tensor(k)
        return True, ""
    except Exception as e:  # the library raises SafetensorError and others
        return False, str(e).splitlines()[0] if str(e) else type(e).__name__


failures = []
with tempfile.TemporaryDirectory() as d:
    for name, blob, tensor, unsupported_dtype in cases:
        path = os.path.join(d, name + ".safetensors")
        with open(path, "wb") as f:
            f.write(blob)
        ref_ok, ref_why = reference_loads(path)
        r = subprocess.run([coopgen, "inspect", path], capture_output=True, text=True)
        err = r.stderr.strip()
        verdict = "loads" if r.returncode == 0 else "refuses" if r.returncode == 1 else f"exit {r.returncode}"
        print(f"{name:28} reference {'loads' if ref_ok else 'refuses'} | coopgen {verdict}: {err or '-'}")
        want_ok = ref_ok and not unsupported_dtype
        if unsupported_dtype and not ref_ok:
            failures.append(f"{name}: the reference library refuses a file this test expects it to read ({ref_why})")
        if (r.returncode == 0) != want_ok or r.returncode not in (0, 1):
            failures.append(f"{name}: reference {'loads' if ref_ok else 'refuses (' + ref_why + ')'}, coopgen {verdict}")
        elif r.returncode == 1:
            if "\n" in err or path not in err:
                failures.append(f"{name}: the refusal is not one line naming the file: {err!r}")
            if tensor and f"'{tensor}'" not in err:
                failures.append(f"{name}: the refusal does not name tensor '{tensor}': {err!r}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{len(cases)} files: coopgen's verdicts equal the reference library's")

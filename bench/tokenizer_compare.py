#!/usr/bin/env python3
"""Side-by-side tokenizer encode throughput: silica vs HF tokenizers vs llama.cpp.

All three encode the same text (the valid-UTF-8 cases of the golden corpus
joined by blank lines, or --text FILE) whole, repeatedly, single-threaded,
best of three runs. Models are the GGUF files the golden ids files name,
under $SILICA_MODELS_DIR (default ~/.cache/silica/models); HF uses the
tokenizer.json that scripts/fetch-models put beside each GGUF
(hf_tokenizer/), llama.cpp uses Llama(vocab_only=True).tokenize.

Run with the venv that has tokenizers and llama-cpp-python:
  ~/.cache/silica/venv/bin/python bench/tokenizer_compare.py [--build build/release]
"""
import argparse
import base64
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers is imported
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "golden" / "data"


def models_dir():
    d = os.environ.get("SILICA_MODELS_DIR")
    return pathlib.Path(d) if d else pathlib.Path.home() / ".cache" / "silica" / "models"


def corpus_text():
    corpus = json.loads((DATA / "tokenizer_corpus.json").read_text())
    parts = []
    for case in corpus["cases"]:
        raw = base64.b64decode(case["text_b64"])
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return "\n\n".join(parts)


def best_of(fn, iters, runs=3):
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build" / "release"),
                    help="build dir holding bin/tokenizer_bench")
    ap.add_argument("--text", help="UTF-8 text file to encode")
    ap.add_argument("--mb", type=float, default=4.0, help="MB encoded per run")
    args = ap.parse_args()

    text = pathlib.Path(args.text).read_text("utf-8") if args.text else corpus_text()
    data = text.encode("utf-8")
    iters = max(1, int(args.mb * 1e6 / len(data)))
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(data)
        text_path = f.name

    models = []
    for ids_file in sorted(DATA.glob("tokenizer_ids_*.json")):
        meta = json.loads(ids_file.read_text())
        name = ids_file.stem[len("tokenizer_ids_"):]
        gguf = models_dir() / meta["gguf"]
        models.append((name, gguf))

    bench = pathlib.Path(args.build) / "bin" / "tokenizer_bench"
    ours = {}
    out = subprocess.run([str(bench), "--json", "--text", text_path, "--mb", str(args.mb)]
                         + [str(g) for _, g in models],
                         check=True, capture_output=True, text=True).stdout
    for line, (name, _) in zip(out.strip().splitlines(), models):
        ours[name] = json.loads(line)

    from tokenizers import Tokenizer as HfTokenizer
    from llama_cpp import Llama

    rows = []
    for name, gguf in models:
        mbps = lambda s: len(data) * iters / s / 1e6
        hf_json = gguf.parent / "hf_tokenizer" / "tokenizer.json"
        hf = HfTokenizer.from_file(str(hf_json))
        hf_s = best_of(lambda: hf.encode(text, add_special_tokens=False), iters)
        llm = Llama(model_path=str(gguf), vocab_only=True, verbose=False)
        ll_s = best_of(lambda: llm.tokenize(data, add_bos=False, special=False), iters)
        rows.append((name, ours[name]["mb_per_s"], mbps(hf_s), mbps(ll_s),
                     ours[name]["tokens"], len(hf.encode(text, add_special_tokens=False).ids),
                     len(llm.tokenize(data, add_bos=False, special=False))))
        del llm

    print(f"text: {len(data)} bytes x {iters} iterations per run, single thread, best of 3")
    print(f"{'model':<18} {'silica MB/s':>12} {'HF MB/s':>10} {'llama.cpp MB/s':>15} "
          f"{'vs HF':>7} {'vs llama.cpp':>13}   tokens (silica/HF/llama.cpp)")
    for name, ours_mbps, hf_mbps, ll_mbps, t_ours, t_hf, t_ll in rows:
        print(f"{name:<18} {ours_mbps:>12.2f} {hf_mbps:>10.2f} {ll_mbps:>15.2f} "
              f"{ours_mbps / hf_mbps:>6.2f}x {ours_mbps / ll_mbps:>12.2f}x   "
              f"{t_ours}/{t_hf}/{t_ll}")
    os.unlink(text_path)


if __name__ == "__main__":
    sys.exit(main())

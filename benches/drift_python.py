"""Baseline for benches/drift_bench.rs: Evidently's Report([DataDriftPreset()]) on the very
same 20 columns (see the data description at the top of drift_bench.rs), timed around
`Report.run` only (data generation excluded). Writes per-column results as JSON.

Usage: PYTHONHASHSEED=0 target/harness/venv/bin/python benches/drift_python.py \
           [--rows N] [--json PATH]
"""

import argparse
import json
import resource
import time
import warnings

import numpy as np
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

warnings.filterwarnings("ignore")

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def uniforms(seed: int, count: int) -> np.ndarray:
    """The first `count` splitmix64 outputs of `seed`, as u = (z >> 11) * 2^-53."""
    k = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + k * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def continuous(seed, rows, loc, scale):
    u = uniforms(seed, 4 * rows).reshape(rows, 4)
    s = ((u[:, 0] + u[:, 1]) + u[:, 2]) + u[:, 3]
    return loc + scale * (s - 2.0)


def few(seed, rows, k):
    return np.floor(uniforms(seed, rows) * k)


def strings(seed, rows, k, skew):
    u = uniforms(seed, rows)
    if skew:
        u = u * u
    idx = np.floor(u * k).astype(np.int64)
    labels = np.array([f"v{i}" for i in range(int(k) + 1)], dtype=object)
    return labels[idx]


def frames(rows):
    ref, cur = {}, {}
    for i in range(14):
        loc, scale = float(i), 1.0 + i / 10.0
        shift = 0.04 * (i % 4) * scale
        ref[f"c{i:02d}"] = continuous(1000 + i, rows, loc, scale)
        cur[f"c{i:02d}"] = continuous(2000 + i, rows, loc + shift, scale)
    for i in range(3):
        col = 14 + i
        ref[f"d{i}"] = few(1000 + col, rows, 5.0)
        cur[f"d{i}"] = few(2000 + col, rows, 5.0 - 0.25 * (i + 1))
    for i, k in enumerate([4.0, 6.0, 8.0]):
        col = 17 + i
        ref[f"s{i}"] = strings(1000 + col, rows, k, False)
        cur[f"s{i}"] = strings(2000 + col, rows, k, i > 0)
    return pd.DataFrame(ref), pd.DataFrame(cur)


NAMES = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--json")
    args = ap.parse_args()
    t = time.perf_counter()
    ref, cur = frames(args.rows)
    print(f"generated {args.rows} vs {args.rows} rows x {ref.shape[1]} columns in {time.perf_counter() - t:.2f} s")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    snap = Report([DataDriftPreset()], include_tests=True).run(cur, ref)
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    d = snap.dict()
    status = {x["metric_config"]["metric_id"]: x["status"] for x in d["tests"]}
    columns, dataset = {}, None
    for m in d["metrics"]:
        cfg = m["config"]
        if cfg["type"].endswith("ValueDrift"):
            columns[cfg["column"]] = {
                "stattest": NAMES[cfg["method"]],
                "score": m["value"],
                "drift_detected": status[m["id"]] == "FAIL",
            }
        elif cfg["type"].endswith("DriftedColumnsCount"):
            dataset = {"count": m["value"]["count"], "share": m["value"]["share"], "dataset_drift": status[m["id"]] == "FAIL"}
    for name, c in columns.items():
        print(f"{name:<6} {c['stattest']:<14} {c['score']:>24.17e} {c['drift_detected']!s:>6}")
    print("dataset:", dataset)
    print(f"Report.run: {seconds:.2f} s, peak RSS {rss / 1024:.0f} MiB (before the run {rss_before / 1024:.0f} MiB)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": args.rows, "seconds": seconds, "peak_rss_mib": rss / 1024, "columns": columns, "dataset": dataset}, fh, indent=1)


if __name__ == "__main__":
    main()

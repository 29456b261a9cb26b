"""Reference fixtures for `src/runtime/drift/`: scipy 1.17 and Evidently 0.7.23 outputs.

Run from the repository root, with the harness venv and a fixed hash seed (chi-square and
Jensen-Shannon iterate over a Python `set`, whose order for `str` keys depends on it):

    PYTHONHASHSEED=0 target/harness/venv/bin/python scripts/reference/drift_reference.py

Writes `tests/fixtures/drift/`:

- `special.json`: scipy's special functions the tests rest on (kstwo.sf on every branch of
  `_kolmogn`, the two exact KS path counters, chdtrc, ndtr);
- `stats.json`: the pure statistics (ks_2samp, chisquare, Z, normed Wasserstein,
  Jensen-Shannon), on inputs described by a generator spec (below) or given inline;
- `columns.json`: one-column `Report([DataDriftPreset()])` runs, one per selection boundary;
- `frames.json` + `frames/*.csv`: whole-frame `Report([DataDriftPreset()])` runs on scikit-learn
  splits and mixed synthetic frames: per-column test, score, verdict and the dataset verdict.

Random inputs come from a generator both sides implement bit for bit, so only its spec is
committed (`tests/integration/drift.rs` has the Rust twin): splitmix64, `u = (z >> 11) * 2^-53`,
and only `+ - * /` and `floor` on top of it (no libm), so Rust regenerates identical floats.
Specs: {"gen": "normal", "n", "seed", "loc", "scale", "grid"?} (Irwin-Hall: loc + scale*(sum of
12 uniforms - 6), then floor(v*grid)/grid if grid); {"gen": "int", "n", "seed", "low", "high"}
(low + floor(u*(high-low+1)), as floats); {"gen": "choice", "n", "seed", "values", "weights"?}
(integer weights: r = floor(u*W), first i with r < cumsum[i]); {"gen": "const", "n", "value"};
{"gen": "concat", "parts": [...]}; {"gen": "nan_every"/"inf_every", "base", "every"} (index i
with i % every == every-1 becomes NaN / +inf, alternating sign for inf).
Re-running gives the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

if os.environ.get("PYTHONHASHSEED") != "0":
    sys.exit("run with PYTHONHASHSEED=0 (see the module docstring)")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import evidently  # noqa: E402
from scipy import special, stats  # noqa: E402
from scipy.spatial import distance  # noqa: E402
from scipy.stats._stats_py import (  # noqa: E402
    _compute_outer_prob_inside_method,
    _compute_prob_outside_square,
)
from sklearn.datasets import load_breast_cancer, load_iris, load_wine  # noqa: E402

from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402
from evidently.legacy.calculations.stattests.z_stattest import _z_stat_test  # noqa: E402
from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test  # noqa: E402
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (  # noqa: E402
    _wasserstein_distance_norm,
)
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon  # noqa: E402
from evidently.legacy.core import ColumnType as LegacyColumnType  # noqa: E402

assert scipy.__version__ == "1.17.1", scipy.__version__
assert evidently.__version__ == "0.7.23", evidently.__version__
assert pd.__version__ == "2.3.3", pd.__version__

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "drift"
FRAMES = OUT / "frames"

MASK = (1 << 64) - 1


def f(x) -> str:
    """A float as the shortest string that round-trips (Rust parses it exactly)."""
    return repr(float(x))


# --------------------------------------------------------------------------------------------
# The shared generator


class SplitMix64:
    def __init__(self, seed: int):
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return (self.next() >> 11) * (2.0**-53)


def gen(spec: dict) -> list:
    kind = spec["gen"]
    if kind == "normal":
        rng = SplitMix64(spec["seed"])
        out = []
        for _ in range(spec["n"]):
            s = 0.0
            for _ in range(12):
                s += rng.uniform()
            v = spec["loc"] + spec["scale"] * (s - 6.0)
            if spec.get("grid"):
                v = math.floor(v * spec["grid"]) / spec["grid"]
            out.append(v)
        return out
    if kind == "int":
        rng = SplitMix64(spec["seed"])
        width = spec["high"] - spec["low"] + 1
        return [float(spec["low"] + math.floor(rng.uniform() * width)) for _ in range(spec["n"])]
    if kind == "choice":
        rng = SplitMix64(spec["seed"])
        values = spec["values"]
        weights = spec.get("weights") or [1] * len(values)
        total = sum(weights)
        cum = np.cumsum(weights).tolist()
        out = []
        for _ in range(spec["n"]):
            r = math.floor(rng.uniform() * total)
            out.append(values[next(i for i, c in enumerate(cum) if r < c)])
        return out
    if kind == "const":
        return [spec["value"]] * spec["n"]
    if kind == "concat":
        return [v for part in spec["parts"] for v in gen(part)]
    if kind in ("nan_every", "inf_every"):
        base = gen(spec["base"])
        k = spec["every"]
        out = []
        for i, v in enumerate(base):
            if i % k == k - 1:
                if kind == "nan_every":
                    v = float("nan")
                else:
                    v = float("inf") if (i // k) % 2 == 0 else float("-inf")
            out.append(v)
        return out
    raise ValueError(kind)


def normal(n, seed, loc=0.0, scale=1.0, grid=None):
    spec = {"gen": "normal", "n": n, "seed": seed, "loc": loc, "scale": scale}
    if grid:
        spec["grid"] = grid
    return spec


def ints(n, seed, low, high):
    return {"gen": "int", "n": n, "seed": seed, "low": low, "high": high}


def choice(n, seed, values, weights=None):
    spec = {"gen": "choice", "n": n, "seed": seed, "values": values}
    if weights:
        spec["weights"] = weights
    return spec


def const(n, value):
    return {"gen": "const", "n": n, "value": value}


def concat(*parts):
    return {"gen": "concat", "parts": list(parts)}


# --------------------------------------------------------------------------------------------
# special.json


def special_fixture() -> dict:
    kstwo = []
    for n in [1, 2, 3, 5, 10, 37, 139, 140, 141, 750, 10000, 100000, 100001, 250000]:
        ds = {
            0.5 / n,
            0.5 / n + 1e-9,
            0.75 / n,
            1.0 / n,
            1.5 / n,
            0.49,
            0.5,
            0.7,
            1.0 - 1.0 / n,
            1.0 - 0.5 / n,
            1.0,
        }
        for c in [0.2, 0.5, 0.7, 0.75, 0.76, 0.9, 1.5, 2.0, 2.19, 2.21, 3.0, 3.99, 4.01, 6.0, 17.0, 19.0, 50.0, 150.0, 369.0, 371.0]:
            ds.add(math.sqrt(c / n))
        for c in [1.0, 1.39, 1.41, 3.0]:
            ds.add((c / n) ** (2.0 / 3.0))
        for d in sorted(ds):
            if 0.0 < d <= 1.0:
                kstwo.append([n, f(d), f(stats.kstwo.sf(d, n))])
    square = []
    for n in [1, 2, 3, 10, 75, 100, 569, 800, 1000, 5000, 10000]:
        for h in sorted({1, 2, max(1, n // 20), max(1, n // 10), max(1, n // 4), max(1, n // 2), n}):
            square.append([n, h, f(_compute_prob_outside_square(n, h))])
    inside = []
    for m, n in [(1, 2), (3, 5), (10, 7), (569, 500), (1000, 1200), (100, 10000), (999, 1000), (1000, 10000), (4, 6)]:
        g = math.gcd(m, n)
        lcm = (m // g) * n
        for frac in [1 / lcm, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0]:
            h = max(1, round(frac * lcm))
            inside.append([m, n, g, h, f(_compute_outer_prob_inside_method(m, n, g, h))])
    chdtrc = []
    for df in [1, 2, 3, 4, 5, 9, 10, 30, 99, 500]:
        for x in [0.0, 1e-12, 0.01, 0.5, 1.0, df * 0.5, float(df), df + 0.5, df * 2.0, df * 3.0 + 10, df * 10.0 + 100, 750.0, 1500.0, float("inf")]:
            chdtrc.append([df, f(x), f(special.chdtrc(df, x))])
    ndtr = []
    xs = set()
    rng = np.random.default_rng(11)
    xs.update(float(v) for v in rng.normal(0, 3, 80))
    xs.update(float(v) for v in rng.uniform(0, 40, 40))
    xs.update([0.0, 1e-300, 0.5, 1.0, 1.4142135623730951, 1.4142135623730954, 2.0, 5.0, 8.0, 11.3, 11.32, 20.0, 37.5, 38.5, 40.0])
    for x in sorted(xs):
        for v in (x, -x):
            ndtr.append([f(v), f(special.ndtr(v))])
    return {
        "kstwo_sf": kstwo,
        "prob_outside_square": square,
        "outer_prob_inside": inside,
        "chdtrc": chdtrc,
        "ndtr": ndtr,
    }


# --------------------------------------------------------------------------------------------
# stats.json


def ks_cases() -> list:
    cases = []

    def add(name, a, b):
        ra, rb = gen(a), gen(b)
        res = stats.ks_2samp(ra, rb)
        cases.append({"name": name, "a": a, "b": b, "d": f(res.statistic), "p": f(res.pvalue)})

    # exact, equal sizes
    add("exact_75_75_same", normal(75, 1), normal(75, 2))
    add("exact_75_75_shift", normal(75, 3), normal(75, 4, loc=0.6))
    add("exact_800_800_same", normal(800, 5), normal(800, 6))
    add("exact_800_800_shift", normal(800, 7), normal(800, 8, loc=0.12))
    add("exact_800_800_far", normal(800, 9), normal(800, 10, loc=3.0))
    add("exact_1000_1000_ties", normal(1000, 11, grid=2), normal(1000, 12, loc=0.1, grid=2))
    add("exact_10000_10000", normal(10000, 13), normal(10000, 14, loc=0.03))
    # exact, unequal sizes
    add("exact_1000_1200_same", normal(1000, 15), normal(1200, 16))
    add("exact_1000_1200_shift", normal(1000, 17), normal(1200, 18, loc=0.1))
    add("exact_569_500_same", normal(569, 19), normal(500, 20))
    add("exact_569_500_scale", normal(569, 21), normal(500, 22, scale=1.4))
    add("exact_500_569_scale", normal(500, 22, scale=1.4), normal(569, 21))
    add("exact_30_17", normal(30, 23), normal(17, 24, loc=0.8))
    add("exact_1000_10000", normal(1000, 25), normal(10000, 26, loc=0.05))
    add("exact_3_5_disjoint", normal(3, 27), normal(5, 28, loc=50.0))
    add("exact_ints_ties", ints(400, 29, 0, 9), ints(700, 30, 1, 10))
    add("exact_identical", normal(300, 31), normal(300, 31))
    add("exact_1_1", const(1, 1.0), const(1, 2.0))
    # asymptotic: one side > 10,000
    add("asymp_800_12000_same", normal(800, 32), normal(12000, 33))
    add("asymp_800_12000_shift", normal(800, 34), normal(12000, 35, loc=0.2))
    add("asymp_800_12000_far", normal(800, 36), normal(12000, 37, loc=1.5))
    add("asymp_100_20000_small_n", normal(100, 38), normal(20000, 39, loc=0.25))
    add("asymp_100_20000_far", normal(100, 40), normal(20000, 41, loc=1.2))
    add("asymp_20_15000_nx2_mid", normal(20, 42), normal(15000, 43, loc=0.3))
    add("asymp_20000_20000_tiny_shift", normal(20000, 44), normal(20000, 45, loc=0.015))
    add("asymp_20000_20000_shift", normal(20000, 46), normal(20000, 47, loc=0.05))
    add("asymp_1000_10001", normal(1000, 48), normal(10001, 49, loc=0.08))
    return cases


def chisquare_cases() -> list:
    cases = []
    for name, ref, cur in [
        ("three_same", [100, 200, 300], [50, 100, 150]),
        ("three_shift", [100, 200, 300], [80, 100, 170]),
        ("four_small", [3, 5, 7, 11], [4, 6, 6, 9]),
        ("unseen_in_current", [10, 20, 0], [10, 19, 1]),
        ("only_in_reference", [10, 20, 5], [10, 19, 0]),
        ("many", list(range(1, 41)), list(range(40, 0, -1))),
        ("tiny_p", [500, 500, 1], [100, 100, 800]),
        ("unequal_totals", [7, 13, 29, 51], [70, 130, 300, 480]),
    ]:
        n1, n2 = sum(ref), sum(cur)
        k_norm = n2 / n1
        f_exp = [r * k_norm for r in ref]
        p = stats.chisquare(cur, f_exp)[1]
        cases.append({"name": name, "ref": ref, "cur": cur, "p": f(p)})
    return cases


def z_cases() -> list:
    cases = []
    for name, counts in [
        ("same", [[40, 38], [60, 62]]),
        ("shift", [[40, 60], [60, 40]]),
        ("single_identical", [[100, 80]]),
        ("disjoint", [[10, 0], [0, 12]]),
        ("key0_only_in_current", [[0, 5], [100, 95]]),
        ("tiny_p", [[900, 100], [100, 900]]),
        ("large_z", [[1000, 1], [1, 1000]]),
        ("unbalanced", [[3, 1], [997, 299]]),
        ("half", [[1, 1], [1, 2]]),
    ]:
        values = []
        for side in (0, 1):
            values.append(pd.Series([i for i, c in enumerate(counts) for _ in range(c[side])], dtype="int64"))
        p, _ = _z_stat_test(values[0], values[1], LegacyColumnType.Categorical, 0.05)
        cases.append({"name": name, "counts": counts, "p": f(p)})
    return cases


def wasserstein_cases() -> list:
    cases = []

    def add(name, a, b):
        ra, rb = pd.Series(gen(a), dtype="float64"), pd.Series(gen(b), dtype="float64")
        d, _ = _wasserstein_distance_norm(ra, rb, LegacyColumnType.Numerical, 0.1)
        raw = stats.wasserstein_distance(ra, rb)
        cases.append({"name": name, "a": a, "b": b, "raw": f(raw), "d": f(d)})

    add("same_2000", normal(2000, 60), normal(2000, 61))
    add("shift_2000_3000", normal(2000, 62), normal(3000, 63, loc=0.1))
    add("scale_1500_1200", normal(1500, 64, loc=5.0, scale=3.0), normal(1200, 65, loc=5.0, scale=3.3))
    add("ties_grid", normal(1500, 66, grid=4), normal(1700, 67, loc=0.05, grid=4))
    add("floor_const_reference", const(1200, 3.0), normal(1300, 68, loc=3.0, scale=1e-4))
    add("floor_tiny_std", normal(1200, 69, loc=1.0, scale=1e-4), normal(1100, 70, loc=1.0, scale=1e-4))
    add("identical", normal(1200, 71), normal(1200, 71))
    add("ints", ints(5000, 72, 0, 99), ints(4000, 73, 5, 104))
    return cases


def js_cases() -> list:
    cases = []
    for name, p, q in [
        ("same", [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]),
        ("disjoint", [1.0, 0.0], [0.0, 1.0]),
        ("disjoint_many", [0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.25, 0.75]),
        ("half", [1.0, 0.0], [0.5, 0.5]),
        ("counts_unnormalised", [10.0, 20.0, 30.0], [30.0, 20.0, 10.0]),
        ("nine", [1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]),
        ("near", [0.25, 0.25, 0.5], [0.2501, 0.2499, 0.5]),
    ]:
        d = distance.jensenshannon(np.asarray(p, dtype=float), np.asarray(q, dtype=float))
        cases.append({"name": name, "p": [f(v) for v in p], "q": [f(v) for v in q], "d": f(d)})
    # through Evidently (value frequencies, set order)
    for name, ref, cur in [
        ("evidently_cat", [500, 300, 200, 0], [450, 320, 200, 30]),
        ("evidently_far", [900, 100], [100, 900]),
    ]:
        rs = pd.Series([f"k{i}" for i, c in enumerate(ref) for _ in range(c)])
        cs = pd.Series([f"k{i}" for i, c in enumerate(cur) for _ in range(c)])
        d, _ = _jensenshannon(rs, cs, LegacyColumnType.Categorical, 0.1)
        p = [c / len(rs) for c in ref]
        q = [c / len(cs) for c in cur]
        cases.append({"name": name, "p": [f(v) for v in p], "q": [f(v) for v in q], "d": f(d)})
    return cases


# --------------------------------------------------------------------------------------------
# Evidently reports

NAMES = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


def run_report(cur: pd.DataFrame, ref: pd.DataFrame) -> dict:
    snap = Report([DataDriftPreset()], include_tests=True).run(cur, ref)
    d = snap.dict()
    status = {}
    for t in d["tests"]:
        status[t["metric_config"]["metric_id"]] = t["status"]
    columns = {}
    dataset = None
    for m in d["metrics"]:
        cfg = m["config"]
        if cfg["type"] == "evidently:metric_v2:ValueDrift":
            st = status[m["id"]]
            assert st in ("FAIL", "SUCCESS"), st
            columns[cfg["column"]] = {
                "stattest": NAMES[cfg["method"]],
                "threshold": cfg["threshold"],
                "score": f(m["value"]),
                "drift_detected": st == "FAIL",
            }
        elif cfg["type"] == "evidently:metric_v2:DriftedColumnsCount":
            st = status[m["id"]]
            dataset = {
                "number_of_drifted_columns": int(m["value"]["count"]),
                "share_of_drifted_columns": f(m["value"]["share"]),
                "dataset_drift": st == "FAIL",
            }
    dataset["number_of_columns"] = len(columns)
    return {"columns": columns, "dataset": dataset}


def series(values: list, kind: str) -> pd.Series:
    if kind == "num":
        return pd.Series(values, dtype="float64")
    if all(isinstance(v, str) for v in values):
        return pd.Series(values, dtype="object")
    return pd.Series([int(v) for v in values], dtype="int64")


def column_cases() -> list:
    cases = []

    def add(name, kind, ref, cur, expect=None):
        rs, cs = series(gen(ref), kind), series(gen(cur), kind)
        res = run_report(pd.DataFrame({"x": cs}), pd.DataFrame({"x": rs}))["columns"]["x"]
        if expect is not None:
            assert res["stattest"] == expect, (name, res)
        cases.append({"name": name, "kind": kind, "ref": ref, "cur": cur, **res})

    # reference size boundary (after cleaning)
    add("num_ref_1000_ks", "num", normal(1000, 100), normal(900, 101, loc=0.1), "ks")
    add("num_ref_1001_wasserstein", "num", normal(1001, 102), normal(900, 103, loc=0.1), "wasserstein")
    add(
        "num_ref_1001_rows_996_clean_ks",
        "num",
        {"gen": "nan_every", "base": normal(1001, 104), "every": 200},
        normal(700, 105, loc=0.15),
        "ks",
    )
    add(
        "num_ref_1005_rows_inf_1000_clean_ks",
        "num",
        {"gen": "inf_every", "base": normal(1005, 106), "every": 201},
        normal(1000, 107),
        "ks",
    )
    # distinct-value boundaries, numerical
    add("num_5_values_small_chisquare", "num", ints(600, 108, 1, 5), ints(500, 109, 1, 5), "chisquare")
    add("num_6_values_small_ks", "num", ints(600, 110, 1, 6), ints(500, 111, 1, 6), "ks")
    add("num_5_values_large_js", "num", ints(3000, 112, 1, 5), ints(2000, 113, 1, 5), "jensenshannon")
    add("num_6_values_large_wasserstein", "num", ints(3000, 114, 1, 6), ints(2000, 115, 1, 6), "wasserstein")
    add("num_2_values_z", "num", ints(800, 116, 0, 1), choice(700, 117, [0.0, 1.0], [6, 4]), "z")
    add("num_3_values_chisquare", "num", ints(800, 118, 0, 2), ints(700, 119, 0, 2), "chisquare")
    add(
        "num_5_values_union_small_chisquare",
        "num",
        ints(400, 120, 1, 3),
        ints(400, 121, 3, 5),
        "chisquare",
    )
    add(
        "num_6_values_union_small_ks",
        "num",
        ints(400, 122, 1, 3),
        ints(400, 123, 4, 6),
        "ks",
    )
    add("num_single_identical_z_p1", "num", const(300, 2.5), const(200, 2.5), "z")
    add("num_two_single_values_z", "num", const(300, 2.5), const(200, 3.5), "z")
    # categorical
    add("cat_2_values_z", "cat", choice(500, 124, ["a", "b"]), choice(450, 125, ["a", "b"], [3, 2]), "z")
    add("cat_3_values_chisquare", "cat", choice(500, 126, ["a", "b", "c"]), choice(450, 127, ["a", "b", "c"]), "chisquare")
    add(
        "cat_unseen_in_current_p0",
        "cat",
        choice(500, 128, ["a", "b", "c"]),
        choice(450, 129, ["a", "b", "c", "d"], [30, 30, 30, 1]),
        "chisquare",
    )
    add("cat_single_identical_z_p1", "cat", const(400, "same"), const(300, "same"), "z")
    add("cat_ints_2_values_z", "cat", choice(900, 130, [3, 7], [1, 1]), choice(800, 131, [3, 7], [1, 1]), "z")
    add("cat_ref_1000_chisquare", "cat", choice(1000, 132, ["x", "y", "z"]), choice(800, 133, ["x", "y", "z"], [5, 4, 4]), "chisquare")
    add("cat_ref_1001_js", "cat", choice(1001, 134, ["x", "y", "z"]), choice(800, 135, ["x", "y", "z"], [5, 4, 4]), "jensenshannon")
    add("cat_large_js_drift", "cat", choice(5000, 136, ["p", "q", "r", "s"]), choice(4000, 137, ["p", "q", "r", "s", "t"], [1, 1, 2, 2, 2]), "jensenshannon")
    add("cat_large_js_disjoint_max", "cat", const(2000, "left"), const(1500, "right"), "jensenshannon")
    add("cat_ints_large_js", "cat", choice(4000, 138, [1, 2, 3, 4, 5, 6, 7, 8]), choice(3000, 139, [1, 2, 3, 4, 5, 6, 7, 8]), "jensenshannon")
    # KS: exact small and unequal; asymptotic via a large current column
    add("num_ks_75_75", "num", normal(75, 140), normal(75, 141, loc=0.5), "ks")
    add("num_ks_569_500", "num", normal(569, 142), normal(500, 143, scale=1.3), "ks")
    add("num_ks_800_12000_asymptotic", "num", normal(800, 144), normal(12000, 145, loc=0.09), "ks")
    # Wasserstein floor
    add("num_wasserstein_std_floor", "num", concat(const(1500, 1.0), normal(5, 146, loc=1.0, scale=1e-5)), normal(1200, 147, loc=1.0, scale=1e-5), "wasserstein")
    return cases


# --------------------------------------------------------------------------------------------
# Whole frames


def clean_names(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [c.replace(" ", "_").replace("/", "_").replace("(", "").replace(")", "") for c in frame.columns]
    return frame


def frame_cases() -> list:
    FRAMES.mkdir(parents=True, exist_ok=True)
    for old in FRAMES.glob("*.csv"):
        old.unlink()
    out = []

    written: dict[str, Path] = {}

    def save(frame: pd.DataFrame, path: Path) -> Path:
        # An identical frame already written is referenced, not committed twice.
        text = frame.to_csv(index=False)
        if text in written:
            return written[text]
        path.write_text(text)
        written[text] = path
        return path

    def add(name, ref: pd.DataFrame, cur: pd.DataFrame, note: str):
        ref_path = save(ref, FRAMES / f"{name}_ref.csv")
        cur_path = save(cur, FRAMES / f"{name}_cur.csv")
        # Evidently sees exactly what the Rust test reads.
        ref_r, cur_r = pd.read_csv(ref_path), pd.read_csv(cur_path)
        res = run_report(cur_r, ref_r)
        dtypes = {c: str(cur_r[c].dtype) for c in cur_r.columns}
        out.append({"name": name, "note": note, "reference": ref_path.name, "current": cur_path.name, "current_dtypes": dtypes, **res})

    iris = clean_names(load_iris(as_frame=True).frame)
    add("iris_split", iris.iloc[::2], iris.iloc[1::2], "even rows vs odd rows, 75/75: exact KS, equal sizes; target int (3 values) is categorical")
    shifted = iris.iloc[1::2].copy()
    shifted["sepal_length_cm"] = (shifted["sepal_length_cm"] + 0.6).round(1)
    shifted["petal_width_cm"] = (shifted["petal_width_cm"] * 1.3).round(2)
    shifted["petal_length_cm"] = (shifted["petal_length_cm"] + 0.9).round(1)
    add("iris_shift", iris, shifted, "150 vs 75 with three shifted columns: dataset drift at 3/5")

    wine = clean_names(load_wine(as_frame=True).frame)
    add("wine_ordered", wine.iloc[:100], wine.iloc[100:], "first 100 rows vs last 78 (sorted by class): heavy drift")
    perm = np.random.default_rng(7).permutation(len(wine))
    add("wine_shuffled", wine.iloc[perm[:89]], wine.iloc[perm[89:]], "random 89/89 split: little drift")

    bc = clean_names(load_breast_cancer(as_frame=True).frame)
    keep = ["mean_radius", "mean_texture", "mean_smoothness", "mean_concavity", "worst_area", "worst_symmetry", "target"]
    bc = bc[keep]
    boot = bc.iloc[np.random.default_rng(3).integers(0, len(bc), 500)].copy()
    add("breast_cancer_569_500", bc, boot, "569 vs a 500-row bootstrap: exact KS with unequal sizes; target int 0/1 -> Z")
    boot2 = boot.copy()
    boot2["mean_radius"] = (boot2["mean_radius"] * 1.08).round(3)
    boot2["mean_texture"] = (boot2["mean_texture"] + 1.5).round(2)
    boot2["worst_area"] = (boot2["worst_area"] * 1.1).round(1)
    boot2["target"] = np.where(np.random.default_rng(4).random(len(boot2)) < 0.25, 1, boot2["target"])
    add("breast_cancer_shifted", bc, boot2, "as above with three scaled columns and a target shift: 4/7 drifted")

    rng = np.random.default_rng(2024)

    def mixed(n, shift, rng):
        d = {}
        d["cont"] = np.round(rng.normal(0, 1, n), 2)
        d["cont_shift"] = np.round(rng.normal(shift, 1, n), 2)
        d["few5"] = rng.integers(0, 5, n).astype(float) * 0.5
        d["few6"] = rng.integers(0, 6, n).astype(float)
        d["int_cat"] = rng.integers(1, 5, n)
        d["int_many"] = rng.integers(0, 60, n) + (3 if shift else 0)
        d["str_cat"] = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2] if not shift else [0.45, 0.3, 0.25])
        d["nulls_to_1000"] = np.round(rng.normal(0, 1, n), 2)
        d["nulls_to_1001"] = np.round(rng.normal(0, 1, n), 2)
        d["with_inf"] = np.round(rng.normal(10, 2, n), 2)
        d["int_with_null"] = rng.integers(0, 100, n).astype(float)
        return pd.DataFrame(d)

    ref = mixed(1200, 0.0, rng)
    ref.loc[:199, "nulls_to_1000"] = np.nan  # 1000 clean values: KS
    ref.loc[:198, "nulls_to_1001"] = np.nan  # 1001 clean values: Wasserstein
    ref.loc[::97, "with_inf"] = np.inf
    ref.loc[5, "int_with_null"] = np.nan
    cur = mixed(1100, 0.2, rng)
    cur.loc[::50, "with_inf"] = -np.inf
    cur.loc[7, "int_with_null"] = np.nan
    cur.loc[cur.index[:40], "str_cat"] = "violet"  # unseen category
    add("mixed_large", ref, cur, "1200 vs 1100 rows: Wasserstein, JS (num <=5 values, int cat, str cat), KS via nulls (1000 clean), inf cleaning")

    def small(n, rng, drift):
        d = {}
        d["two_vals"] = rng.choice([0, 1], n, p=[0.5, 0.5] if not drift else [0.35, 0.65])
        d["three_vals"] = rng.choice([10, 20, 30], n)
        d["one_val"] = np.full(n, 4)
        d["str_two"] = rng.choice(["no", "yes"], n, p=[0.7, 0.3] if not drift else [0.5, 0.5])
        d["str_unseen"] = rng.choice(["a", "b", "c"], n)
        d["num5"] = rng.integers(1, 6, n).astype(float)
        d["num6"] = rng.integers(1, 7, n).astype(float) + (0.0 if not drift else 0.0)
        d["num_cont"] = np.round(rng.normal(0, 1, n) + (0.3 if drift else 0.0), 3)
        d["num_two_float"] = rng.choice([0.5, 1.5], n)
        d["int_eleven"] = rng.integers(0, 11, n)
        return pd.DataFrame(d)

    ref = small(300, rng, False)
    cur = small(250, rng, True)
    cur.loc[cur.index[:3], "str_unseen"] = "zzz"
    # make int_eleven have exactly 11 uniques in current (numerical)
    cur.loc[cur.index[:11], "int_eleven"] = np.arange(11)
    add("mixed_small", ref, cur, "300 vs 250 rows: Z (2 values, incl. strings), chi-square (3 values), unseen category (p=0), single identical value (p=1), 5/6 values, int with 11 uniques -> num")

    ref = small(1000, rng, False)
    cur = small(1001, rng, False)
    cur.loc[cur.index[:11], "int_eleven"] = np.arange(11)
    add("mixed_1000", ref, cur, "reference of exactly 1000 rows: every column on the small-data tests")
    ref2 = small(1001, rng, False)
    add("mixed_1001", ref2, cur, "reference of 1001 rows: every column on the large-data tests")
    return out


# --------------------------------------------------------------------------------------------


def write(name: str, data) -> None:
    path = OUT / name
    text = json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n"
    path.write_text(text)
    print(f"{path.relative_to(ROOT)}: {len(text)} bytes")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"scipy": scipy.__version__, "evidently": evidently.__version__, "pandas": pd.__version__, "numpy": np.__version__}
    write("special.json", {"versions": meta, **special_fixture()})
    write(
        "stats.json",
        {
            "versions": meta,
            "ks": ks_cases(),
            "chisquare": chisquare_cases(),
            "z": z_cases(),
            "wasserstein": wasserstein_cases(),
            "jensenshannon": js_cases(),
        },
    )
    write("columns.json", {"versions": meta, "cases": column_cases()})
    write("frames.json", {"versions": meta, "frames": frame_cases()})


if __name__ == "__main__":
    main()

"""Generates the benchmark data: ROWS x 20 columns (12 float, 4 int, 4 string), current and
reference, about 170 MB each at 1M rows (floats with 8 decimals). Usage: validate_gen.py OUT_DIR ROWS"""
import sys

import numpy as np
import pandas as pd

out, rows = sys.argv[1], int(sys.argv[2])


def frame(seed, shift):
    r = np.random.default_rng(seed)
    d = {}
    for i in range(12):
        x = r.normal(10 + (shift if i < 3 else 0), 2, rows).round(8)
        x[r.random(rows) < 0.01] = np.nan
        d[f"f{i}"] = x
    for i in range(4):
        d[f"i{i}"] = r.integers(0, 5 if i < 2 else 1000, rows)
    for i in range(4):
        d[f"s{i}"] = r.choice(["red", "green", "blue", "black", "white", "grey"], rows)
    return pd.DataFrame(d)


frame(1, 0.0).to_csv(f"{out}/ref.csv", index=False)
frame(2, 0.5).to_csv(f"{out}/cur.csv", index=False)

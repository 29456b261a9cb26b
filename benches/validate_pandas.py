"""Baseline: pandas read + null ratios + required columns. Usage: validate_pandas.py CSV"""
import sys

import pandas as pd

df = pd.read_csv(sys.argv[1])
ratios = df.isna().sum() / len(df)
missing = [c for c in ["f0", "i0", "s0"] if c not in df.columns]
print(int((ratios > 0.05).sum()), missing)

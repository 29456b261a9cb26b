"""Baseline: Evidently DataDriftPreset, current vs reference. Usage: validate_evidently.py CUR REF"""
import sys
import warnings

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

warnings.filterwarnings("ignore")
cur, ref = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
snap = Report([DataDriftPreset()]).run(cur, ref).dict()
for m in snap["metrics"]:
    if m["config"]["type"].endswith("DriftedColumnsCount"):
        print("drifted", m["value"])

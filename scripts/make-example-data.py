"""Writes the examples' CSV data from scikit-learn's bundled datasets (no network).

Run once with the harness venv: target/harness/venv/bin/python scripts/make-example-data.py
The outputs are committed; re-running gives the same bytes.
"""

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent / "examples"


def split(loader, out: Path, prefix: str = "", seed: int = 42) -> None:
    frame = loader(as_frame=True).frame
    frame.columns = [c.replace(" ", "_").replace("/", "_").replace("(", "").replace(")", "") for c in frame.columns]
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=frame["target"])
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / f"{prefix}train.csv", index=False)
    test.to_csv(out / f"{prefix}test.csv", index=False)


split(load_wine, ROOT / "wine-classifier" / "data")
split(load_wine, ROOT / "dvc-s3" / "data")
split(load_wine, ROOT / "multi-model" / "data" / "wine")
split(load_iris, ROOT / "multi-model" / "data" / "iris")
split(load_breast_cancer, ROOT / "multi-model" / "data" / "breast-cancer")
split(load_wine, ROOT / "pytorch-gpu" / "data")
# The drift reference of pytorch-gpu: another split of the same data, standing in for the data
# the production model was trained on.
split(load_wine, ROOT / "pytorch-gpu" / "data" / "reference", seed=7)

"""Produces the committed fixtures and expected results of `mlops run validate`.

Run once, from the repository root, and commit the output:

    PYTHONHASHSEED=0 target/harness/venv/bin/python scripts/reference/validate_reference.py

It writes data files under tests/fixtures/validate/ and the verdicts pandas 2.3.3,
Evidently 0.7.23 and Great Expectations 1.24.1 give for them (`*.expected.json`). The Rust
tests compare against these files and never import Python.
"""

import json
import math
import os
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "validate")
OUT = os.path.normpath(OUT)
os.makedirs(OUT, exist_ok=True)


def p(name):
    return os.path.join(OUT, name)


def clean(v):
    """JSON-safe: NaN/inf → None, numpy scalars → Python."""
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return None if (math.isnan(v) or math.isinf(v)) else v
    return v


def dump(name, obj):
    with open(p(name), "w") as f:
        json.dump(clean(obj), f, indent=2, sort_keys=True)
        f.write("\n")


def evidently_kinds(df):
    from evidently import Dataset

    dd = Dataset.from_pandas(df)._data_definition
    kinds = {}
    for kind, cols in [
        ("num", dd.get_numerical_columns()),
        ("cat", dd.get_categorical_columns()),
        ("text", dd.get_text_columns()),
        ("datetime", dd.get_datetime_columns()),
    ]:
        for c in cols:
            kinds[c] = kind
    return {c: kinds.get(c, "unknown") for c in df.columns}


def profile(df):
    kinds = evidently_kinds(df)
    return {
        "rows": len(df),
        "columns": {
            c: {
                "dtype": str(df[c].dtype),
                "kind": kinds[c],
                "null_count": int(df[c].isna().sum()),
                "null_ratio": float(df[c].isna().sum() / len(df)) if len(df) else 0.0,
            }
            for c in df.columns
        },
    }


# ---------------------------------------------------------------- kinds.csv (pandas + Evidently)
KINDS_CSV = """int_small,int_many,int_nulls,float_col,na_tokens,dash,bool_col,bool_nulls,mixed,text_id,all_empty,cat_str,lot,sci,spaced
1,10,1,1.5,1.0,1.0,True,True,1,id-000,,red,LOT-123,1e3,a
2,11,2,2.25,n/a,2.0,False,False,x,id-001,,blue,LOT-7,2.5,b
3,12,,3.0,NULL,-,TRUE,,2,id-002,,red,LOT-1234,1e-05,c
1,13,4,4.5,#N/A,4.0,false,True,y,id-003,,green,lot-999,4,d
2,14,5,-0.5,NaN,5.0,true,False,3,id-004,,red,LOT-042,5,e
3,15,6,6.0,-nan,6.0,FALSE,True,z,id-005,,blue,LOT-5555,6,f
1,16,7,7.75,<NA>,7.0,True,True,4,id-006,,red,LOT-001,7,g
2,17,8,8.0,None,8.0,False,False,w,id-007,,red,LOT-002,8,h
3,18,9,9.5,9.0,9.0,True,True,5,id-008,,blue,XLOT-003,9,i
1,19,10,10.0,nan,10.0,False,False,v,id-009,,green,LOT-004,10,j
2,20,11,11.0,N/A,11.0,True,True,6,id-010,,red,LOT-005,11,k
3,21,12,12.5,12.0, NA,False,False,u,id-011,,red,LOT-006,12,l
"""
with open(p("kinds.csv"), "w") as f:
    f.write(KINDS_CSV)
kinds_df = pd.read_csv(p("kinds.csv"))
dump("kinds.expected.json", profile(kinds_df))

# ---------------------------------------------------------------- nulls exactly at the threshold
rng = np.random.default_rng(7)
n = 200
a = rng.normal(size=n).round(6).tolist()
b = rng.integers(0, 100, size=n).astype(float).tolist()
for i in range(10):
    a[i * 20] = None
for i in range(12):
    b[i * 16 + 3] = None
pd.DataFrame({"id": range(n), "a": a, "b": b}).to_csv(p("nulls_200.csv"), index=False)
nulls_df = pd.read_csv(p("nulls_200.csv"))
nulls = profile(nulls_df)
for c, v in nulls["columns"].items():
    v["null_check_passed"] = v["null_ratio"] <= 0.05
dump("nulls_200.expected.json", nulls)

# ---------------------------------------------------------------- expectations (GE 1.x)
EXPECT_CSV = """id,score,grade,code,dup,flag,maybe
1,1.0,A,LOT-123,1,True,10
2,2.5,B,LOT-7,2,False,
3,3.0,A,LOT-1234,2,True,30
4,,C,LOT-042,3,True,40
5,5.0,B,lot-999,3,False,
6,6.5,A,LOT-555,3,True,60
7,7.0,D,LOT-0001,4,True,70
8,1e-05,B,XLOT-003,5,False,80
9,9.0,A,LOT-321,6,True,90
10,10.0,,LOT-111,7,True,100
"""
with open(p("expect.csv"), "w") as f:
    f.write(EXPECT_CSV)

SUITE = {
    "name": "fixture",
    "meta": {"great_expectations_version": "1.24.1"},
    "expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": "score"}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "nope"}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "score", "column_index": 0}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "score", "column_index": 1}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "score", "column_index": 2}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 5, "max_value": 10}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 5, "max_value": 10, "strict_max": True}},
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["id", "score", "grade", "code", "dup", "flag", "maybe"]}},
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["id", "score", "extra"], "exact_match": False}},
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["id", "score"], "exact_match": False}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "score"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "score", "mostly": 0.9}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "maybe", "mostly": 0.9}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "missing_col"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score", "min_value": 1.0, "max_value": 10.0}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score", "min_value": 1.0, "max_value": 10.0, "strict_min": True, "strict_max": True}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score", "min_value": 1.0, "max_value": 10.0, "strict_max": True, "mostly": 0.75}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "id", "max_value": 5}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "grade", "min_value": 1, "max_value": 3}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "missing_col", "min_value": 0, "max_value": 1}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "grade", "value_set": ["A", "B", "C"]}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "dup", "value_set": [1, 2.0, 3, "4"]}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "maybe", "value_set": [10, 30, 40, 60, 70, 80, 90, 100]}},
        {"type": "expect_column_values_to_not_be_in_set", "kwargs": {"column": "grade", "value_set": ["D"]}},
        {"type": "expect_column_values_to_not_be_in_set", "kwargs": {"column": "dup", "value_set": [3], "mostly": 0.7}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "dup"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "grade", "mostly": 0.1}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "code", "regex": "LOT-\\d{3}"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "code", "regex": "^LOT-\\d{3}$"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "score", "regex": "\\.0$"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "score", "regex": "e-"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "id", "type_": "int"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "id", "type_": "int64"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "maybe", "type_": "int64"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "score", "type_": "float"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "grade", "type_": "str"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "grade", "type_": "int"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "flag", "type_": "bool"}},
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "missing_col", "type_": "int"}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "score", "min_value": 4.0, "max_value": 6.0}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "id", "min_value": 5.5, "max_value": 6, "strict_min": True}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "grade", "min_value": 0, "max_value": 1}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "missing_col", "min_value": 0, "max_value": 1}},
        {"type": "expect_column_min_to_be_between", "kwargs": {"column": "score", "min_value": 0, "max_value": 1}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "maybe", "min_value": 50, "max_value": 100, "strict_max": True}},
    ],
}
with open(p("suite.json"), "w") as f:
    json.dump(SUITE, f, indent=2)
    f.write("\n")

import great_expectations as gx
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

ctx = gx.get_context(mode="ephemeral")
df = pd.read_csv(p("expect.csv"))
batch = (
    ctx.data_sources.add_pandas("src")
    .add_dataframe_asset("asset")
    .add_batch_definition_whole_dataframe("bd")
    .get_batch(batch_parameters={"dataframe": df})
)
suite = ExpectationSuite(name="fixture")
for i, e in enumerate(SUITE["expectations"]):
    cfg = ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta={"idx": i})
    suite.add_expectation(cfg.to_domain_obj())
res = batch.validate(suite, result_format="SUMMARY").to_json_dict()
by_idx = {r["expectation_config"]["meta"]["idx"]: r for r in res["results"]}
FIELDS = ["element_count", "unexpected_count", "unexpected_percent", "missing_count", "missing_percent",
          "unexpected_percent_total", "unexpected_percent_nonmissing", "observed_value", "partial_unexpected_list"]
expected = []
for i, e in enumerate(SUITE["expectations"]):
    r = by_idx[i]
    out = {"type": e["type"], "success": r["success"], "result": {k: r["result"][k] for k in FIELDS if k in r["result"]}}
    exc = r.get("exception_info") or {}
    msgs = [v.get("exception_message") for v in exc.values() if isinstance(v, dict) and v.get("raised_exception")]
    if exc.get("raised_exception"):
        msgs.append(exc.get("exception_message"))
    out["exception"] = bool(msgs)
    out["exception_message"] = msgs[0] if msgs else None
    if "details" in r["result"]:
        out["result"]["details"] = r["result"]["details"]
    expected.append(out)
dump("suite.expected.json", {"success": res["success"], "results": expected})

# ---------------------------------------------------------------- drift (Evidently DataDriftPreset)
from evidently import Report
from evidently.presets import DataDriftPreset

METHODS = {"K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z",
           "Wasserstein distance (normed)": "wasserstein", "Jensen-Shannon distance": "jensenshannon"}


def evidently_drift(cur, ref):
    snap = Report([DataDriftPreset()]).run(cur, ref).dict()
    cols = {}
    dataset = None
    for m in snap["metrics"]:
        cfg = m["config"]
        if cfg["type"].endswith("DriftedColumnsCount"):
            dataset = {"count": m["value"]["count"], "share": m["value"]["share"]}
        elif cfg["type"].endswith("ValueDrift"):
            t = METHODS.get(cfg["method"], cfg["method"])
            score, th = m["value"], cfg["threshold"]
            if t == "ks":
                drift = score <= th
            elif t in ("chisquare", "z"):
                drift = score < th
            elif t in ("wasserstein", "jensenshannon"):
                drift = score >= th
            else:
                drift = None
            cols[cfg["column"]] = {"stattest": t, "score": score, "threshold": th, "drift_detected": drift}
    dataset["dataset_drift"] = dataset["share"] >= 0.5
    return {"dataset": dataset, "columns": cols}


def drift_frames(seed, n_ref, n_cur, shift):
    r = np.random.default_rng(seed)
    def frame(n, s, only):
        d = {
            "num_stable": r.normal(10, 2, n).round(4),
            "num_shift": r.normal(10 + 3 * s, 2, n).round(4),
            "few_values": r.integers(1, 5, n).astype(float),
            "int_cat": r.integers(0, 4 if s == 0 else 6, n),
            "binary": r.choice(["yes", "no"], n, p=[0.5, 0.5] if s == 0 else [0.8, 0.2]),
            "color": r.choice(["red", "green", "blue", "black"], n),
            "free_text": [f"note {i} {r.integers(1e9)}" for i in range(n)],
        }
        d["num_shift"][:5] = np.nan
        d[only] = r.normal(size=n).round(3)
        return pd.DataFrame(d)
    return frame(n_ref, 0, "ref_only"), frame(n_cur, shift, "cur_only")


for label, seed, n_ref, n_cur in [("small", 11, 300, 250), ("large", 12, 1200, 1100)]:
    ref, cur = drift_frames(seed, n_ref, n_cur, 1)
    ref.to_csv(p(f"drift_{label}_ref.csv"), index=False)
    cur.to_csv(p(f"drift_{label}_cur.csv"), index=False)
    ref_r, cur_r = pd.read_csv(p(f"drift_{label}_ref.csv")), pd.read_csv(p(f"drift_{label}_cur.csv"))
    # Evidently fails on a current-only column; it is left out of its run.
    result = evidently_drift(cur_r.drop(columns=["cur_only"]), ref_r)
    result["kinds"] = evidently_kinds(cur_r)
    dump(f"drift_{label}.expected.json", result)

# ---------------------------------------------------------------- Parquet (pyarrow)
table = pa.table({
    "i64": pa.array(list(range(20)), pa.int64()),
    "i32_small": pa.array([i % 3 for i in range(20)], pa.int32()),
    "i64_nulls": pa.array([None if i % 7 == 0 else i for i in range(20)], pa.int64()),
    "f64": pa.array([i * 0.5 if i % 5 else None for i in range(20)], pa.float64()),
    "s": pa.array([None if i == 3 else ["a", "b", "c"][i % 3] for i in range(20)], pa.string()),
    "b": pa.array([i % 2 == 0 for i in range(20)], pa.bool_()),
    "ts": pa.array([1_600_000_000_000_000 + i * 1_000_000 for i in range(20)], pa.timestamp("us")),
})
pq.write_table(table, p("typed.parquet"), row_group_size=8)
pdf = pd.read_parquet(p("typed.parquet"))
dump("typed.expected.json", profile(pdf))

# ---------------------------------------------------------------- bad inputs
with open(p("ragged.csv"), "w") as f:
    f.write("a,b,c\n1,2,3\n4,5\n6,7,8\n")
with open(p("non_utf8.csv"), "wb") as f:
    f.write(b"a,b\n1,caf\xe9\n")
with open(p("empty.csv"), "w") as f:
    pass
with open(p("unclosed_quote.csv"), "w") as f:
    f.write('a,b\n1,"open\n2,3\n')
print("fixtures written to", OUT)

"""Baseline: Great Expectations 1.x running a suite on a CSV. Usage: validate_ge.py CSV SUITE"""
import json
import sys
import warnings

import great_expectations as gx
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

warnings.filterwarnings("ignore")
df = pd.read_csv(sys.argv[1])
ctx = gx.get_context(mode="ephemeral")
batch = (
    ctx.data_sources.add_pandas("s").add_dataframe_asset("a")
    .add_batch_definition_whole_dataframe("b").get_batch(batch_parameters={"dataframe": df})
)
suite = ExpectationSuite(name="bench")
for e in json.load(open(sys.argv[2]))["expectations"]:
    suite.add_expectation(ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]).to_domain_obj())
res = batch.validate(suite, result_format="SUMMARY")
print("success", res.success, [r.success for r in res.results])

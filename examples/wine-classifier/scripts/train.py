"""Train a wine classifier. An ordinary script: it runs the same locally and in CI.

`mlops run train` starts it inside an MLflow run with `mlflow.sklearn.autolog()` enabled, so
parameters, training metrics and the model are logged without any MLflow code here. The one
explicit metric is the held-out accuracy that the pipeline's gate reads.
"""

import argparse

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--test-data", required=True)
    parser.add_argument("--target", default="target")
    parser.add_argument("--n-estimators", type=int, default=200)
    parser.add_argument("--max-depth", type=int, default=None)
    args = parser.parse_args()

    train = pd.read_csv(args.data)
    test = pd.read_csv(args.test_data)
    x_train, y_train = train.drop(columns=[args.target]), train[args.target]
    x_test, y_test = test.drop(columns=[args.target]), test[args.target]

    model = RandomForestClassifier(
        n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=42
    )
    model.fit(x_train, y_train)
    predictions = model.predict(x_test)
    accuracy = accuracy_score(y_test, predictions)
    f1 = f1_score(y_test, predictions, average="macro")
    print(f"accuracy={accuracy:.4f} f1_macro={f1:.4f}")

    try:
        import mlflow
    except ImportError:  # runs without MLflow too, for local experiments
        return
    if mlflow.active_run() is None and not __import__("os").environ.get("MLFLOW_RUN_ID"):
        return
    with mlflow.start_run():  # resumes the run that `mlops run train` created
        mlflow.log_metric("accuracy", accuracy)
        mlflow.log_metric("f1_macro", f1)


if __name__ == "__main__":
    main()

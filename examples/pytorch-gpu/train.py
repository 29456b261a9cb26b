"""A small PyTorch MLP for the wine data. It reports `val_loss`, which the gate keeps below
a threshold (`higher_is_better = false`). It uses the GPU when one is there."""

import argparse

import mlflow
import pandas as pd
import torch
from torch import nn


def tensors(frame: pd.DataFrame, target: str, device: torch.device):
    x = torch.tensor(frame.drop(columns=[target]).values, dtype=torch.float32, device=device)
    y = torch.tensor(frame[target].values, dtype=torch.long, device=device)
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--test-data", required=True)
    parser.add_argument("--target", default="target")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()

    torch.manual_seed(42)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x_train, y_train = tensors(pd.read_csv(args.data), args.target, device)
    x_test, y_test = tensors(pd.read_csv(args.test_data), args.target, device)
    mean, std = x_train.mean(0), x_train.std(0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = nn.Sequential(nn.Linear(x_train.shape[1], 32), nn.ReLU(), nn.Linear(32, 3)).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    with mlflow.start_run():  # resumes the run created by `mlops run train`
        mlflow.log_params({"epochs": args.epochs, "lr": args.lr, "device": str(device)})
        for epoch in range(args.epochs):
            model.train()
            optimiser.zero_grad()
            loss = loss_fn(model(x_train), y_train)
            loss.backward()
            optimiser.step()
            if epoch % 50 == 0 or epoch == args.epochs - 1:
                model.eval()
                with torch.no_grad():
                    val_loss = loss_fn(model(x_test), y_test).item()
                    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
                mlflow.log_metrics(
                    {"train_loss": loss.item(), "val_loss": val_loss, "accuracy": accuracy}, step=epoch
                )
        print(f"val_loss={val_loss:.4f} accuracy={accuracy:.4f}")


if __name__ == "__main__":
    main()

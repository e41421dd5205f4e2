"""The code tour's train.py: choose the activation, step size, number of epochs and tolerance,
then repeat the training over several evaluation runs to see the distribution of outcomes.

    python examples/code_tour_train.py
"""

from __future__ import annotations

from micrograd.train import TrainConfig, evaluate

N_EVALS = 10  # independent training runs, one seed each
N_EPOCHS = 200
STEP_SIZE = 0.05
TOLERANCE = 0.01  # stop a run as soon as its loss falls to this


def main(n_evals: int = N_EVALS, workers: int | None = None) -> dict[str, dict[str, float]]:
    """Compare tanh with ReLU on the seed's toy data; return mean final loss per activation."""
    out = {}
    for activation in ("tanh", "relu"):
        config = TrainConfig(
            dataset="toy",
            layers=(4, 4, 1),
            activation=activation,
            loss="mse",
            lr=STEP_SIZE,
            schedule="constant",
            l2=0.0,
            epochs=N_EPOCHS,
            tolerance=TOLERANCE,
            mode="per-sample",
        )
        summary = evaluate(config, seeds=range(n_evals), workers=workers)
        loss = summary.loss
        steps = summary.epochs_to_tolerance
        print(
            f"{activation:>5}: final loss {loss['mean']:.4f} ± {loss['std']:.4f} "
            f"(min {loss['min']:.4f}, max {loss['max']:.4f}); reached the tolerance in "
            f"{summary.converged}/{n_evals} runs, after {steps['mean']:.0f} epochs on average"
        )
        out[activation] = loss
    return out


if __name__ == "__main__":
    main()

"""Three-class classification on the yin-yang data set, EurekaLabs-style: an MLP with three
outputs (one logit per class), cross-entropy loss, AdamW with a cosine learning-rate schedule,
mini-batches, and a validation split with early stopping.

    python examples/yinyang_3class.py
"""

from __future__ import annotations

from micrograd.train import TrainConfig, train


def main(epochs: int = 300) -> dict[str, float]:
    config = TrainConfig(
        dataset="yinyang",
        samples=600,
        val=0.2,
        test=0.2,
        layers=(16, 16, 3),
        activation="tanh",
        optimizer="adamw",
        lr=0.02,
        schedule="cosine",
        epochs=epochs,
        batch_size=64,
        l2=0.0,
        patience=40,
    )
    result = train(
        config,
        callbacks=[
            lambda log: (
                print(
                    f"epoch {log['epoch']:.0f} loss {log['loss']:.4f} "
                    f"acc {log['accuracy']:.3f} val acc {log['val_accuracy']:.3f}"
                )
                if log["epoch"] % 25 == 0
                else None
            )
        ],
    )
    scores = result.scores()
    print(
        f"stopped after {result.history.epochs} epochs ({result.history.stop_reason}); "
        f"test accuracy {scores['test_accuracy']:.3f}"
    )
    return scores


if __name__ == "__main__":
    main()

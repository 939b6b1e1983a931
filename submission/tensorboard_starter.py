"""TensorBoard Exploration: log a Keras training run and read it in TensorBoard.

Complete every TODO below, then grade yourself from the project folder:

    make grade

and look at your runs with:

    .venv/bin/tensorboard --logdir=logs

submission/README.md explains each task.
"""

import os
from datetime import datetime

import keras
import tensorflow as tf


def load_mnist_data():
    """Return MNIST as ((x_train, y_train), (x_test, y_test)), pixels in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train / 255.0, y_train), (x_test / 255.0, y_test)


def create_model(learning_rate=0.001):
    """Return a small compiled classifier for 28x28 digit images."""
    model = keras.Sequential(
        [
            keras.layers.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# ---------------------------------------------------------------------------
# Part 1: TensorBoard callback
# ---------------------------------------------------------------------------


def create_tensorboard_callback(experiment_name):
    """Task 1.1: return a TensorBoard callback that logs to a fresh folder.

    The folder is logs/<experiment_name>_<timestamp>, with the timestamp of
    this moment formatted "%Y%m%d-%H%M%S" and the path built with os.path.join.
    The callback writes weight histograms every epoch (histogram_freq=1), the
    model graph (write_graph=True) and its scalars once per epoch
    (update_freq="epoch").
    """
    # TODO Task 1.1: build the log directory and return the callback.
    raise NotImplementedError("Task 1.1: create_tensorboard_callback is not written yet")


def basic_test():
    """Task 1.2: train the model for 5 epochs with the TensorBoard callback.

    Load the data, create a model, and call model.fit with epochs=5,
    validation_split=0.2 and callbacks=[create_tensorboard_callback("basic_test")].
    """
    # TODO Task 1.2: train with the callback from Task 1.1.
    raise NotImplementedError("Task 1.2: basic_test is not written yet")


# ---------------------------------------------------------------------------
# Part 2: custom metric logging
# ---------------------------------------------------------------------------


class CustomMetricsCallback(keras.callbacks.Callback):
    """Task 2.1: log the learning rate and the loss ratio at the end of each epoch."""

    def __init__(self, log_dir):
        super().__init__()
        # TODO Task 2.1: create a summary file writer for log_dir.

    def on_epoch_end(self, epoch, logs=None):
        # TODO Task 2.1: read the optimizer's current learning rate, compute
        # loss_ratio = logs["loss"] / logs["val_loss"] (val_loss defaults to 1
        # when it is missing, and the ratio is 0 when val_loss is not positive),
        # and write both with tf.summary.scalar(..., step=epoch) inside
        # "with self.writer.as_default():".
        raise NotImplementedError("Task 2.1: CustomMetricsCallback is not written yet")


def custom_metrics_test():
    """Task 2.2: train for 10 epochs with both callbacks.

    Use create_tensorboard_callback("custom_metrics_test") and
    CustomMetricsCallback("logs/custom_metrics_test"), with validation_split=0.2.
    """
    # TODO Task 2.2: train with both callbacks.
    raise NotImplementedError("Task 2.2: custom_metrics_test is not written yet")


# ---------------------------------------------------------------------------
# Part 3: experiment comparison
# ---------------------------------------------------------------------------


def compare_learning_rates():
    """Task 3.1: train one model per learning rate: 0.001, 0.01 and 0.1.

    Each run gets its own TensorBoard callback named after its rate (for
    example "lr_0.001"), trains for 20 epochs with validation_split=0.2 and
    prints its final validation accuracy.
    """
    # TODO Task 3.1: run the three experiments.
    raise NotImplementedError("Task 3.1: compare_learning_rates is not written yet")


def main():
    basic_test()
    custom_metrics_test()
    compare_learning_rates()
    print("Done. Start TensorBoard with: tensorboard --logdir=logs")


if __name__ == "__main__":
    main()


# ===========================================================================
# REFLECTION QUESTIONS
# Write each answer in your own words on the comment lines after its "A" line.
# An answer may take several lines; start each line with "#".
# ===========================================================================
#
# Q1: What happens to the training curve when the learning rate is too high (0.1)?
# A1: TODO
#
# Q2: How does the loss ratio help detect overfitting early, and at what value
#     should you worry?
# A2: TODO
#
# Q3: Why use unique timestamps in log directories, and what happens when runs
#     share one?
# A3: TODO
#
# Q4: In the Distributions tab, what do healthy weight distributions look like,
#     and what would dead neurons look like?
# A4: TODO

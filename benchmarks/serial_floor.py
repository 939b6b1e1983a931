"""The serial floor: the reference's 75 epochs in one process, with no grader.

It imports TensorFlow once, replaces keras.datasets.mnist.load_data with the
grading subset as the grader does, and calls the reference's basic_test,
custom_metrics_test and compare_learning_rates one after another, with the
same callbacks. Run it in an empty working directory:

    python benchmarks/serial_floor.py SUBSET_NPZ REFERENCE_PY
"""

from __future__ import annotations

import importlib.util
import sys


def main() -> None:
    subset, reference = sys.argv[1], sys.argv[2]
    import keras
    import numpy as np

    with np.load(subset) as data:
        arrays = {name: data[name] for name in data.files}
    keras.datasets.mnist.load_data = lambda path="mnist.npz": (
        (arrays["x_train"], arrays["y_train"]),
        (arrays["x_test"], arrays["y_test"]),
    )
    spec = importlib.util.spec_from_file_location("reference", reference)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    keras.utils.set_random_seed(1234)
    module.basic_test()
    module.custom_metrics_test()
    module.compare_learning_rates()


if __name__ == "__main__":
    main()

"""Run one group of the student's tasks inside a child process.

The grader starts this file with ``python -I driver.py ...`` in a fresh working
directory. It imports only the standard library, NumPy and Keras, never the
grader, because it shares the process with the student's code. Each step,
model.fit call and epoch is written as a JSON line to the trace file descriptor
given on the command line, and the grader reads these lines only as data.

Before the student's module is imported, guard.py fences the process in
(resource limits, no network, no writes outside the working directory), and
an import hook waits for Keras: the moment anything imports it,
keras.datasets.mnist.load_data is replaced by a loader of the grading subset,
and every Model.fit call is wrapped so that its callbacks, learning rate and
per-epoch logs reach the trace. The wrapper also sets verbose=0, so that the
output holds only what the student prints. Keras is imported only when the
student's code asks for it, so a file that fails before that costs no
TensorFlow import.
"""

from __future__ import annotations

import argparse
import gc
import importlib.abc
import importlib.util
import json
import operator
import os
import random
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

GROUP_STEPS = {
    "callback": ("probe_callback", "basic_test"),
    "custom_metrics": ("custom_metrics_test", "probe_custom_metrics"),
    "comparison": ("compare_learning_rates",),
}
GUARD = Path(__file__).with_name("guard.py")
PROBE_EXPERIMENT = "probe_run"
PROBE_PAUSE_S = 1.1
# Fed to CustomMetricsCallback.on_epoch_end one epoch at a time, with the
# ratio a correct callback logs: loss / val_loss, 0 when val_loss <= 0, and
# loss / 1 when val_loss is missing.
PROBE_EPOCH_LOGS = (
    ({"loss": 0.6, "val_loss": 0.3, "accuracy": 0.8, "val_accuracy": 0.9}, 2.0),
    ({"loss": 0.6, "val_loss": 0.0, "accuracy": 0.8, "val_accuracy": 0.9}, 0.0),
    ({"loss": 0.6, "accuracy": 0.8}, 0.6),
)


def plain(value: object) -> object:
    """Return a NumPy or TensorFlow number as a Python one, anything else as repr."""
    try:
        return operator.index(value)
    except TypeError:
        pass
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


class Trace:
    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self.step = ""

    def emit(self, event: str, **fields: object) -> None:
        record = {"event": event, "step": self.step, "time": time.time(), **fields}
        self._file.write(json.dumps(record, default=plain, allow_nan=True) + "\n")


def error_details(error: BaseException, submission: Path) -> dict:
    """Describe an exception by the frames that lie in the student's file."""
    frames = [
        {"line": frame.lineno, "function": frame.name, "code": frame.line or ""}
        for frame in traceback.extract_tb(error.__traceback__)
        if Path(frame.filename).resolve() == submission
    ]
    message = str(error)
    if isinstance(error, SyntaxError):
        # str() of a SyntaxError repeats the file and line that frames give.
        frames = [{"line": error.lineno, "function": "", "code": error.text or ""}]
        message = str(error.msg)
    return {
        "type": type(error).__name__,
        "message": message[:2000],
        "frames": frames[-5:],
        "traceback": "".join(traceback.format_exception(error))[-6000:],
    }


def install_dataset(keras, data_path: Path) -> None:
    import numpy as np

    with np.load(data_path) as data:
        arrays = {name: data[name] for name in data.files}

    def load_data(path: str = "mnist.npz"):
        return (
            (arrays["x_train"].copy(), arrays["y_train"].copy()),
            (arrays["x_test"].copy(), arrays["y_test"].copy()),
        )

    import keras.src.datasets.mnist as keras_mnist

    keras_mnist.load_data = load_data
    keras.datasets.mnist.load_data = load_data


def describe_callback(callback: object, keras) -> dict:
    description = {
        "class": f"{type(callback).__module__}.{type(callback).__qualname__}"
    }
    if keras is not None and isinstance(callback, keras.callbacks.TensorBoard):
        log_dir = str(callback.log_dir)
        description.update(
            is_tensorboard=True,
            log_dir=log_dir,
            log_dir_relative=os.path.relpath(os.path.abspath(log_dir)),
            histogram_freq=callback.histogram_freq,
            write_graph=callback.write_graph,
            update_freq=callback.update_freq,
        )
    else:
        description["is_tensorboard"] = False
    return description


def read_learning_rate(model, keras) -> float | None:
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # the student's model may have no optimizer yet
        return None


def install_fit_trace(keras, trace: Trace) -> None:
    original_fit = keras.Model.fit

    class EpochTrace(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = {key: float(value) for key, value in (logs or {}).items()}
            trace.emit("epoch_end", epoch=epoch, logs=logs)

    def fit(self, *args, **kwargs):
        callbacks = list(kwargs.get("callbacks") or [])
        trace.emit(
            "fit_start",
            epochs=kwargs.get("epochs", 1),
            learning_rate=read_learning_rate(self, keras),
            callbacks=[describe_callback(callback, keras) for callback in callbacks],
        )
        kwargs["callbacks"] = [*callbacks, EpochTrace()]
        kwargs["verbose"] = 0
        history = original_fit(self, *args, **kwargs)
        trace.emit("fit_end", history=getattr(history, "history", {}))
        return history

    keras.Model.fit = fit


class KerasImportHook(importlib.abc.MetaPathFinder):
    """Call ``prepare(keras)`` once, as soon as the keras package has been imported.

    The hook stays in place until then, because a lookup alone does not import:
    ``import tensorflow`` calls importlib.util.find_spec("keras") and goes on.
    """

    def __init__(self, prepare) -> None:
        self.prepare = prepare
        self.prepared = False
        self.finding = False

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras" or self.prepared or self.finding:
            return None
        self.finding = True
        try:
            spec = importlib.util.find_spec("keras")
        finally:
            self.finding = False
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module) -> None:
            run_module(module)
            self.prepare_once(module)

        spec.loader.exec_module = exec_module
        return spec

    def prepare_once(self, keras) -> None:
        if not self.prepared:
            self.prepared = True
            self.prepare(keras)


def load_guard():
    spec = importlib.util.spec_from_file_location("_grader_guard", GUARD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loaded_keras():
    """Return keras if the student's code has imported it, else None."""
    return sys.modules.get("keras")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    keras = loaded_keras()
    if keras is not None:
        keras.utils.set_random_seed(seed)


def import_submission(path: Path):
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("submission", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    spec.loader.exec_module(module)
    return module


def flush_summary_writers() -> None:
    """Flush every tf.summary writer, so that events written so far are on disk."""
    summary = sys.modules.get("tensorflow.summary") or getattr(
        sys.modules.get("tensorflow"), "summary", None
    )
    if summary is None:
        return
    for candidate in gc.get_objects():
        if isinstance(candidate, summary.SummaryWriter):
            try:
                candidate.flush()
            except Exception:  # a closed writer has nothing left to flush
                pass


def probe_callback(module, trace: Trace) -> None:
    """Call create_tensorboard_callback twice, PROBE_PAUSE_S apart."""
    for call in range(2):
        if call:
            time.sleep(PROBE_PAUSE_S)
        before = datetime.now().strftime("%Y%m%d-%H%M%S")
        callback = module.create_tensorboard_callback(PROBE_EXPERIMENT)
        after = datetime.now().strftime("%Y%m%d-%H%M%S")
        trace.emit(
            "probe",
            probe="callback",
            call=call,
            before=before,
            after=after,
            returned=describe_callback(callback, loaded_keras()),
        )


def probe_custom_metrics(module, trace: Trace, options) -> None:
    """Feed CustomMetricsCallback known epoch logs on a model with a chosen rate."""
    model = module.create_model(options.probe_learning_rate)
    cls = module.CustomMetricsCallback
    keras = loaded_keras()
    is_class = isinstance(cls, type)
    trace.emit(
        "probe",
        probe="custom_class",
        is_class=is_class,
        is_callback=keras is not None
        and is_class
        and issubclass(cls, keras.callbacks.Callback),
        learning_rate=read_learning_rate(model, keras) if keras else None,
    )
    callback = cls(options.probe_log_dir)
    callback.set_model(model)
    # As model.fit does, so that a writer made in on_train_begin exists.
    try:
        callback.on_train_begin({})
        begin_error = None
    except Exception as caught:
        begin_error = error_details(caught, options.submission)
    for epoch, (logs, expected_ratio) in enumerate(PROBE_EPOCH_LOGS):
        error = begin_error
        try:
            if begin_error is None:
                callback.on_epoch_end(epoch, dict(logs))
        except Exception as caught:
            error = error_details(caught, options.submission)
        trace.emit(
            "probe",
            probe="custom_epoch",
            epoch=epoch,
            logs=logs,
            expected_ratio=expected_ratio,
            error=error,
        )
    flush_summary_writers()


def run_step(step: str, module, trace: Trace, options) -> None:
    trace.step = step
    trace.emit("step_start")
    try:
        seed_everything(options.seed)
        if step == "probe_callback":
            probe_callback(module, trace)
        elif step == "probe_custom_metrics":
            probe_custom_metrics(module, trace, options)
        else:
            getattr(module, step)()
    except (Exception, SystemExit) as error:
        details = error_details(error, options.submission)
        trace.emit("step_end", status="error", error=details)
    else:
        trace.emit("step_end", status="ok")
    finally:
        flush_summary_writers()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--group", choices=sorted(GROUP_STEPS), required=True)
    parser.add_argument("--submission", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--trace-fd", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--probe-learning-rate", type=float, default=0.002)
    parser.add_argument("--probe-log-dir", default="probes/custom_metrics")
    parser.add_argument("--nice", type=int, default=0)
    parser.add_argument("--limits", type=json.loads, required=True)
    options = parser.parse_args()
    options.submission = options.submission.resolve()
    return options


def main() -> None:
    options = parse_args()
    if options.nice:
        os.nice(options.nice)
    trace = Trace(options.trace_fd)
    writable = [os.getcwd(), os.environ["HOME"]]
    fence = load_guard().enter(options.limits, writable)
    trace.emit("fenced", **fence)
    trace.step = "import"
    trace.emit("step_start")

    def prepare(keras) -> None:
        install_dataset(keras, options.data)
        install_fit_trace(keras, trace)
        keras.utils.set_random_seed(options.seed)

    hook = KerasImportHook(prepare)
    sys.meta_path.insert(0, hook)
    try:
        module = import_submission(options.submission)
        if "keras" in sys.modules:
            hook.prepare_once(sys.modules["keras"])
    except BaseException as error:  # SyntaxError and SystemExit included
        details = error_details(error, options.submission)
        trace.emit("step_end", status="error", error=details)
        trace.emit("done")
        sys.stdout.flush()
        os._exit(0)
    trace.emit("step_end", status="ok")

    for step in GROUP_STEPS[options.group]:
        run_step(step, module, trace, options)
    trace.step = ""
    trace.emit("done")
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: TensorFlow's can take seconds or hang.
    os._exit(0)


if __name__ == "__main__":
    main()

"""Tally evaluator harness: runs INSIDE the sandbox, hosts one evaluator, scores batches.

Requests arrive on stdin, protocol frames leave on fd 3 (JSON lines); the evaluator's own
stdout/stderr go to the parent's log capture and can never corrupt the protocol.
Standard library only (Python 3.11). The protocol is described in README.md.
"""

import dataclasses
import importlib.util
import inspect
import json
import math
import os
import platform
import signal
import sys
import threading
import time
import traceback

FRAME_FD = 3
FLUSH_COUNT = 256
FLUSH_SECONDS = 0.05
FLUSH_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_RESULT_BYTES = 1024 * 1024
TRACEBACK_LINES = 12
REPR_CHARS = 200
LEGACY_KEYS = ("messages", "ground_truth", "tools")
LEGACY_KEY_SET = frozenset(LEGACY_KEYS)

_main_pid = os.getpid()


class LoadError(Exception):
    """The evaluator cannot be loaded; the message says what and where."""


class InvalidResult(Exception):
    """The evaluator returned something that is not a valid evaluation result."""


# ----------------------------------------------------------------------------- frames


class FrameWriter:
    """Writes whole JSON lines to fd 3; a forked evaluator child may never speak for us."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()

    def write_raw(self, text):
        if os.getpid() != _main_pid:
            # An evaluator forked and its child fell back into the harness: end it quietly.
            os._exit(70)
        view = memoryview(text.encode("utf-8"))
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def write(self, message):
        self.write_raw(json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n")


class ResultBuffer:
    """Collects encoded row results; flushes at 256 rows, 4 MiB, or 50 ms after the last flush."""

    def __init__(self, writer):
        self.writer = writer
        self.lock = threading.Lock()
        self.items = []
        self.size = 0
        self.batch_id = None
        self.start = 0
        self.last_flush = time.monotonic()

    def begin(self, batch_id):
        with self.lock:
            self.batch_id, self.start, self.items, self.size = batch_id, 0, [], 0

    def add(self, encoded, careful):
        # The 50 ms deadline is the flusher thread's (tick): a clock read per row cost more.
        with self.lock:
            self.items.append(encoded)
            self.size += len(encoded)
            if careful or len(self.items) >= FLUSH_COUNT or self.size >= FLUSH_BYTES:
                self._flush_locked()

    def tick(self):
        with self.lock:
            if self.items and time.monotonic() - self.last_flush >= FLUSH_SECONDS:
                self._flush_locked()

    def end(self):
        with self.lock:
            self._flush_locked()
            self.writer.write({"t": "done", "id": self.batch_id})
            self.batch_id = None

    def _flush_locked(self):
        self.last_flush = time.monotonic()
        if not self.items:
            return
        head = '{"t":"results","id":%d,"from":%d,"results":[' % (self.batch_id, self.start)
        self.writer.write_raw(head + ",".join(self.items) + "]}\n")
        self.start += len(self.items)
        self.items, self.size = [], 0
        # Keep the evaluator's own prints close in time to the results they belong to.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass


def start_flusher(buffer):
    """A slow row must never hide finished ones: flush every 50 ms from a side thread."""
    def loop():
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                buffer.tick()
            except Exception:
                os._exit(71)  # fd 3 is gone: the parent went away.
    thread = threading.Thread(target=loop, name="tally-flusher", daemon=True)
    thread.start()


# ----------------------------------------------------------------------------- results


def short_repr(value):
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return text if len(text) <= REPR_CHARS else text[:REPR_CHARS] + "..."


def describe(value):
    return "%s: %s" % (type(value).__name__, short_repr(value))


def to_plain(value, depth=0):
    """Pydantic models, dataclasses and plain objects become dicts; the rest stays as is."""
    if depth > 3 or value is None or isinstance(value, (str, int, float, bool, dict, list)):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return value


def check_score(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidResult("%s must be a number, got %s" % (where, describe(value)))
    score = float(value)
    if not math.isfinite(score):
        raise InvalidResult("%s must be finite, got %s" % (where, short_repr(value)))
    return score


def check_reason(value, where):
    if value is None or isinstance(value, str):
        return value
    raise InvalidResult("%s must be a string or null, got %s" % (where, describe(value)))


def normalize_metric(name, value):
    plain = to_plain(value)
    if not isinstance(plain, dict):
        return {"score": check_score(plain, "metric %r" % name), "is_score_valid": True, "reason": None}
    return {
        "score": check_score(plain.get("score"), "metric %r score" % name),
        "is_score_valid": bool(plain.get("is_score_valid", True)),
        "reason": check_reason(plain.get("reason"), "metric %r reason" % name),
    }


def normalize_result(value):
    """A number, a dict or an EvaluateResult-like object -> the wire result; else InvalidResult."""
    if type(value) is dict:
        fast = normalize_plain_dict(value)
        if fast is not None:
            return fast
    plain = to_plain(value)
    if isinstance(plain, (int, float)) and not isinstance(plain, bool):
        return {"score": check_score(plain, "score"), "is_score_valid": True, "reason": None, "metrics": {}}
    if not isinstance(plain, dict):
        raise InvalidResult("expected a number, a dict or an EvaluateResult, got %s" % describe(value))
    metrics = to_plain(plain.get("metrics")) or {}
    if not isinstance(metrics, dict):
        raise InvalidResult("metrics must be a mapping, got %s" % describe(metrics))
    return {
        "score": check_score(plain.get("score"), "score"),
        "is_score_valid": bool(plain.get("is_score_valid", True)),
        "reason": check_reason(plain.get("reason"), "reason"),
        "metrics": {str(k): normalize_metric(k, v) for k, v in metrics.items()},
    }


def normalize_plain_dict(value):
    """The commonest result, {"score": float[, "reason": str | None, "is_score_valid": ...]}
    with no metrics, normalised without the general path's checks; None for anything else.
    The output is what normalize_result's general path gives for the same dict."""
    score = value.get("score")
    if type(score) is not float or score - score != 0.0 or value.get("metrics"):
        return None  # not a finite float (inf - inf and nan - nan are nan), or metrics to check
    reason = value.get("reason")
    if reason is not None and type(reason) is not str:
        return None
    return {"score": score, "is_score_valid": bool(value.get("is_score_valid", True)), "reason": reason, "metrics": {}}


def tail_of_traceback(error):
    lines = "".join(traceback.format_exception(error)).splitlines()
    return "\n".join(lines[-TRACEBACK_LINES:])


def error_outcome(error, ms):
    if isinstance(error, InvalidResult):
        kind, message, trace = "invalid_result", str(error), None
    else:
        kind = "memory" if isinstance(error, MemoryError) else "exception"
        message = "%s: %s" % (type(error).__name__, str(error)[:2000])
        trace = tail_of_traceback(error)
    body = {"kind": kind, "message": message}
    if trace:
        body["traceback"] = trace
    return json.dumps({"ok": False, "error": body, "ms": ms}, separators=(",", ":"))


class EncodedResult(str):
    """A result its scorer already validated and encoded (the one-criterion fast path)."""


def ok_outcome(value, ms, max_bytes):
    """Encodes one row's result; the encoded text is what is sent, so it is checked here."""
    if type(value) is EncodedResult:
        encoded = '{"ok":true,"result":%s,"ms":%r}' % (value, ms)
        if len(encoded) > max_bytes:
            raise InvalidResult("result is %d bytes, more than the %d allowed" % (len(encoded), max_bytes))
        return encoded
    if type(value) is float and math.isfinite(value):
        # Fast path for the commonest case: a plain finite float needs no validation.
        return '{"ok":true,"result":{"score":%r,"is_score_valid":true,"reason":null,"metrics":{}},"ms":%r}' % (value, ms)
    result = normalize_result(value)
    try:
        encoded = json.dumps({"ok": True, "result": result, "ms": ms}, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidResult("result is not JSON-serialisable (%s)" % error) from None
    if len(encoded) > max_bytes:
        raise InvalidResult("result is %d bytes, more than the %d allowed" % (len(encoded), max_bytes))
    return encoded


# ----------------------------------------------------------------------------- loading


def import_file(root, relative):
    path = os.path.normpath(os.path.join(root, relative))
    if not os.path.isfile(path):
        raise LoadError("file %s not found under %s" % (relative, root))
    name = os.path.splitext(os.path.relpath(path, root))[0].replace(os.sep, ".")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise LoadError("SyntaxError in %s, line %s: %s" % (relative, error.lineno, error.msg)) from None
    except BaseException as error:
        raise LoadError("%s while importing %s: %s\n%s" % (
            type(error).__name__, relative, error, tail_of_traceback(error))) from None
    return module


def find_function(module, func, relative):
    fn = getattr(module, func, None)
    if fn is None:
        raise LoadError("function %s not found in %s" % (func, relative))
    if not callable(fn):
        raise LoadError("%s in %s is not callable (%s)" % (func, relative, type(fn).__name__))
    return fn


def load_legacy(root, relative, func):
    fn = find_function(import_file(root, relative), func, relative)
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return fn
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        raise LoadError("%s in %s must accept **kwargs (signature is %s)" % (
            func, relative, inspect.signature(fn)))
    return fn


def call_legacy(fn, row):
    if row.keys() <= LEGACY_KEY_SET:  # no other keys: skip building the extra kwargs
        return fn(messages=row.get("messages"), ground_truth=row.get("ground_truth"), tools=row.get("tools"))
    extra = {k: v for k, v in row.items() if k not in LEGACY_KEYS}
    return fn(messages=row.get("messages"), ground_truth=row.get("ground_truth"),
              tools=row.get("tools"), **extra)


PLAIN_RESULT_TYPES = (dict, float, int, str, list, type(None), bool)


def run_maybe_async(value, loop_holder):
    if type(value) in PLAIN_RESULT_TYPES:  # never awaitable; isawaitable's ABC check is slow
        return value
    if inspect.isawaitable(value):
        if not loop_holder:
            import asyncio  # here, not at the top: importing it took 90 ms of every process start
            loop_holder.append(asyncio.new_event_loop())
        return loop_holder[0].run_until_complete(value)
    return value


# ----------------------------------------------------------------------------- scorers


class Scorer:
    """score_row(row) -> value; score_group(rows) -> [encoded] for batches sent with group."""

    def __init__(self, score_row=None, score_group=None, mode="pointwise"):
        self.score_row = score_row
        self.score_group = score_group
        self.mode = mode
        self.reap = False


def criteria_scorer(root, criteria, loop_holder):
    if not criteria:
        raise LoadError("the criteria manifest lists no criteria")
    loaded = [(c["name"], load_legacy(root, c["file"], c.get("func", "evaluate"))) for c in criteria]

    def run_criterion(name, fn, row):
        try:
            return normalize_result(run_maybe_async(call_legacy(fn, row), loop_holder))
        except InvalidResult as error:
            raise InvalidResult("criterion %r: %s" % (name, error)) from None
        except BaseException as error:
            error.add_note("in criterion %r" % name)
            raise

    if len(loaded) == 1:
        return Scorer(score_row=one_criterion_row(loaded[0], run_criterion))

    def score_row(row):
        metrics, reasons = {}, []
        for name, fn in loaded:
            result = run_criterion(name, fn, row)
            metrics[name] = {k: result[k] for k in ("score", "reason", "is_score_valid")}
            if result["reason"]:
                reasons.append("%s: %s" % (name, result["reason"]))
        scores = [m["score"] for m in metrics.values()]
        return {"score": sum(scores) / len(scores), "reason": "; ".join(reasons) or None,
                "is_score_valid": all(m["is_score_valid"] for m in metrics.values()), "metrics": metrics}

    return Scorer(score_row=score_row)


def one_criterion_row(criterion, run_criterion):
    """The commonest evaluator has one criterion: its result is encoded directly, the same
    bytes the general path gives (mean of one score, its reason prefixed), in a third of the time."""
    name, fn = criterion
    key = json.dumps(str(name))
    template = '{"score":%r,"is_score_valid":%s,"reason":%s,"metrics":{' + key.replace("%", "%%") + \
        ':{"score":%r,"is_score_valid":%s,"reason":%s}}}'

    def score_row(row):
        result = run_criterion(name, fn, row)
        score, valid, reason = result["score"], "true" if result["is_score_valid"] else "false", result["reason"]
        top = json.dumps("%s: %s" % (name, reason)) if reason else "null"
        # score + 0 is sum([score]): the general path's mean turns -0.0 into 0.0.
        return EncodedResult(template % (score + 0, valid, top, score, valid, "null" if reason is None else json.dumps(reason)))

    return score_row


def evaluation_result_of(returned):
    found = returned.get("evaluation_result") if isinstance(returned, dict) else getattr(
        returned, "evaluation_result", None)
    if found is None:
        raise InvalidResult("the returned row has no evaluation_result (got %s)" % describe(returned))
    return found


def row_factory():
    """eval_protocol's EvaluationRow when the environment has it, else the row dict itself."""
    try:
        from eval_protocol.models import EvaluationRow
    except ImportError:
        return lambda row: row
    validate = getattr(EvaluationRow, "model_validate", None)
    return validate if callable(validate) else (lambda row: EvaluationRow(**row))


def entry_point_scorer(manifest, loop_holder, max_bytes):
    relative, func = manifest["path"], manifest["func"]
    decorated = find_function(import_file(manifest["root"], relative), func, relative)
    fn = getattr(decorated, "_origin_func", decorated)  # the undecorated function, as the hosted RFT adapter does
    # @evaluation_test(mode=...) says how the function takes rows: one, a group, or all of them.
    mode = getattr(getattr(decorated, "__ep_params__", None), "mode", None) or manifest.get("mode") or "pointwise"
    if mode not in ("pointwise", "groupwise", "all"):
        raise LoadError("%s declares mode %s; expected pointwise, groupwise or all" % (func, short_repr(mode)))
    make_row = row_factory()

    def score_row(row):
        passed = make_row(row)
        returned = run_maybe_async(fn(passed), loop_holder)
        return evaluation_result_of(passed if returned is None else returned)

    def score_group(rows):
        started = time.perf_counter()
        try:
            passed = [make_row(row) for row in rows]
            returned = run_maybe_async(fn(passed), loop_holder)
            out = passed if returned is None else returned
            if not isinstance(out, list) or len(out) != len(rows):
                raise InvalidResult("expected a list of %d rows back, got %s" % (len(rows), describe(out)))
        except BaseException as error:
            ms = round((time.perf_counter() - started) * 1000 / max(len(rows), 1), 3)
            return [error_outcome(error, ms)] * len(rows)
        ms = round((time.perf_counter() - started) * 1000 / max(len(rows), 1), 3)
        return [encode_or_error(lambda item=item: evaluation_result_of(item), ms, max_bytes) for item in out]

    scorer = Scorer(score_row=score_row, score_group=score_group, mode=mode)
    scorer.rollout = declared_rollout(getattr(decorated, "__ep_params__", None))
    return scorer


def declared_rollout(params):
    """What an @evaluation_test declares about generating (reported in 'ready'; Tally runs the rollout)."""
    if params is None:
        return None
    processor = getattr(params, "rollout_processor", None)
    completion = getattr(params, "completion_params", None)
    if isinstance(completion, (list, tuple)):
        completion = next((c for c in completion if c), None)
    threshold = getattr(params, "passed_threshold", None)
    threshold = getattr(threshold, "success", threshold.get("success") if isinstance(threshold, dict) else threshold)
    safe = lambda value: json.loads(json.dumps(value, default=lambda _: None))
    return {
        "processor": type(processor).__name__ if processor is not None else None,
        "completion_params": safe(completion) if isinstance(completion, dict) else None,
        "num_runs": getattr(params, "num_runs", 1),
        "passed_threshold": threshold if isinstance(threshold, (int, float)) else None,
    }


def load_scorer(manifest, loop_holder, max_bytes):
    root = manifest.get("root")
    if not isinstance(root, str) or not os.path.isabs(root):
        raise LoadError("manifest root must be an absolute path, got %s" % short_repr(root))
    os.chdir(root)
    sys.path.insert(0, root)
    contract = manifest.get("contract")
    if contract == "legacy":
        fn = load_legacy(root, manifest["file"], manifest.get("func", "evaluate"))
        return Scorer(score_row=lambda row: run_maybe_async(call_legacy(fn, row), loop_holder))
    if contract == "criteria":
        return criteria_scorer(root, manifest.get("criteria"), loop_holder)
    if contract == "entry_point":
        return entry_point_scorer(manifest, loop_holder, max_bytes)
    raise LoadError("unknown contract %s" % short_repr(contract))


# ----------------------------------------------------------------------------- main loop


def encode_or_error(produce, ms, max_bytes):
    try:
        return ok_outcome(produce(), ms, max_bytes)
    except BaseException as error:
        if os.getpid() != _main_pid:
            os._exit(70)
        return error_outcome(error, ms)


def score_one(score_row, row, max_bytes):
    started = time.perf_counter()
    try:
        value = score_row(row)
    except BaseException as error:
        if os.getpid() != _main_pid:
            os._exit(70)  # a forked evaluator child must not answer for the row
        return error_outcome(error, round((time.perf_counter() - started) * 1000, 3))
    ms = round((time.perf_counter() - started) * 1000, 3)
    try:  # encode_or_error, inlined: this runs once per row
        return ok_outcome(value, ms, max_bytes)
    except BaseException as error:
        if os.getpid() != _main_pid:
            os._exit(70)
        return error_outcome(error, ms)


def run_batch(scorer, buffer, message, max_bytes):
    buffer.begin(int(message["id"]))
    careful = bool(message.get("careful"))
    rows = message["rows"]
    if message.get("group") and scorer.score_group is not None:
        for encoded in scorer.score_group(rows):
            buffer.add(encoded, careful)
    else:
        score_row = scorer.score_row
        for row in rows:
            buffer.add(score_one(score_row, row, max_bytes), careful)
    buffer.end()
    if scorer.reap:
        reap_leftovers()


def reap_leftovers():
    """Kills whatever the evaluator left running (a background process, a fork bomb's children).

    Only ever called inside bubblewrap's PID namespace (the parent says so in the manifest):
    there kill(-1) reaches every process of the box but this one and the namespace's init.
    """
    try:
        os.kill(-1, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def load(writer, first_line):
    """Answers the load message with ready or load_error; returns (scorer, max_bytes) or None."""
    try:
        message = json.loads(first_line)
        if not isinstance(message, dict) or message.get("t") != "load":
            raise LoadError("expected a load message first, got %s" % short_repr(first_line[:100]))
        manifest = message["manifest"]
        max_bytes = int(manifest.get("max_result_bytes", DEFAULT_MAX_RESULT_BYTES))
        scorer = load_scorer(manifest, [], max_bytes)
        scorer.reap = manifest.get("reap_leftovers") is True
    except LoadError as error:
        writer.write({"t": "load_error", "message": str(error)})
        return None
    except Exception as error:
        writer.write({"t": "load_error", "message": "bad load message: %s" % describe(error)})
        return None
    writer.write({"t": "ready", "contract": manifest["contract"], "python": platform.python_version(), "mode": scorer.mode, "rollout": getattr(scorer, "rollout", None)})
    return scorer, max_bytes


def main():
    writer = FrameWriter(FRAME_FD)
    try:
        # The evaluator's prints should reach the parent's log promptly, whatever the environment.
        sys.stdout.reconfigure(line_buffering=True)
    except Exception:
        pass
    stdin = sys.stdin.buffer
    loaded = load(writer, stdin.readline())
    if loaded is None:
        return 2
    scorer, max_bytes = loaded
    buffer = ResultBuffer(writer)
    start_flusher(buffer)
    for line in stdin:
        message = json.loads(line)
        kind = message.get("t")
        if kind == "batch":
            run_batch(scorer, buffer, message, max_bytes)
        elif kind == "close":
            break
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

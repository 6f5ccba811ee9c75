"""Loading the three evaluator contracts (legacy function, criteria, eval-protocol entry point)
into a Scorer: a per-row function (sync, and a coroutine version for async evaluators) and, for
groupwise/all entry points, a per-group one."""

import importlib.util
import inspect
import json
import os
import sys
import time

from .results import (EncodedResult, InvalidResult, describe, error_outcome, normalize_result,
                      ok_outcome, short_repr, tail_of_traceback)
from .hygiene import exit_if_forked

LEGACY_KEYS = ("messages", "ground_truth", "tools")
LEGACY_KEY_SET = frozenset(LEGACY_KEYS)
PLAIN_RESULT_TYPES = (dict, float, int, str, list, type(None), bool)


class LoadError(Exception):
    """The evaluator cannot be loaded; the message says what and where."""


class Scorer:
    """score_row(row) -> value; score_row_async(row) -> awaitable value when the evaluator is
    async (rows may then run concurrently on one event loop); score_group(rows) -> [encoded]."""

    def __init__(self, score_row=None, score_group=None, mode="pointwise", score_row_async=None):
        self.score_row = score_row
        self.score_row_async = score_row_async
        self.score_group = score_group
        self.mode = mode
        self.reap = False
        self.rollout = None  # what an eval-protocol entry point declares about generating


class LoopHolder:
    """The one event loop of a process, made on first use: importing asyncio took 90 ms of
    every process start, so a sync evaluator never pays for it."""

    def __init__(self):
        self.loop = None

    def get(self):
        if self.loop is None:
            import asyncio
            self.loop = asyncio.new_event_loop()
        return self.loop

    def run(self, awaitable):
        return self.get().run_until_complete(awaitable)


def run_maybe_async(value, loops):
    if type(value) in PLAIN_RESULT_TYPES:  # never awaitable; isawaitable's ABC check is slow
        return value
    if inspect.isawaitable(value):
        return loops.run(value)
    return value


async def await_maybe(value):
    if type(value) not in PLAIN_RESULT_TYPES and inspect.isawaitable(value):
        return await value
    return value


def is_async_function(fn):
    target = getattr(fn, "__call__", None) if not inspect.isroutine(fn) and not inspect.isclass(fn) else fn
    return inspect.iscoroutinefunction(fn) or (target is not None and inspect.iscoroutinefunction(target))


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


# ----------------------------------------------------------------------------- scorers


def legacy_scorer(root, manifest, loops):
    fn = load_legacy(root, manifest["file"], manifest.get("func", "evaluate"))

    async def score_row_async(row):
        return await await_maybe(call_legacy(fn, row))

    return Scorer(score_row=lambda row: run_maybe_async(call_legacy(fn, row), loops),
                  score_row_async=score_row_async if is_async_function(fn) else None)


def criterion_failure(name, error):
    if isinstance(error, InvalidResult):
        return InvalidResult("criterion %r: %s" % (name, error))
    error.add_note("in criterion %r" % name)
    return error


def combine_criteria(results):
    """[(name, normalised result)] -> the row's result: metrics by name, the mean score."""
    metrics, reasons = {}, []
    for name, result in results:
        metrics[name] = {k: result[k] for k in ("score", "reason", "is_score_valid")}
        if result["reason"]:
            reasons.append("%s: %s" % (name, result["reason"]))
    scores = [m["score"] for m in metrics.values()]
    return {"score": sum(scores) / len(scores), "reason": "; ".join(reasons) or None,
            "is_score_valid": all(m["is_score_valid"] for m in metrics.values()), "metrics": metrics}


def one_criterion_encoder(name):
    """The commonest evaluator has one criterion: its result is encoded directly, the same
    bytes the general path gives (mean of one score, its reason prefixed), in a third of the time."""
    key = json.dumps(str(name))
    template = '{"score":%r,"is_score_valid":%s,"reason":%s,"metrics":{' + key.replace("%", "%%") + \
        ':{"score":%r,"is_score_valid":%s,"reason":%s}}}'

    def encode(result):
        score, valid, reason = result["score"], "true" if result["is_score_valid"] else "false", result["reason"]
        top = json.dumps("%s: %s" % (name, reason)) if reason else "null"
        # score + 0 is sum([score]): the general path's mean turns -0.0 into 0.0.
        return EncodedResult(template % (score + 0, valid, top, score, valid, "null" if reason is None else json.dumps(reason)))

    return encode


def criteria_scorer(root, criteria, loops):
    if not criteria:
        raise LoadError("the criteria manifest lists no criteria")
    loaded = [(c["name"], load_legacy(root, c["file"], c.get("func", "evaluate"))) for c in criteria]
    finish = one_criterion_encoder(loaded[0][0]) if len(loaded) == 1 else None

    def run_criterion(name, fn, row):
        try:
            return normalize_result(run_maybe_async(call_legacy(fn, row), loops))
        except BaseException as error:
            raise criterion_failure(name, error) from None

    async def run_criterion_async(name, fn, row):
        try:
            return normalize_result(await await_maybe(call_legacy(fn, row)))
        except BaseException as error:
            raise criterion_failure(name, error) from None

    def score_row(row):
        results = [(name, run_criterion(name, fn, row)) for name, fn in loaded]
        return finish(results[0][1]) if finish else combine_criteria(results)

    async def score_row_async(row):
        results = [(name, await run_criterion_async(name, fn, row)) for name, fn in loaded]
        return finish(results[0][1]) if finish else combine_criteria(results)

    is_async = any(is_async_function(fn) for _, fn in loaded)
    return Scorer(score_row=score_row, score_row_async=score_row_async if is_async else None)


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


def encode_or_error(produce, ms, max_bytes):
    try:
        return ok_outcome(produce(), ms, max_bytes)
    except BaseException as error:
        exit_if_forked()
        return error_outcome(error, ms)


def entry_point_scorer(manifest, loops, max_bytes):
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
        returned = run_maybe_async(fn(passed), loops)
        return evaluation_result_of(passed if returned is None else returned)

    async def score_row_async(row):
        passed = make_row(row)
        returned = await await_maybe(fn(passed))
        return evaluation_result_of(passed if returned is None else returned)

    def score_group(rows):
        started = time.perf_counter()
        try:
            passed = [make_row(row) for row in rows]
            returned = run_maybe_async(fn(passed), loops)
            out = passed if returned is None else returned
            if not isinstance(out, list) or len(out) != len(rows):
                raise InvalidResult("expected a list of %d rows back, got %s" % (len(rows), describe(out)))
        except BaseException as error:
            ms = round((time.perf_counter() - started) * 1000 / max(len(rows), 1), 3)
            return [error_outcome(error, ms)] * len(rows)
        ms = round((time.perf_counter() - started) * 1000 / max(len(rows), 1), 3)
        return [encode_or_error(lambda item=item: evaluation_result_of(item), ms, max_bytes) for item in out]

    scorer = Scorer(score_row=score_row, score_group=score_group, mode=mode,
                    score_row_async=score_row_async if is_async_function(fn) else None)
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
        "max_concurrent_rollouts": getattr(params, "max_concurrent_rollouts", None),
        "max_concurrent_evaluations": getattr(params, "max_concurrent_evaluations", None),
    }


def load_scorer(manifest, loops, max_bytes):
    root = manifest.get("root")
    if not isinstance(root, str) or not os.path.isabs(root):
        raise LoadError("manifest root must be an absolute path, got %s" % short_repr(root))
    os.chdir(root)
    sys.path.insert(0, root)
    contract = manifest.get("contract")
    if contract == "legacy":
        return legacy_scorer(root, manifest, loops)
    if contract == "criteria":
        return criteria_scorer(root, manifest.get("criteria"), loops)
    if contract == "entry_point":
        return entry_point_scorer(manifest, loops, max_bytes)
    raise LoadError("unknown contract %s" % short_repr(contract))

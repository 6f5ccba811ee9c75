"""What an evaluator returned -> the wire result, or a clear error result for the row."""

import dataclasses
import json
import math
import traceback

DEFAULT_MAX_RESULT_BYTES = 1024 * 1024
TRACEBACK_LINES = 12
REPR_CHARS = 200


class InvalidResult(Exception):
    """The evaluator returned something that is not a valid evaluation result."""


class RowTimeout(Exception):
    """The row ran past its time limit inside a concurrent batch; its neighbours went on."""


class EncodedResult(str):
    """A result its scorer already validated and encoded (the one-criterion fast path)."""


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
    trace = None
    if isinstance(error, InvalidResult):
        kind, message = "invalid_result", str(error)
    elif isinstance(error, RowTimeout):
        kind, message = "timeout", str(error)
    else:
        kind = "memory" if isinstance(error, MemoryError) else "exception"
        message = "%s: %s" % (type(error).__name__, str(error)[:2000])
        trace = tail_of_traceback(error)
    body = {"kind": kind, "message": message}
    if trace:
        body["traceback"] = trace
    return json.dumps({"ok": False, "error": body, "ms": ms}, separators=(",", ":"))


def undecodable_outcome(error):
    message = "the row could not be decoded by Python's json: %s: %s" % (type(error).__name__, str(error)[:500])
    return json.dumps({"ok": False, "error": {"kind": "exception", "message": message}, "ms": 0}, separators=(",", ":"))


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

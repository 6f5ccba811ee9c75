"""bench/baseline.py: the floor Tally is measured against. One Python process reads the JSONL,
calls the same evaluator function on every row, one row at a time, and writes JSONL with the
score, nothing else. Any evaluator file of the legacy contract works: the function gets
messages=, ground_truth= and the row's other keys as keyword arguments, and a coroutine
function's rows are awaited one by one (what one plain process running it would do).

    /usr/bin/python3 bench/baseline.py INPUT.jsonl OUTPUT.jsonl EVALUATOR.py [FUNCTION]
"""
import importlib.util
import inspect
import json
import sys
import time


def load(path, func):
    spec = importlib.util.spec_from_file_location("evaluator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, func)


PLAIN_KEYS = frozenset(("messages", "ground_truth"))


def call(evaluate, row, loop):
    if row.keys() <= PLAIN_KEYS:  # the commonest row: no extra keyword arguments to build
        result = evaluate(messages=row.get("messages"), ground_truth=row.get("ground_truth"))
    else:
        extra = {k: v for k, v in row.items() if k not in PLAIN_KEYS}
        result = evaluate(messages=row.get("messages"), ground_truth=row.get("ground_truth"), **extra)
    if inspect.isawaitable(result):
        result = loop.run_until_complete(result)
    return result


def main():
    source, target, evaluator = sys.argv[1:4]
    evaluate = load(evaluator, sys.argv[4] if len(sys.argv) > 4 else "evaluate")
    loop = None
    if inspect.iscoroutinefunction(evaluate):
        import asyncio
        loop = asyncio.new_event_loop()
    start = time.perf_counter()
    rows = 0
    with open(source, encoding="utf-8") as fin, open(target, "w", encoding="utf-8") as fout:
        for line in fin:
            row = json.loads(line)
            result = call(evaluate, row, loop)
            row["evaluation_result"] = result if isinstance(result, dict) else {"score": float(result)}
            fout.write(json.dumps(row) + "\n")
            rows += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}))


if __name__ == "__main__":
    main()

"""bench/baseline.py: the floor Tally is measured against. One Python process reads the JSONL,
calls the same evaluate function on every row and writes JSONL with the score, nothing else.

    /usr/bin/python3 bench/baseline.py INPUT.jsonl OUTPUT.jsonl EVALUATOR.py
"""
import importlib.util
import json
import sys
import time


def load(path):
    spec = importlib.util.spec_from_file_location("evaluator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate


def main():
    source, target, evaluator = sys.argv[1:4]
    evaluate = load(evaluator)
    start = time.perf_counter()
    rows = 0
    with open(source, encoding="utf-8") as fin, open(target, "w", encoding="utf-8") as fout:
        for line in fin:
            row = json.loads(line)
            result = evaluate(messages=row.get("messages"), ground_truth=row.get("ground_truth"))
            row["evaluation_result"] = result if isinstance(result, dict) else {"score": float(result)}
            fout.write(json.dumps(row) + "\n")
            rows += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}))


if __name__ == "__main__":
    main()

"""The request loop: load the evaluator, then score batches until the parent says close."""

import json
import os
import platform
import sys

from .concurrency import RowThreads, run_async, run_sequential, run_threaded, score_one
from .contracts import LoadError, LoopHolder, load_scorer
from .framing import FRAME_FD, FrameWriter, ResultBuffer, UndecodableRow, read_batch_rows, start_flusher
from .hygiene import reap_leftovers
from .results import DEFAULT_MAX_RESULT_BYTES, describe, short_repr, undecodable_outcome

DEFAULT_TIMEOUT_MS = 60_000


class Harness:
    def __init__(self, scorer, max_bytes, buffer, loops):
        self.scorer, self.max_bytes, self.buffer, self.loops = scorer, max_bytes, buffer, loops
        self.threads = None

    def run_batch(self, message, rows):
        buffer = self.buffer
        buffer.begin(int(message["id"]))
        careful = bool(message.get("careful"))
        scorer = self.scorer
        if message.get("group") and scorer.score_group is not None:
            self.run_group(rows, careful)
        else:
            self.run_rows(message, rows, careful)
        buffer.end()
        if scorer.reap:
            reap_leftovers()

    def run_rows(self, message, rows, careful):
        scorer, add = self.scorer, self.buffer.add
        concurrency = int(message.get("concurrency") or 1)
        threads = int(message.get("threads") or 0)
        timeout_s = float(message.get("timeout_ms") or DEFAULT_TIMEOUT_MS) / 1000
        labels = message.get("labels")
        labels = labels if isinstance(labels, list) and len(labels) == len(rows) else None
        # A careful batch pins a sudden death on one row: it runs them one at a time.
        if not careful and scorer.score_row_async is not None and concurrency > 1 and len(rows) > 1:
            run_async(scorer, rows, add, concurrency, timeout_s, self.max_bytes, self.loops, labels)
        elif not careful and scorer.score_row_async is None and threads > 1 and len(rows) > 1:
            if self.threads is None:
                self.threads = RowThreads()
            run_threaded(self.threads, scorer.score_row, rows, add, threads, timeout_s, self.max_bytes, labels)
        else:
            run_sequential(scorer.score_row, rows, add, careful, self.max_bytes)

    def run_group(self, rows, careful):
        """A group is one call; a row that could not be decoded errors alone, outside it."""
        bad = {i: row for i, row in enumerate(rows) if type(row) is UndecodableRow}
        scored = iter(self.scorer.score_group([row for row in rows if type(row) is not UndecodableRow]) if len(bad) < len(rows) else [])
        for i in range(len(rows)):
            self.buffer.add(undecodable_outcome(bad[i].error) if i in bad else next(scored), careful)


def load(writer, first_line, loops):
    """Answers the load message with ready or load_error; returns (scorer, max_bytes) or None."""
    try:
        message = json.loads(first_line)
        if not isinstance(message, dict) or message.get("t") != "load":
            raise LoadError("expected a load message first, got %s" % short_repr(first_line[:100]))
        manifest = message["manifest"]
        max_bytes = int(manifest.get("max_result_bytes", DEFAULT_MAX_RESULT_BYTES))
        scorer = load_scorer(manifest, loops, max_bytes)
        scorer.reap = manifest.get("reap_leftovers") is True
    except LoadError as error:
        writer.write({"t": "load_error", "message": str(error)})
        return None
    except Exception as error:
        writer.write({"t": "load_error", "message": "bad load message: %s" % describe(error)})
        return None
    writer.write({"t": "ready", "contract": manifest["contract"], "python": platform.python_version(),
                  "mode": scorer.mode, "async": scorer.score_row_async is not None, "rollout": scorer.rollout})
    return scorer, max_bytes


def main():
    writer = FrameWriter(FRAME_FD)
    try:
        # The evaluator's prints should reach the parent's log promptly, whatever the environment.
        sys.stdout.reconfigure(line_buffering=True)
    except Exception:
        pass
    stdin = sys.stdin.buffer
    loops = LoopHolder()
    loaded = load(writer, stdin.readline(), loops)
    if loaded is None:
        return 2
    scorer, max_bytes = loaded
    buffer = ResultBuffer(writer)
    start_flusher(buffer)
    harness = Harness(scorer, max_bytes, buffer, loops)
    for line in iter(stdin.readline, b""):
        message = json.loads(line)
        kind = message.get("t")
        if kind == "batch":
            harness.run_batch(message, read_batch_rows(stdin, message))
        elif kind == "close":
            break
    sys.stdout.flush()
    return 0

"""How a batch's rows run: one at a time (sync evaluators, careful batches), up to `concurrency`
at once on one event loop (async evaluators), or in a pool of `threads` (sync evaluators whose
batch asks for threads). Whatever the way, results are emitted in row order, each row has its own
time limit and error, and at most `concurrency` (or `threads`) rows are in flight."""

import threading
import time

from .framing import UndecodableRow
from .hygiene import RowOutput, exit_if_forked
from .results import RowTimeout, error_outcome, ok_outcome, undecodable_outcome


def score_one(score_row, row, max_bytes):
    if type(row) is UndecodableRow:
        return undecodable_outcome(row.error)
    started = time.perf_counter()
    try:
        value = score_row(row)
    except BaseException as error:
        exit_if_forked()  # a forked evaluator child must not answer for the row
        return error_outcome(error, round((time.perf_counter() - started) * 1000, 3))
    ms = round((time.perf_counter() - started) * 1000, 3)
    try:
        return ok_outcome(value, ms, max_bytes)
    except BaseException as error:
        exit_if_forked()
        return error_outcome(error, ms)


def timeout_outcome(timeout_s, ms):
    return error_outcome(RowTimeout("the row did not finish within %s s (its neighbours went on)" % round(timeout_s, 3)), ms)


def run_sequential(score_row, rows, add, careful, max_bytes):
    for row in rows:
        add(score_one(score_row, row, max_bytes), careful)


# ----------------------------------------------------------------------------- event loop


def run_async(scorer, rows, add, limit, timeout_s, max_bytes, loops, labels=None):
    loops.run(async_rows(scorer.score_row_async, rows, add, limit, timeout_s, max_bytes, labels))


async def async_rows(score_row_async, rows, add, limit, timeout_s, max_bytes, labels):
    import asyncio
    results = [None] * len(rows)
    in_flight = set()
    next_start = next_emit = 0
    with RowOutput(labels) as output:
        async def one(i, row):
            output.begin(i)
            started = time.perf_counter()
            try:
                value = await asyncio.wait_for(score_row_async(row), timeout_s)
                ms = round((time.perf_counter() - started) * 1000, 3)
                results[i] = ok_outcome(value, ms, max_bytes)
            except asyncio.TimeoutError:
                results[i] = timeout_outcome(timeout_s, round((time.perf_counter() - started) * 1000, 3))
            except BaseException as error:
                exit_if_forked()
                results[i] = error_outcome(error, round((time.perf_counter() - started) * 1000, 3))
            finally:
                output.end(i)

        while next_emit < len(rows):
            while next_start < len(rows) and len(in_flight) < limit:
                row = rows[next_start]
                if type(row) is UndecodableRow:
                    results[next_start] = undecodable_outcome(row.error)
                else:
                    in_flight.add(asyncio.ensure_future(one(next_start, row)))
                next_start += 1
            if in_flight and results[next_emit] is None:
                done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                in_flight -= done
            while next_emit < len(rows) and results[next_emit] is not None:
                add(results[next_emit], False)
                results[next_emit] = None
                next_emit += 1


# ----------------------------------------------------------------------------- threads


class RowThreads:
    """Daemon threads scoring rows of a sync evaluator. A row past its time limit is answered
    with a timeout and its thread abandoned (a thread cannot be stopped): a new one takes its
    place, and whatever the old one returns later is dropped. Daemon threads never hold up exit."""

    def __init__(self):
        import queue
        self.tasks = queue.SimpleQueue()
        self.size = 0

    def ensure(self, count):
        while self.size < count:
            self.add_thread()

    def add_thread(self):
        self.size += 1
        threading.Thread(target=self.work, name="tally-row-%d" % self.size, daemon=True).start()

    def work(self):
        while True:
            task = self.tasks.get()
            if task is None:
                return
            if task() == "abandoned":
                return  # its row timed out and another thread took its place: retire

    def abandon_one(self):
        """The thread of a timed-out row is lost to us for now: another one takes its place."""
        self.size -= 1
        self.add_thread()


class ThreadedBatch:
    def __init__(self, score_row, rows, timeout_s, max_bytes, output):
        self.score_row, self.rows, self.timeout_s, self.max_bytes = score_row, rows, timeout_s, max_bytes
        self.output = output
        self.results = [None] * len(rows)
        self.started = [None] * len(rows)
        self.ready = threading.Condition()
        self.finished = False

    def task(self, i):
        def run():
            if self.finished:
                return
            self.output.begin(i)
            self.started[i] = time.perf_counter()
            try:
                encoded = score_one(self.score_row, self.rows[i], self.max_bytes)
            finally:
                self.output.end(i)
            with self.ready:
                if self.results[i] is not None:
                    return "abandoned"
                self.results[i] = encoded
                self.ready.notify_all()
        return run

    def wait_for(self, i):
        """Row i's encoded result, or a timeout once it has run past its limit (True if so)."""
        with self.ready:
            while self.results[i] is None:
                started = self.started[i]
                left = self.timeout_s if started is None else self.timeout_s - (time.perf_counter() - started)
                if started is not None and left <= 0:
                    self.results[i] = timeout_outcome(self.timeout_s, round(self.timeout_s * 1000, 3))
                    return self.results[i], True
                self.ready.wait(min(left, 0.05) if started is None else left)
            return self.results[i], False


def run_threaded(pool, score_row, rows, add, threads, timeout_s, max_bytes, labels=None):
    pool.ensure(threads)
    with RowOutput(labels) as output:
        batch = ThreadedBatch(score_row, rows, timeout_s, max_bytes, output)
        queued = 0
        for i in range(len(rows)):
            while queued < len(rows) and queued - i < 2 * threads:
                pool.tasks.put(batch.task(queued))
                queued += 1
            encoded, timed_out = batch.wait_for(i)
            if timed_out:
                pool.abandon_one()
            add(encoded, False)
            batch.results[i] = ""  # emitted: free the text, keep the slot answered
        batch.finished = True

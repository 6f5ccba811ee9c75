"""Protocol frames: whole JSON lines to fd 3, results buffered and flushed in row order, and the
rows of a batch read one line each, so a row Python cannot decode costs only that row."""

import json
import os
import sys
import threading
import time

from .hygiene import exit_if_forked

FRAME_FD = 3
FLUSH_COUNT = 256
FLUSH_SECONDS = 0.05
FLUSH_BYTES = 4 * 1024 * 1024


class FrameWriter:
    """Writes whole JSON lines to fd 3; a forked evaluator child may never speak for us."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()

    def write_raw(self, text):
        exit_if_forked()
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


class UndecodableRow:
    """A row line Python's json cannot decode (an integer of more than 4,300 digits, nesting
    deeper than the recursion limit): it becomes that row's error result, its neighbours go on."""

    def __init__(self, error):
        self.error = error


def decode_row(line):
    try:
        return json.loads(line)
    except (ValueError, RecursionError) as error:
        return UndecodableRow(error)


def read_batch_rows(stdin, message):
    """A batch header says how many row lines follow it ("n"); older callers inline "rows".
    The lines are decoded as one array first (one call into the C decoder: decoding them one by
    one cost 60% more of a cheap job's sandbox time); only a batch that fails is decoded row by
    row, so a row Python cannot decode is that row's error alone."""
    if "rows" in message:
        return message["rows"]
    lines = [stdin.readline() for _ in range(int(message["n"]))]
    try:
        rows = json.loads(b"[" + b",".join(lines) + b"]")
        if len(rows) == len(lines):
            return rows
    except (ValueError, RecursionError):
        pass
    return [decode_row(line) for line in lines]

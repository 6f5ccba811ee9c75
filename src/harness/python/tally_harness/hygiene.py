"""Process hygiene: a forked evaluator child must never speak for the harness, leftovers are
reaped after a batch, and concurrent rows' prints are tagged with the row they came from."""

import os
import signal
import sys
import threading

MAIN_PID = os.getpid()


def exit_if_forked():
    """An evaluator forked and its child fell back into harness code: end it quietly."""
    if os.getpid() != MAIN_PID:
        os._exit(70)


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


class RowTaggedStream:
    """Wraps sys.stdout/sys.stderr while rows run concurrently: each line a row prints is written
    whole, prefixed with that row's place in the batch, so the execution log says whose it is.
    The current row comes from a context variable (one per asyncio task, one per thread)."""

    def __init__(self, inner, current_row):
        self.inner = inner
        self.current_row = current_row
        self.partial = {}
        self.lock = threading.Lock()

    def write(self, text):
        row = self.current_row.get()
        if row is None:
            return self.inner.write(text)
        with self.lock:
            pending = self.partial.pop(row, "") + text
            lines = pending.split("\n")
            if lines[-1]:
                self.partial[row] = lines[-1]
            for line in lines[:-1]:
                self.inner.write("row %d: %s\n" % (row, line))
        return len(text)

    def end_row(self, row):
        """A row finished: its unterminated last line is written now."""
        with self.lock:
            rest = self.partial.pop(row, None)
            if rest:
                self.inner.write("row %d: %s\n" % (row, rest))

    def flush(self):
        try:
            self.inner.flush()
        except Exception:
            pass

    def __getattr__(self, name):
        return getattr(self.inner, name)


class RowOutput:
    """Installs row-tagged stdout/stderr for one concurrent batch and restores them after."""

    def __init__(self, labels=None):
        import contextvars  # only concurrent batches need it
        self.current = contextvars.ContextVar("tally_row", default=None)
        self.streams = []
        # A row's tag: its index in the job when the runner sent them, else its place in the batch.
        self.label = (lambda i: labels[i]) if labels else (lambda i: i)

    def __enter__(self):
        self.saved = (sys.stdout, sys.stderr)
        sys.stdout = RowTaggedStream(self.saved[0], self.current)
        sys.stderr = RowTaggedStream(self.saved[1], self.current)
        self.streams = [sys.stdout, sys.stderr]
        return self

    def begin(self, row):
        self.current.set(self.label(row))

    def end(self, row):
        for stream in self.streams:
            stream.end_row(self.label(row))

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        return False

"""The Tally harness, one module per concern; harness.py (next to this package) is the entry point.

framing: the fd-3 protocol frames and result buffering. results: turning what an evaluator
returned into a wire result. contracts: loading the three evaluator contracts. hygiene: what
keeps the process clean (forked children, leftovers, per-row output). concurrency: how a batch's
rows are run (one at a time, on one event loop, or in a thread pool). main: the request loop.
Standard library only; asyncio and the thread pool are imported only by a batch that uses them.
"""

"""Tally evaluator harness: runs INSIDE the sandbox, hosts one evaluator, scores batches.

Requests arrive on stdin, protocol frames leave on fd 3 (JSON lines); the evaluator's own
stdout/stderr go to the parent's log capture and can never corrupt the protocol.
Standard library only (Python 3.11). The protocol is described in README.md; the code is the
tally_harness package next to this file (one module per concern).
"""

import os
import sys

if __name__ == "__main__":
    # -I leaves this file's directory off sys.path: put it there just long enough to import the
    # package, so the evaluator's own imports never resolve against the harness directory.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    from tally_harness.main import main
    sys.path.remove(here)
    sys.exit(main())

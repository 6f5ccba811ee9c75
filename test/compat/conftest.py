"""Starts a real Tally server (bin/tally serve) on a fresh data directory for the compatibility
tests, which drive it with the published Python clients exactly as a user would."""

import os
import secrets
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "compat"
ACCOUNT_EMAIL = "evals@compat.example"

# projects/ holds evaluator projects that the tests upload; they are not tests of this suite.
collect_ignore = ["projects"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tally():
    data_dir = tempfile.mkdtemp(prefix="tally-compat-")
    port = _free_port()
    key = "tly_compat_" + secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "TALLY_DATA_DIR": data_dir,
        "TALLY_PORT": str(port),
        "TALLY_ACCOUNT_ID": ACCOUNT,
        "TALLY_ACCOUNT_EMAIL": ACCOUNT_EMAIL,
        "TALLY_API_KEY": key,
        # Test servers share Python environments: the first entry-point build installs
        # eval-protocol, which takes a minute or more.
        "TALLY_ENV_DIR": os.environ.get("TALLY_ENV_DIR", "/tmp/tally-test-envs"),
    }
    log = open(Path(data_dir) / "server.log", "w")
    proc = subprocess.Popen([str(ROOT / "bin" / "tally"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tally serve exited early: {(Path(data_dir) / 'server.log').read_text()}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("tally serve did not start within 60 s")
    yield {"base_url": base, "api_key": key, "account_id": ACCOUNT, "data_dir": data_dir}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture()
def client(tally):
    from fireworks import Fireworks

    return Fireworks(api_key=tally["api_key"], account_id=tally["account_id"], base_url=tally["base_url"], max_retries=0)

"""Helpers of test_openai_evals_completions.py: the suite's own OpenAI-compatible model server
(test/support/model-server.ts) as a process, and a Tally server whose `openaiModels` maps a model
name to it. Not a test module."""

import json
import os
import secrets
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def model_server():
    requests_file = Path(tempfile.mkdtemp(prefix="tally-model-")) / "requests.jsonl"
    proc = subprocess.Popen([str(ROOT / "node_modules" / ".bin" / "tsx"), str(ROOT / "test" / "support" / "model-server-main.ts"), str(requests_file)],
                            stdout=subprocess.PIPE, text=True)
    try:
        base_url = proc.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the model server did not start (got {base_url!r})")
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def tally_server(extra_env):
    data_dir = tempfile.mkdtemp(prefix="tally-compat-models-")
    port = _free_port()
    key = "tly_compat_" + secrets.token_urlsafe(24)
    env = {**os.environ, "TALLY_DATA_DIR": data_dir, "TALLY_PORT": str(port), "TALLY_ACCOUNT_ID": "compat", "TALLY_API_KEY": key,
           "TALLY_ENV_DIR": os.environ.get("TALLY_ENV_DIR", "/tmp/tally-test-envs"), **extra_env}
    with open(Path(data_dir) / "server.log", "w") as log:
        proc = subprocess.Popen([str(ROOT / "bin" / "tally"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"tally serve exited early: {(Path(data_dir) / 'server.log').read_text()}")
                try:
                    if requests.get(f"{base}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            yield {"base_url": base, "api_key": key}
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def models_env(name, base_url, *more_names):
    """TALLY_OPENAI_MODELS mapping each name to the suite's model server."""
    return {"TALLY_OPENAI_MODELS": json.dumps({n: {"baseUrl": base_url, "model": "suite-model"} for n in (name, *more_names)})}

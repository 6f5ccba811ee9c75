"""The published eval-protocol CLI (`ep upload`) uploads an `@evaluation_test` project to Tally,
unchanged but for FIREWORKS_API_BASE, and Tally builds it for real (sandboxed pip install, then
an import of the entry point)."""

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

PROJECTS = Path(__file__).resolve().parent / "projects"
EP = Path(sys.executable).parent / "ep"
ENTRY = "test_exact.py::test_exact_match"
# ep derives the id as normalize("<file stem>-<function>"). Its --id flag is not honoured in
# eval-protocol 0.3.33 (upload_command reads args.id, argparse stores args.evaluator_id).
EVALUATOR_ID = "test-exact-test-exact-match"
EP_TIMEOUT_S = 300
BUILD_TIMEOUT_S = 600


def _copy_project(tmp_path: Path, name: str) -> Path:
    """A fresh copy of projects/exact_match; the directory name becomes the archive's name and root."""
    project = tmp_path / name
    shutil.copytree(PROJECTS / "exact_match", project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return project


def _ep_upload(tally, project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIREWORKS_")}
    env.update(
        FIREWORKS_API_BASE=tally["base_url"],
        FIREWORKS_API_KEY=tally["api_key"],
        FIREWORKS_ACCOUNT_ID=tally["account_id"],
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    try:
        return subprocess.run(
            [str(EP), "upload", "--yes", *args],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=EP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"ep upload {' '.join(args)} did not finish within {EP_TIMEOUT_S} s; output so far:\n{e.stdout}\n{e.stderr}")


def _output(result: subprocess.CompletedProcess) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def _assert_uploaded(result: subprocess.CompletedProcess, evaluator_id: str) -> None:
    assert result.returncode == 0, _output(result)
    assert f"Successfully uploaded evaluator: {evaluator_id}" in result.stdout, _output(result)
    # ep only logs a warning when getUploadEndpoint, the PUT or validateUpload fails.
    assert "Code upload failed" not in result.stdout + result.stderr, _output(result)


def _api(tally, method: str, path: str) -> requests.Response:
    url = f"{tally['base_url']}/v1/accounts/{tally['account_id']}{path}"
    return requests.request(method, url, headers={"Authorization": f"Bearer {tally['api_key']}"}, timeout=30)


def _wait_settled(tally, evaluator_id: str, after: str | None = None) -> dict:
    """Polls Get until the build settles (ACTIVE or BUILD_FAILED); with `after`, until updateTime moved past it."""
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        response = _api(tally, "GET", f"/evaluators/{evaluator_id}")
        last = f"HTTP {response.status_code}: {response.text}"
        if response.ok:
            body = response.json()
            moved = after is None or _time(body["updateTime"]) > _time(after)
            if body.get("state") in ("ACTIVE", "BUILD_FAILED") and moved:
                return body
        time.sleep(1)
    pytest.fail(f"evaluator {evaluator_id} did not settle within {BUILD_TIMEOUT_S} s; last seen: {last}")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _source_files(tally, evaluator_id: str) -> dict[str, str]:
    response = _api(tally, "GET", f"/evaluators/{evaluator_id}:getSourceCodeSignedUrl")
    assert response.ok, response.text
    urls = response.json()["filenameToSignedUrls"]
    assert list(urls) == ["exact_match.tar.gz"], urls
    archive = requests.get(urls["exact_match.tar.gz"], timeout=30)
    archive.raise_for_status()
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}


def test_ep_upload_builds_then_force_replaces(tally, tmp_path):
    project = _copy_project(tmp_path, "exact_match")

    first = _ep_upload(tally, project, "--entry", ENTRY)
    _assert_uploaded(first, EVALUATOR_ID)
    active = _wait_settled(tally, EVALUATOR_ID)
    assert active["state"] == "ACTIVE", active
    assert active["status"]["code"] == "OK", active
    assert active["name"] == f"accounts/{tally['account_id']}/evaluators/{EVALUATOR_ID}"
    assert active["entryPoint"] == ENTRY
    assert active["displayName"] == EVALUATOR_ID
    assert active["description"] == "Evaluator for test_exact.test_exact_match"
    files = _source_files(tally, EVALUATOR_ID)
    assert set(files) == {"exact_match/requirements.txt", "exact_match/test_exact.py"}, sorted(files)
    assert 'VERSION = "v1"' in files["exact_match/test_exact.py"]

    # Without --force the id is taken: ep reports the 409 and exits non-zero, changing nothing.
    again = _ep_upload(tally, project, "--entry", ENTRY)
    assert again.returncode != 0, _output(again)
    assert "already exists" in again.stdout, _output(again)
    unchanged = _api(tally, "GET", f"/evaluators/{EVALUATOR_ID}").json()
    assert (unchanged["state"], unchanged["updateTime"]) == ("ACTIVE", active["updateTime"]), unchanged

    # --force: ep GETs, DELETEs and creates again, then uploads the changed code.
    code = project / "test_exact.py"
    code.write_text(code.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
    forced = _ep_upload(tally, project, "--entry", ENTRY, "--force")
    _assert_uploaded(forced, EVALUATOR_ID)
    rebuilt = _wait_settled(tally, EVALUATOR_ID, after=active["updateTime"])
    assert rebuilt["state"] == "ACTIVE", rebuilt
    assert rebuilt["entryPoint"] == ENTRY
    assert _time(rebuilt["updateTime"]) > _time(active["updateTime"])
    assert 'VERSION = "v2"' in _source_files(tally, EVALUATOR_ID)["exact_match/test_exact.py"]
    assert not (project / "exact_match.tar.gz").exists(), "ep removes its archive after a successful upload"


def test_ep_upload_with_an_uninstallable_requirement_fails_the_build(tally, tmp_path):
    project = _copy_project(tmp_path, "unbuildable")
    (project / "test_exact.py").rename(project / "test_unbuildable.py")
    (project / "requirements.txt").write_text("nonexistent-package-tally-test==1.0\n")

    # No --entry: ep discovers the @evaluation_test itself (pytest collection).
    result = _ep_upload(tally, project)
    _assert_uploaded(result, "test-unbuildable-test-exact-match")
    failed = _wait_settled(tally, "test-unbuildable-test-exact-match")
    assert failed["state"] == "BUILD_FAILED", failed
    assert failed["entryPoint"] == "test_unbuildable.py::test_exact_match"
    assert failed["status"]["code"] != "OK", failed
    assert re.search(r"No matching distribution|Could not find a version", failed["status"]["message"]), failed


def test_ep_upload_registers_the_api_key_as_a_secret(tally, tmp_path):
    project = _copy_project(tmp_path, "secrets")
    (project / "test_exact.py").rename(project / "test_secrets.py")
    result = _ep_upload(tally, project)
    _assert_uploaded(result, "test-secrets-test-exact-match")
    assert "Failed to create FIREWORKS_API_KEY secret" not in result.stdout, _output(result)
    secret = _api(tally, "GET", "/secrets/fireworks-api-key")
    assert secret.status_code == 200, secret.text
    assert secret.json()["keyName"] == "FIREWORKS_API_KEY"

"""eval-protocol evaluators that generate, uploaded with the published `ep upload`: an
@evaluation_test declaring SingleTurnRolloutProcessor and completion_params gets its rollout
from Tally (the job's rollout settings over the declared ones), against the test suite's own
OpenAI-compatible model server; a processor Tally cannot run is refused at job create."""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from test_ep_upload import PROJECTS, _api, _assert_uploaded, _ep_upload, _wait_settled

ROOT = Path(__file__).resolve().parents[2]
JOB_TIMEOUT_S = 300


@pytest.fixture()
def model_server(tmp_path):
    requests_file = tmp_path / "model-requests.jsonl"
    requests_file.touch()
    proc = subprocess.Popen(
        [str(ROOT / "node_modules" / ".bin" / "tsx"), str(ROOT / "test" / "support" / "model-server-main.ts"), str(requests_file)],
        stdout=subprocess.PIPE, text=True,
    )
    base_url = proc.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:"), base_url
    yield {"base_url": base_url, "requests": lambda: [json.loads(line) for line in requests_file.read_text().splitlines()]}
    proc.terminate()
    proc.wait(timeout=10)


def _upload_project(tally, tmp_path, name: str, entry: str, evaluator_id: str) -> None:
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    _assert_uploaded(_ep_upload(tally, project, "--entry", entry), evaluator_id)
    active = _wait_settled(tally, evaluator_id)
    assert active["state"] == "ACTIVE", active


def _dataset(tally, dataset_id: str, rows: list[dict]) -> None:
    base = f"{tally['base_url']}/v1/accounts/{tally['account_id']}/datasets"
    headers = {"Authorization": f"Bearer {tally['api_key']}"}
    assert requests.post(base, json={"datasetId": dataset_id, "dataset": {}}, headers=headers, timeout=30).ok
    body = "".join(json.dumps(row) + "\n" for row in rows)
    uploaded = requests.post(f"{base}/{dataset_id}:upload", files={"file": ("rows.jsonl", body)}, headers=headers, timeout=30)
    assert uploaded.ok, uploaded.text


def _create_job(tally, job_id: str, evaluator_id: str, dataset_id: str, rollout: dict | None) -> requests.Response:
    account = f"accounts/{tally['account_id']}"
    job = {"evaluator": f"{account}/evaluators/{evaluator_id}", "inputDataset": f"{account}/datasets/{dataset_id}", "outputDataset": f"{account}/datasets/{job_id}-out"}
    if rollout is not None:
        job["rollout"] = rollout
    return requests.post(f"{tally['base_url']}/v1/{account}/evaluationJobs", json={"evaluationJobId": job_id, "evaluationJob": job},
                         headers={"Authorization": f"Bearer {tally['api_key']}"}, timeout=30)


def _wait_job(tally, job_id: str) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = _api(tally, "GET", f"/evaluationJobs/{job_id}").json()
        if job["state"] in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
            return job
        time.sleep(0.5)
    pytest.fail(f"job {job_id} did not finish within {JOB_TIMEOUT_S} s")


def test_single_turn_evaluator_gets_its_rollout_from_tally(tally, tmp_path, model_server):
    evaluator_id = "test-single-turn-test-single-turn"
    _upload_project(tally, tmp_path, "single_turn", "test_single_turn.py::test_single_turn", evaluator_id)
    rows = [
        {"messages": [{"role": "user", "content": "What is 2 + 3?"}], "ground_truth": "5"},
        {"messages": [{"role": "user", "content": "What is 7 + 1?"}], "ground_truth": "8"},
        {"messages": [{"role": "user", "content": "What is 1 + 1?"}], "ground_truth": "3"},
    ]
    _dataset(tally, "ep-sums", rows)
    # What the @evaluation_test declares about concurrency is the evaluator's, and its jobs', default.
    assert _api(tally, "GET", f"/evaluators/{evaluator_id}").json()["maxConcurrentEvaluations"] == 7

    # The declaration names no endpoint: a job without one says which field is missing.
    missing = _create_job(tally, "ep-no-url", evaluator_id, "ep-sums", None)
    assert missing.status_code == 400, missing.text
    assert "evaluationJob.rollout.baseUrl: is required" in missing.json()["message"]

    created = _create_job(tally, "ep-gen", evaluator_id, "ep-sums", {"baseUrl": model_server["base_url"], "completionParams": {"temperature": 0.5}})
    assert created.status_code == 200, created.text
    rollout = created.json()["rollout"]
    # Declared as eval-protocol writes it (LiteLLM's fireworks_ai/ prefix): the endpoint gets the model's own name.
    assert rollout["model"] == "accounts/test/models/tiny" and rollout["numRuns"] == 2 and rollout["maxConcurrentRollouts"] == 3, rollout
    job = _wait_job(tally, "ep-gen")
    assert job["state"] == "JOB_STATE_COMPLETED", job
    metrics = job["metrics"]
    assert metrics["row_count"] == 6 and metrics["error_count"] == 0, metrics
    assert metrics["pass@1"] == pytest.approx(2 / 3) and metrics["pass@2"] == pytest.approx(2 / 3), metrics

    sent = model_server["requests"]()
    assert len(sent) == 6
    for request in sent:
        body = request["body"]
        # Declared: model, max_tokens, top_k (passed through), num_retries (LiteLLM's own: not sent); the job's temperature wins.
        assert body["model"] == "accounts/test/models/tiny" and body["max_tokens"] == 32 and body["top_k"] == 4 and "num_retries" not in body, body
        assert body["temperature"] == 0.5, body

    results = _api(tally, "GET", "/evaluationJobs/ep-gen:listResults?orderBy=index").json()["results"]
    scores = [r["score"] for r in sorted(results, key=lambda r: r["index"])]
    assert scores == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0], results
    first = sorted(results, key=lambda r: r["index"])[0]["row"]
    assert first["messages"][-1] == {"role": "assistant", "content": "5"}, first
    assert first["rollout"]["run"] == 0 and first["rollout"]["finish_reason"] == "stop", first


def test_a_rollout_processor_tally_cannot_run_is_refused_at_job_create(tally, tmp_path):
    evaluator_id = "test-custom-test-custom"
    _upload_project(tally, tmp_path, "custom_processor", "test_custom.py::test_custom", evaluator_id)
    _dataset(tally, "ep-custom", [{"messages": [{"role": "user", "content": "hi"}], "ground_truth": "x"}])
    refused = _create_job(tally, "ep-custom-job", evaluator_id, "ep-custom", None)
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert "rollout_processor=MyAgentRolloutProcessor" in message, message
    assert "SingleTurnRolloutProcessor" in message and "NoOpRolloutProcessor" in message, message

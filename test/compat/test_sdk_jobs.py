"""The published `fireworks-ai` SDK runs evaluation jobs on Tally: an inline evaluator and an
eval-protocol (`ep upload`) evaluator each score a dataset; the job, its metrics and its output
dataset read back through the SDK as they would from the hosted platform."""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from test_sdk_evaluators import _seed_evaluator, _wait_settled

HERE = Path(__file__).resolve().parent
ROWS = [
    {"messages": [{"role": "user", "content": f"{i}+1?"}, {"role": "assistant", "content": str(i + 1 if i % 4 else i)}], "ground_truth": str(i + 1)}
    for i in range(40)
]
JOB_TIMEOUT_S = 300


def _upload_dataset(client, dataset_id: str, tmp_path: Path):
    client.datasets.create(dataset={"display_name": dataset_id}, dataset_id=dataset_id)
    path = tmp_path / f"{dataset_id}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with path.open("rb") as f:
        client.datasets.upload(dataset_id, file=f)


def _wait_job(client, job_id: str):
    deadline = time.monotonic() + JOB_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        last = client.evaluation_jobs.get(job_id)
        if last.state in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
            return last
        time.sleep(0.3)
    pytest.fail(f"job {job_id} did not finish within {JOB_TIMEOUT_S} s; last: {last}")


def _output_rows(client, dataset_id: str):
    endpoint = client.datasets.get_download_endpoint(dataset_id)
    (url,) = endpoint.filename_to_signed_urls.values()
    return [json.loads(line) for line in requests.get(url, timeout=30).text.splitlines()]


def test_sdk_runs_a_job_with_an_inline_evaluator(client, tmp_path):
    client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="job-exact")
    assert _wait_settled(client, "job-exact").state == "ACTIVE"
    _upload_dataset(client, "job-input", tmp_path)
    created = client.evaluation_jobs.create(
        evaluation_job={
            "evaluator": "accounts/compat/evaluators/job-exact",
            "input_dataset": "accounts/compat/datasets/job-input",
            "output_dataset": "accounts/compat/datasets/job-output",
            "display_name": "SDK job",
        },
        evaluation_job_id="sdk-job",
    )
    assert created.name == "accounts/compat/evaluationJobs/sdk-job"
    job = _wait_job(client, "sdk-job")
    assert job.state == "JOB_STATE_COMPLETED", job.status
    assert job.metrics["row_count"] == 40
    assert job.metrics["score"] == pytest.approx(30 / 40)
    assert json.loads(job.output_stats)["rowCount"] == 40
    assert "accounts/compat/evaluationJobs/sdk-job" in [j.name for j in client.evaluation_jobs.list()]
    rows = _output_rows(client, "job-output")
    assert [r["ground_truth"] for r in rows] == [r["ground_truth"] for r in ROWS]
    assert [r["evals"]["score"] for r in rows] == [0.0 if i % 4 == 0 else 1.0 for i in range(40)]


def test_ep_upload_evaluator_scores_a_job(client, tally, tmp_path):
    project = tmp_path / "exact_match"
    shutil.copytree(HERE / "projects" / "exact_match", project)
    (project / "test_exact.py").rename(project / "test_jobexact.py")
    env = {
        "PATH": str(Path(shutil.which("python3") or "/usr/bin/python3").parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FIREWORKS_API_BASE": tally["base_url"],
        "FIREWORKS_API_KEY": tally["api_key"],
        "FIREWORKS_ACCOUNT_ID": tally["account_id"],
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    ep = HERE.parents[1] / ".venv" / "bin" / "ep"
    done = subprocess.run([str(ep), "upload", "--yes", "--entry", "test_jobexact.py::test_exact_match"], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    evaluator_id = "test-jobexact-test-exact-match"
    assert _wait_settled(client, evaluator_id).state == "ACTIVE"
    _upload_dataset(client, "ep-input", tmp_path)
    client.evaluation_jobs.create(
        evaluation_job={
            "evaluator": f"accounts/compat/evaluators/{evaluator_id}",
            "input_dataset": "accounts/compat/datasets/ep-input",
            "output_dataset": "accounts/compat/datasets/ep-output",
        },
        evaluation_job_id="ep-job",
    )
    job = _wait_job(client, "ep-job")
    assert job.state == "JOB_STATE_COMPLETED", job.status
    assert job.metrics["score"] == pytest.approx(30 / 40)
    rows = _output_rows(client, "ep-output")
    assert rows[0]["evaluation_result"]["reason"].startswith("exact match (v1)")

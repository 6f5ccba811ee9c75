"""Calls of the published `fireworks-ai` SDK that Tally once answered differently from the hosted
platform (issue 15): each test makes the call exactly as a user would."""

import json

import fireworks
import pytest
import requests
from fireworks import Fireworks

from test_sdk_evaluators import _seed_evaluator, _wait_settled
from conftest import ACCOUNT_EMAIL

ROWS = [{"messages": [{"role": "user", "content": f"{i}?"}, {"role": "assistant", "content": str(i)}], "ground_truth": str(i)} for i in range(5)]


def _strict_client(tally) -> Fireworks:
    return Fireworks(api_key=tally["api_key"], account_id=tally["account_id"], base_url=tally["base_url"], max_retries=0, _strict_response_validation=True)


def _upload(client, dataset_id: str, tmp_path, rows=ROWS):
    client.datasets.create(dataset={"display_name": dataset_id}, dataset_id=dataset_id)
    path = tmp_path / f"{dataset_id}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with path.open("rb") as f:
        client.datasets.upload(dataset_id, file=f)


def test_lists_order_by_name_the_documented_default(client):
    for dataset_id in ("order-b", "order-a", "order-c"):
        client.datasets.create(dataset={"display_name": dataset_id}, dataset_id=dataset_id)
    names = [d.name for d in client.datasets.list(order_by="name", filter='datasetId : "order-"')]
    assert names == [f"accounts/compat/datasets/order-{x}" for x in "abc"]
    descending = [d.name for d in client.datasets.list(order_by="name desc", filter='datasetId : "order-"')]
    assert descending == list(reversed(names))
    for evaluator_id in ("order-y", "order-x"):
        client.evaluators.create(evaluator={"display_name": evaluator_id}, evaluator_id=evaluator_id)
    evaluators = [e.name for e in client.evaluators.list(order_by="name", filter='evaluatorId : "order-"')]
    assert evaluators == ["accounts/compat/evaluators/order-x", "accounts/compat/evaluators/order-y"]


def test_account_passes_strict_sdk_validation(tally):
    account = _strict_client(tally).accounts.get()
    assert account.name == f"accounts/{tally['account_id']}"
    assert account.email == ACCOUNT_EMAIL  # set at create (TALLY_ACCOUNT_EMAIL)
    assert account.state == "READY"


def test_an_uploaded_evaluator_reports_its_source_as_upload(client):
    created = client.evaluators.create(evaluator={"display_name": "by upload", "entry_point": "test_x.py::test_x"}, evaluator_id="src-upload")
    assert created.source is not None and created.source.type == "TYPE_UPLOAD"
    assert client.evaluators.get("src-upload").source.type == "TYPE_UPLOAD"


def test_aws_s3_config_is_echoed_back_as_stored(client, tmp_path):
    client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="s3-eval")
    assert _wait_settled(client, "s3-eval").state == "ACTIVE"
    _upload(client, "s3-input", tmp_path)
    config = {"credentials_secret": "accounts/compat/secrets/aws", "iam_role_arn": "arn:aws:iam::123456789012:role/eval"}
    created = client.evaluation_jobs.create(
        evaluation_job={
            "evaluator": "accounts/compat/evaluators/s3-eval",
            "input_dataset": "accounts/compat/datasets/s3-input",
            "output_dataset": "accounts/compat/datasets/s3-output",
            "aws_s3_config": config,
        },
        evaluation_job_id="s3-job",
    )
    assert created.aws_s3_config.credentials_secret == config["credentials_secret"]
    got = client.evaluation_jobs.get("s3-job")
    assert got.aws_s3_config.iam_role_arn == config["iam_role_arn"]


@pytest.mark.parametrize("where", ["top", "nested"])
def test_unknown_fields_are_refused_at_the_top_and_inside_the_resource(client, where):
    """grpc-gateway rejects any unknown field of the request message, wherever it is (reference §0)."""
    dataset = {"display_name": "unknown"}
    extra = {"assertionType": "x"} if where == "top" else None
    if where == "nested":
        dataset["assertionType"] = "x"
    with pytest.raises(fireworks.BadRequestError) as refused:
        client.datasets.create(dataset=dataset, dataset_id=f"unknown-{where}", extra_body=extra)
    expected = 'assertionType: unknown field "assertionType"' if where == "top" else 'dataset.assertionType: unknown field "assertionType"'
    assert expected in str(refused.value)
    with pytest.raises(fireworks.NotFoundError):
        client.datasets.get(f"unknown-{where}")
    with pytest.raises(fireworks.BadRequestError):
        client.evaluation_jobs.create(
            evaluation_job={"evaluator": "accounts/compat/evaluators/x", "input_dataset": "accounts/compat/datasets/x", "output_dataset": "accounts/compat/datasets/y", **({"bogus": 1} if where == "nested" else {})},
            extra_body={"bogus": 1} if where == "top" else None,
        )


def test_eval_protocol_persist_flow_records_its_results_as_a_completed_job(client, tally, tmp_path, monkeypatch):
    """eval-protocol uploads locally scored rows, then creates a job with evaluator and input
    `dummy` pointing at them (reference §3.3): the job is a record, COMPLETED, scored from the rows."""
    from eval_protocol.models import EvaluateResult, EvaluationRow, ExecutionMetadata, Message, MetricResult
    from eval_protocol.pytest.handle_persist_flow import handle_persist_flow

    monkeypatch.setenv("FIREWORKS_API_KEY", tally["api_key"])
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", tally["account_id"])
    monkeypatch.setenv("FIREWORKS_API_BASE", tally["base_url"])
    monkeypatch.setenv("EP_OUTPUT_DIR", str(tmp_path))
    monkeypatch.delenv("EP_NO_UPLOAD", raising=False)
    scores = [1.0, 0.0, 1.0, 1.0]
    rows = [
        EvaluationRow(
            messages=[Message(role="user", content=f"q{i}"), Message(role="assistant", content=f"a{i}")],
            execution_metadata=ExecutionMetadata(experiment_id="exp-one"),
            evaluation_result=EvaluateResult(score=s, is_score_valid=True, reason="r", metrics={"exact": MetricResult(score=s, reason="", is_score_valid=True)}),
        )
        for i, s in enumerate(scores)
    ]
    handle_persist_flow([rows], "test_persist")

    job = client.evaluation_jobs.get("test-persist-exp-one-job")
    assert job.state == "JOB_STATE_COMPLETED"
    assert job.output_dataset == "accounts/compat/datasets/test-persist-exp-one"
    assert job.evaluator == "accounts/compat/evaluators/dummy"
    assert job.metrics["score"] == pytest.approx(0.75)
    assert job.metrics["row_count"] == 4
    assert job.metrics["metric.exact"] == pytest.approx(0.75)
    dataset = client.datasets.get("test-persist-exp-one")
    assert dataset.state == "READY" and dataset.example_count == "4"
    assert dataset.evaluation_result.evaluation_job_id == "test-persist-exp-one-job"
    # Its rows read back through the results query like any job's, each with its recorded score.
    results = requests.get(f"{tally['base_url']}/v1/accounts/compat/evaluationJobs/test-persist-exp-one-job:listResults",
                           headers={"Authorization": f"Bearer {tally['api_key']}"}, timeout=30).json()["results"]
    assert [(r["index"], r["score"]) for r in results] == list(enumerate(scores))

    # An ordinary job naming a missing evaluator is still a 404, and nothing is recorded.
    with pytest.raises(fireworks.NotFoundError):
        client.evaluation_jobs.create(
            evaluation_job={"evaluator": "accounts/compat/evaluators/dummy", "input_dataset": "accounts/compat/datasets/dummy", "output_dataset": "accounts/compat/datasets/not-there"},
            evaluation_job_id="not-recorded",
        )


def _wait_job(client, job_id: str, timeout_s: float = 300):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.evaluation_jobs.get(job_id)
        if job.state in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
            return job
        time.sleep(0.3)
    pytest.fail(f"job {job_id} did not finish")


def test_download_lineage_returns_the_datasets_a_dataset_was_made_from(client, tmp_path):
    _upload(client, "lineage-src", tmp_path)
    client.datasets.create(dataset={}, dataset_id="lineage-f1", source_dataset_id="accounts/compat/datasets/lineage-src", extra_body={"filter": 'ground_truth != "0"'})
    client.datasets.create(dataset={}, dataset_id="lineage-f2", source_dataset_id="lineage-f1", extra_body={"filter": 'ground_truth != "1"'})

    plain = client.datasets.get_download_endpoint("lineage-f2").filename_to_signed_urls
    assert list(plain) == ["lineage-f2.jsonl"]
    urls = client.datasets.get_download_endpoint("lineage-f2", download_lineage=True).filename_to_signed_urls
    assert list(urls) == ["lineage-f2.jsonl", "lineage-f1.jsonl", "lineage-src.jsonl"]
    truths = {name: [json.loads(line)["ground_truth"] for line in requests.get(url, timeout=30).text.splitlines()] for name, url in urls.items()}
    assert truths == {"lineage-f2.jsonl": ["2", "3", "4"], "lineage-f1.jsonl": ["1", "2", "3", "4"], "lineage-src.jsonl": ["0", "1", "2", "3", "4"]}

    # A job's output dataset descends from the job's input dataset.
    client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="lineage-eval")
    assert _wait_settled(client, "lineage-eval").state == "ACTIVE"
    client.evaluation_jobs.create(
        evaluation_job={"evaluator": "accounts/compat/evaluators/lineage-eval", "input_dataset": "accounts/compat/datasets/lineage-f1", "output_dataset": "accounts/compat/datasets/lineage-out"},
        evaluation_job_id="lineage-job",
    )
    assert _wait_job(client, "lineage-job").state == "JOB_STATE_COMPLETED"
    urls = client.datasets.get_download_endpoint("lineage-out", download_lineage=True).filename_to_signed_urls
    assert list(urls) == ["lineage-out.jsonl", "lineage-f1.jsonl", "lineage-src.jsonl"]

"""The OpenAI Evals face, driven by the official `openai` package as a user whose hosted Evals
platform shut down would drive it: base_url pointed at Tally, the Tally key as the API key.
Every response is validated against the SDK's own response types with strict validation."""

import time

import openai
import pytest
from openai.types import EvalCreateResponse, EvalDeleteResponse, EvalListResponse, EvalRetrieveResponse, EvalUpdateResponse
from openai.types.evals import RunCancelResponse, RunCreateResponse, RunDeleteResponse, RunListResponse, RunRetrieveResponse
from openai.types.evals.runs import OutputItemListResponse, OutputItemRetrieveResponse

ITEM_SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}, "required": ["question", "answer"]}

PYTHON_SOURCE = """
def grade(sample, item):
    return 1.0 if sample["output_text"].strip().lower() == item["answer"].lower() else 0.25
"""

CRITERIA = [
    {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "operation": "eq"},
    {"type": "string_check", "name": "contains", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "operation": "ilike"},
    {"type": "text_similarity", "name": "rouge", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "evaluation_metric": "rouge_1", "pass_threshold": 0.5},
    {"type": "text_similarity", "name": "fuzzy", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "evaluation_metric": "fuzzy_match", "pass_threshold": 0.8},
    {"type": "python", "name": "py", "source": PYTHON_SOURCE, "pass_threshold": 0.5},
]

ITEMS = [
    {"item": {"question": "Capital of France?", "answer": "Paris"}, "sample": {"output_text": "Paris"}},
    {"item": {"question": "2+2?", "answer": "4"}, "sample": {"output_text": "five"}},
    {"item": {"question": "Colour of the sky?", "answer": "blue"}, "sample": {"output_text": "It is Blue"}},
]


def strict(model_type, obj):
    return model_type.model_validate(obj.model_dump(mode="json", by_alias=True), strict=True)


@pytest.fixture()
def oai(tally):
    return openai.OpenAI(api_key=tally["api_key"], base_url=tally["base_url"] + "/v1", max_retries=0)


def wait_for(oai, eval_id, run_id, statuses, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = oai.evals.runs.retrieve(run_id, eval_id=eval_id)
        if run.status in statuses:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {run.status} after {timeout}s")


def create_eval(oai, criteria=CRITERIA, name="qa"):
    created = oai.evals.create(
        name=name, metadata={"team": "compat"},
        data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA, "include_sample_schema": True},
        testing_criteria=criteria,
    )
    strict(EvalCreateResponse, created)
    return created


def test_eval_lifecycle_and_pagination(oai):
    created = create_eval(oai)
    assert created.id.startswith("eval_") and created.object == "eval" and created.name == "qa"
    assert created.data_source_config.type == "custom"
    assert created.data_source_config.schema_["properties"]["item"] == ITEM_SCHEMA
    assert [c.name for c in created.testing_criteria] == ["exact", "contains", "rouge", "fuzzy", "py"]

    got = oai.evals.retrieve(created.id)
    strict(EvalRetrieveResponse, got)
    assert got.model_dump() == created.model_dump()

    updated = oai.evals.update(created.id, name="qa-renamed", metadata={"team": "x"})
    strict(EvalUpdateResponse, updated)
    assert updated.name == "qa-renamed" and updated.metadata == {"team": "x"}

    others = [create_eval(oai, name=f"page-{i}").id for i in range(3)]
    first = oai.evals.list(limit=2, order="asc")
    for e in first.data:
        strict(EvalListResponse, e)
    assert len(first.data) == 2 and first.has_more is True
    every = [e.id for e in oai.evals.list(limit=2, order="asc").iter_pages() for e in e.data]
    assert every.index(created.id) < every.index(others[0]) < every.index(others[2])
    newest = oai.evals.list(limit=1, order="desc").data[0].id
    assert newest == others[2]

    deleted = oai.evals.delete(others[0])
    strict(EvalDeleteResponse, deleted)
    assert deleted.deleted is True and deleted.eval_id == others[0]
    with pytest.raises(openai.NotFoundError) as error:
        oai.evals.retrieve(others[0])
    assert error.value.body["message"].startswith("eval_id: ")
    assert error.value.body["param"] == "eval_id" and error.value.body["type"] == "invalid_request_error"


def test_bad_inputs_get_clear_errors(oai):
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.create(data_source_config={"type": "stored_completions"}, testing_criteria=CRITERIA)
    assert "stored" in error.value.message and error.value.body["param"] == "data_source_config.type"
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA},
                         testing_criteria=[{**CRITERIA[0], "operation": "glob"}])
    assert error.value.body["param"] == "testing_criteria[0].operation"
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA},
                         testing_criteria=[{"type": "multi", "name": "m", "graders": {"a": CRITERIA[0]}, "calculate_output": "a + __import__('os')"}])
    assert error.value.body["param"] == "testing_criteria[0].calculate_output"

    created = create_eval(oai, criteria=[CRITERIA[0]])
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.runs.create(created.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": [{"item": {"question": "q"}}]}})
    assert "answer" in error.value.message and error.value.body["param"] == "data_source.source.content[0]"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="tly_wrong", base_url=str(oai.base_url), max_retries=0).evals.list()


def test_run_over_jsonl_with_every_grader_kind(oai):
    created = create_eval(oai)
    run = oai.evals.runs.create(created.id, name="first", data_source={"type": "jsonl", "source": {"type": "file_content", "content": ITEMS}})
    strict(RunCreateResponse, run)
    assert run.id.startswith("evalrun_") and run.status in ("queued", "in_progress", "completed")

    done = wait_for(oai, created.id, run.id, {"completed", "failed"})
    strict(RunRetrieveResponse, done)
    assert done.status == "completed", done.error
    assert done.result_counts.model_dump() == {"total": 3, "passed": 1, "failed": 2, "errored": 0}
    per = {r.testing_criteria: (r.passed, r.failed) for r in done.per_testing_criteria_results}
    assert per == {"exact": (1, 2), "contains": (2, 1), "rouge": (2, 1), "fuzzy": (1, 2), "py": (1, 2)}

    items = oai.evals.runs.output_items.list(run.id, eval_id=created.id)
    for item in items.data:
        strict(OutputItemListResponse, item)
    assert [i.datasource_item_id for i in items.data] == [0, 1, 2]
    third = {r.name: r for r in items.data[2].results}
    assert third["exact"].score == 0 and third["contains"].passed is True
    assert third["rouge"].score == pytest.approx(0.5) and third["rouge"].passed  # precision 1/3, recall 1
    assert third["py"].score == 0.25 and third["py"].passed is False
    assert items.data[0].status == "pass" and items.data[0].sample.output[0].content == "Paris"

    one = oai.evals.runs.output_items.retrieve(items.data[1].id, eval_id=created.id, run_id=run.id)
    strict(OutputItemRetrieveResponse, one)
    assert one.datasource_item == ITEMS[1]["item"]
    passing = oai.evals.runs.output_items.list(run.id, eval_id=created.id, status="pass")
    assert [i.datasource_item_id for i in passing.data] == [0]
    paged = oai.evals.runs.output_items.list(run.id, eval_id=created.id, limit=1, order="desc")
    assert [i.datasource_item_id for i in paged.data] == [2] and paged.has_more is True

    runs = oai.evals.runs.list(created.id)
    for r in runs.data:
        strict(RunListResponse, r)
    assert [r.id for r in runs.data] == [run.id]
    assert [r.id for r in oai.evals.runs.list(created.id, status="completed").data] == [run.id]
    assert oai.evals.runs.list(created.id, status="queued").data == []


def test_multi_grader_and_errors_per_item(oai):
    multi = {"type": "multi", "name": "blend", "graders": {"e": CRITERIA[0], "f": CRITERIA[3]},
             "calculate_output": "max(e, f) * 0.5 + 0.5 * e"}
    failing_python = {"type": "python", "name": "boom", "source": "def grade(sample, item):\n    return 1 / len(item['question'].split('?')[1])\n"}
    created = oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA}, testing_criteria=[multi, failing_python])
    run = oai.evals.runs.create(created.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": ITEMS[:2]}})
    done = wait_for(oai, created.id, run.id, {"completed", "failed"})
    assert done.status == "completed", done.error
    # "boom" divides by zero on every item: each item is errored, none failed.
    assert done.result_counts.model_dump() == {"total": 2, "passed": 0, "failed": 0, "errored": 2}
    items = oai.evals.runs.output_items.list(run.id, eval_id=created.id).data
    blend = {r.name: r for r in items[0].results}["blend"]
    assert blend.score == pytest.approx(1.0)
    assert "ZeroDivisionError" in items[0].sample.error.message


def test_cancel_and_delete_a_run(oai, tally):
    slow = {"type": "python", "name": "slow", "source": "import time\ndef grade(sample, item):\n    time.sleep(0.5)\n    return 1.0\n"}
    created = oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA}, testing_criteria=[slow])
    content = [ITEMS[0]] * 400
    run = oai.evals.runs.create(created.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": content}})
    wait_for(oai, created.id, run.id, {"in_progress"})
    canceled = oai.evals.runs.cancel(run.id, eval_id=created.id)
    strict(RunCancelResponse, canceled)
    assert canceled.status == "canceled"
    after = wait_for(oai, created.id, run.id, {"canceled"})
    assert after.result_counts.total == 400 and after.result_counts.passed < 400

    # The same run is a Tally job, visible from the Fireworks face.
    import requests
    job_id = after.report_url.rsplit("/", 1)[1]
    url = f"{tally['base_url']}/v1/accounts/{tally['account_id']}/evaluationJobs/{job_id}"
    deadline = time.time() + 120  # CANCELLING until the worker lets go of its chunk
    while (job := requests.get(url, headers={"Authorization": f"Bearer {tally['api_key']}"}, timeout=10).json())["state"] != "JOB_STATE_CANCELLED":
        assert job["state"] == "JOB_STATE_CANCELLING" and time.time() < deadline, job["state"]
        time.sleep(0.5)
    final = oai.evals.runs.retrieve(run.id, eval_id=created.id)
    # Rows scored before the cancel stay: the counts are the output items that exist.
    listed = [i for page in oai.evals.runs.output_items.list(run.id, eval_id=created.id, limit=100).iter_pages() for i in page.data]
    assert final.status == "canceled" and final.result_counts.passed == len(listed) < 400

    deleted = oai.evals.runs.delete(run.id, eval_id=created.id)
    strict(RunDeleteResponse, deleted)
    assert deleted.deleted is True and deleted.run_id == run.id
    with pytest.raises(openai.NotFoundError):
        oai.evals.runs.retrieve(run.id, eval_id=created.id)


def test_a_python_grader_that_does_not_compile_fails_its_run_with_the_syntax_error(oai):
    broken = {"type": "python", "name": "broken", "source": "def grade(sample, item:\n    return 1\n"}
    created = oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA}, testing_criteria=[broken])
    run = oai.evals.runs.create(created.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": ITEMS[:1]}})
    failed = wait_for(oai, created.id, run.id, {"completed", "failed"})
    strict(RunRetrieveResponse, failed)
    assert failed.status == "failed" and "SyntaxError" in failed.error.message
    # The same graders again: refused at once, with the build's reason.
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA}, testing_criteria=[broken])
    assert "did not build" in error.value.message and "SyntaxError" in error.value.message

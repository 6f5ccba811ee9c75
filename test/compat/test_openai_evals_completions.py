"""A `completions` run through the official openai package: Tally renders the input_messages
templates from each item, the rollout step samples the model the operator mapped the run's model
name to (the suite's own OpenAI-compatible server), and the graders score the sampled text."""

import importlib.util
import math
import time
import warnings
from pathlib import Path

import openai
import pytest
from openai.types.evals import RunCreateResponse, RunRetrieveResponse
from openai.types.evals.runs import OutputItemListResponse

from openai_support import model_server, models_env, tally_server

ITEM_SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}, "required": ["question", "answer"]}


def strict(model_type, obj):
    return model_type.model_validate(obj.model_dump(mode="json", by_alias=True), strict=True)


@pytest.fixture(scope="module")
def oai():
    with model_server() as model_url, tally_server(models_env("tiny-model", model_url, "text-embedding-3-large")) as tally:
        yield openai.OpenAI(api_key=tally["api_key"], base_url=tally["base_url"] + "/v1", max_retries=0)


def test_completions_run_samples_the_configured_model_and_grades_its_output(oai):
    created = oai.evals.create(
        data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA},
        testing_criteria=[{"type": "string_check", "name": "right", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "operation": "eq"}],
    )
    items = [{"item": {"question": "2 + 3", "answer": "5"}}, {"item": {"question": "1 + 1", "answer": "3"}}]
    run = oai.evals.runs.create(created.id, data_source={
        "type": "completions", "model": "tiny-model",
        "source": {"type": "file_content", "content": items},
        "input_messages": {"type": "template", "template": [
            {"role": "system", "content": "Answer with the number only."},
            {"role": "user", "content": "What is {{item.question}}?"},
        ]},
        "sampling_params": {"temperature": 0, "seed": 7, "max_completion_tokens": 16},
    })
    strict(RunCreateResponse, run)
    assert run.model == "tiny-model"
    deadline = time.time() + 300
    while (done := oai.evals.runs.retrieve(run.id, eval_id=created.id)).status not in ("completed", "failed"):
        assert time.time() < deadline, done.status
        time.sleep(0.5)
    strict(RunRetrieveResponse, done)
    assert done.status == "completed", done.error
    assert done.result_counts.model_dump() == {"total": 2, "passed": 1, "failed": 1, "errored": 0}
    usage = done.per_model_usage[0]
    assert usage.run_model_name == "tiny-model" and usage.invocation_count == 2 and usage.completion_tokens > 0

    out = oai.evals.runs.output_items.list(run.id, eval_id=created.id).data
    for item in out:
        strict(OutputItemListResponse, item)
    first = out[0]
    assert [(m.role, m.content) for m in first.sample.input] == [("system", "Answer with the number only."), ("user", "What is 2 + 3?")]
    assert first.sample.output[0].content == "5" and first.sample.seed == 7 and first.sample.usage.completion_tokens > 0
    assert first.status == "pass" and out[1].status == "fail" and out[1].sample.output[0].content == "2"


def test_a_model_the_operator_did_not_map_is_refused_with_the_configured_names(oai):
    created = oai.evals.create(
        data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA},
        testing_criteria=[{"type": "string_check", "name": "right", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "operation": "eq"}],
    )
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.runs.create(created.id, data_source={
            "type": "completions", "model": "gpt-6-astra", "source": {"type": "file_content", "content": [{"item": {"question": "q", "answer": "a"}}]},
            "input_messages": {"type": "template", "template": [{"role": "user", "content": "{{item.question}}"}]},
        })
    assert error.value.body["param"] == "data_source.model" and "tiny-model" in error.value.message
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.runs.create(created.id, data_source={
            "type": "completions", "model": "tiny-model", "source": {"type": "file_content", "content": [{"item": {"question": "q", "answer": "a"}}]},
            "input_messages": {"type": "template", "template": [{"role": "user", "content": "{{item.missing}}"}]},
        })
    assert 'item has no field "missing"' in error.value.message


def wait_done(oai, eval_id, run_id):
    deadline = time.time() + 300
    while (done := oai.evals.runs.retrieve(run_id, eval_id=eval_id)).status not in ("completed", "failed"):
        assert time.time() < deadline, done.status
        time.sleep(0.5)
    assert done.status == "completed", done.error
    return done


ANSWERED = [{"item": {"question": "2 + 3", "answer": "5"}, "sample": {"output_text": "I think 5"}},
            {"item": {"question": "1 + 1", "answer": "3"}, "sample": {"output_text": "I think 3"}}]


def test_label_and_score_model_graders_call_the_configured_model_on_a_jsonl_run(oai):
    # The suite's model answers "What is a + b?" with the sum: a judge whose verdict is known.
    judge = [{"role": "system", "content": "Reply with the sum only."}, {"role": "user", "content": "What is {{item.question}}? (candidate said: {{sample.output_text}})"}]
    label = oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA, "include_sample_schema": True}, testing_criteria=[
        {"type": "label_model", "name": "judge", "model": "tiny-model", "input": judge, "labels": ["2", "5"], "passing_labels": ["5"]},
        {"type": "string_check", "name": "has-answer", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "operation": "like"},
    ])
    run = oai.evals.runs.create(label.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": ANSWERED}})
    done = wait_done(oai, label.id, run.id)
    per = {r.testing_criteria: (r.passed, r.failed) for r in done.per_testing_criteria_results}
    assert per == {"judge": (1, 1), "has-answer": (2, 0)}
    items = oai.evals.runs.output_items.list(run.id, eval_id=label.id).data
    for item in items:
        strict(OutputItemListResponse, item)
    verdict = {r.name: r for r in items[0].results}["judge"]
    assert verdict.passed and verdict.sample["output"][0]["content"] == "5"
    assert verdict.sample["input"][1]["content"] == "What is 2 + 3? (candidate said: I think 5)"
    assert items[0].sample.output[0].content == "I think 5"  # the item's sample, not the judge's answer

    score = oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA}, testing_criteria=[
        {"type": "score_model", "name": "points", "model": "tiny-model", "input": judge, "range": [0, 10], "pass_threshold": 4},
    ])
    run = oai.evals.runs.create(score.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": ANSWERED}})
    done = wait_done(oai, score.id, run.id)
    assert done.result_counts.model_dump() == {"total": 2, "passed": 1, "failed": 1, "errored": 0}
    # The judge's calls are the run's model usage, under the grader's model name.
    assert [(u.run_model_name, u.invocation_count) for u in done.per_model_usage] == [("tiny-model", 2)] and done.per_model_usage[0].prompt_tokens > 0
    scores = [{r.name: r.score for r in i.results}["points"] for i in oai.evals.runs.output_items.list(run.id, eval_id=score.id).data]
    assert scores == [5.0, 2.0]

    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.runs.create(label.id, data_source={"type": "completions", "model": "tiny-model", "source": {"type": "file_content", "content": ANSWERED},
                                                     "input_messages": {"type": "template", "template": [{"role": "user", "content": "{{item.question}}"}]}})
    assert "second model call" in error.value.message


def letter_embedding(text):
    """The suite's model server embeds a text as its counts of the letters a-z (test/support/model-server.ts)."""
    return [text.lower().count(chr(97 + i)) for i in range(26)]


def cosine_of(a, b):
    x, y = letter_embedding(a), letter_embedding(b)
    dot, norms = sum(p * q for p, q in zip(x, y)), math.sqrt(sum(p * p for p in x) * sum(q * q for q in y))
    return dot / norms if norms else 0.0


def graders_module():
    path = Path(__file__).resolve().parents[2] / "src" / "services" / "openai-evals" / "graders.py"
    spec = importlib.util.spec_from_file_location("openai_graders", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cosine_embeds_through_the_configured_endpoint_and_meteor_reads_wordnet(oai):
    from nltk.translate.meteor_score import meteor_score
    cosine = {"type": "text_similarity", "name": "cos", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "evaluation_metric": "cosine", "pass_threshold": 0.9}
    created = oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA, "include_sample_schema": True}, testing_criteria=[
        cosine,
        {"type": "multi", "name": "mix", "calculate_output": "(q + m) / 2", "graders": {
            "q": {**cosine, "name": "q", "input": "{{item.question}}", "pass_threshold": None},
            "m": {"type": "text_similarity", "name": "m", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "evaluation_metric": "meteor"}}},
        {"type": "text_similarity", "name": "met", "input": "{{sample.output_text}}", "reference": "{{item.answer}}", "evaluation_metric": "meteor", "pass_threshold": 0.5},
    ])
    items = [{"item": {"question": "the colour of the sky", "answer": "the sky is blue"}, "sample": {"output_text": "the sky is blue"}},
             {"item": {"question": "a fast vehicle", "answer": "the auto is fast"}, "sample": {"output_text": "the car is fast"}},
             {"item": {"question": "zzz", "answer": "xyz"}, "sample": {"output_text": "banana"}}]
    run = oai.evals.runs.create(created.id, data_source={"type": "jsonl", "source": {"type": "file_content", "content": items}})
    done = wait_done(oai, created.id, run.id)
    assert [(u.run_model_name, u.invocation_count, u.completion_tokens) for u in done.per_model_usage] == [("suite-model", 3, 0)]
    wordnet = graders_module().debian_wordnet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meteor = [meteor_score([i["item"]["answer"].split()], i["sample"]["output_text"].split(), wordnet=wordnet) for i in items]
    out = oai.evals.runs.output_items.list(run.id, eval_id=created.id).data
    for i, item in enumerate(out):
        strict(OutputItemListResponse, item)
        scores = {r.name: r.score for r in item.results}
        given, answer, question = items[i]["sample"]["output_text"], items[i]["item"]["answer"], items[i]["item"]["question"]
        assert scores["cos"] == pytest.approx(cosine_of(given, answer), abs=1e-9)
        assert scores["mix"] == pytest.approx((cosine_of(question, answer) + meteor[i]) / 2, abs=1e-9)
        assert scores["met"] == pytest.approx(meteor[i], abs=1e-12)
        assert item.sample.output[0].content == given  # the item's sample, not the embeddings call
    assert meteor[1] > 0.99  # "car" meets "auto" through WordNet
    per = {r.testing_criteria: (r.passed, r.failed) for r in done.per_testing_criteria_results}
    assert per["cos"] == (sum(cosine_of(i["sample"]["output_text"], i["item"]["answer"]) >= 0.9 for i in items), sum(cosine_of(i["sample"]["output_text"], i["item"]["answer"]) < 0.9 for i in items))

    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.create(data_source_config={"type": "custom", "item_schema": ITEM_SCHEMA}, testing_criteria=[
            cosine, {"type": "score_model", "name": "p", "model": "tiny-model", "input": [{"role": "user", "content": "{{item.question}}"}]}])
    assert "separate evals" in error.value.message
    with pytest.raises(openai.BadRequestError) as error:
        oai.evals.runs.create(created.id, data_source={"type": "completions", "model": "tiny-model", "source": {"type": "file_content", "content": items},
                                                       "input_messages": {"type": "template", "template": [{"role": "user", "content": "{{item.question}}"}]}})
    assert "embeddings model" in error.value.message

"""The published `fireworks-ai` SDK manages evaluators on Tally, unchanged but for its base URL:
an inline (criteria/codeSnippets) evaluator is created, built, listed, its build log fetched, deleted."""

import time

import fireworks
import pytest
import requests

BUILD_TIMEOUT_S = 300

EXACT_MATCH = """\
def evaluate(messages, ground_truth=None, tools=None, **kwargs):
    answer = messages[-1]["content"] if messages else ""
    return {"score": float(str(answer).strip() == str(ground_truth).strip()), "reason": "exact match"}
"""


def _seed_evaluator(main_py: str = EXACT_MATCH) -> dict:
    """The create-evaluator page's fields, in the SDK's snake_case."""
    return {
        "display_name": "SDK exact match",
        "description": "scores exact matches",
        "criteria": [
            {
                "type": "CODE_SNIPPETS",
                "name": "exact",
                "description": "exact match",
                "code_snippets": {"language": "python", "file_contents": {"main.py": main_py}, "entry_file": "main.py", "entry_func": "evaluate"},
            }
        ],
        "requirements": "",
        "commit_hash": "abc123",
        "source": {"type": "TYPE_UPLOAD"},
    }


def _wait_settled(client, evaluator_id: str):
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        last = client.evaluators.get(evaluator_id)
        if last.state in ("ACTIVE", "BUILD_FAILED"):
            return last
        time.sleep(0.5)
    pytest.fail(f"evaluator {evaluator_id} did not settle within {BUILD_TIMEOUT_S} s; last seen: state={last.state} status={last.status}")


def test_create_build_list_log_delete(client):
    created = client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="sdk-exact")
    assert created.name == "accounts/compat/evaluators/sdk-exact"
    assert created.state == "BUILDING"
    assert created.commit_hash == "abc123"

    got = _wait_settled(client, "sdk-exact")
    assert got.state == "ACTIVE", got.status
    assert got.status.code == "OK"
    assert got.display_name == "SDK exact match"
    assert got.source.type == "TYPE_UPLOAD"
    (criterion,) = got.criteria
    assert criterion.name == "exact" and criterion.type == "CODE_SNIPPETS"
    assert criterion.code_snippets.file_contents == {"main.py": EXACT_MATCH}
    assert (criterion.code_snippets.entry_file, criterion.code_snippets.entry_func) == ("main.py", "evaluate")

    names = [e.name for e in client.evaluators.list(page_size=1)]
    assert "accounts/compat/evaluators/sdk-exact" in names
    assert len(names) == len(set(names)), names

    endpoint = client.evaluators.get_build_log_endpoint("sdk-exact")
    log = requests.get(endpoint.build_log_signed_uri, timeout=30)
    assert log.status_code == 200, log.text
    assert "ACTIVE" in log.text, log.text

    assert client.evaluators.delete("sdk-exact") == {}
    with pytest.raises(fireworks.NotFoundError):
        client.evaluators.get("sdk-exact")
    assert "accounts/compat/evaluators/sdk-exact" not in [e.name for e in client.evaluators.list()]


def test_a_broken_evaluator_fails_its_build(client):
    client.evaluators.create(evaluator=_seed_evaluator("def evaluate(messages, **kwargs):\n    return 1 +\n"), evaluator_id="sdk-broken")
    got = _wait_settled(client, "sdk-broken")
    assert got.state == "BUILD_FAILED"
    assert got.status.code != "OK"
    assert "SyntaxError" in got.status.message, got.status


def test_errors_surface_as_sdk_exceptions(client):
    client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="sdk-dup")
    with pytest.raises(fireworks.ConflictError):
        client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="sdk-dup")
    with pytest.raises(fireworks.BadRequestError) as bad:
        client.evaluators.create(evaluator=_seed_evaluator(), evaluator_id="Not_Valid")
    assert "evaluatorId" in str(bad.value)
    with pytest.raises(fireworks.NotFoundError):
        client.evaluators.delete("sdk-never-created")
    _wait_settled(client, "sdk-dup")  # do not leave a build running when the session ends

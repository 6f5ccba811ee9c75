"""A minimal eval-protocol evaluator: exact match of the last assistant message against the
ground truth. The rollout processor is a no-op, so nothing ever calls a model."""

from eval_protocol.models import EvaluateResult, EvaluationRow, Message
from eval_protocol.pytest import NoOpRolloutProcessor, evaluation_test

ROWS = [
    EvaluationRow(messages=[Message(role="user", content="2+2?"), Message(role="assistant", content="4")], ground_truth="4"),
    EvaluationRow(messages=[Message(role="user", content="2+3?"), Message(role="assistant", content="6")], ground_truth="5"),
]

VERSION = "v1"


@evaluation_test(input_rows=[ROWS], rollout_processor=NoOpRolloutProcessor(), mode="pointwise")
def test_exact_match(row: EvaluationRow) -> EvaluationRow:
    answer = row.messages[-1].content if row.messages else ""
    matched = str(answer).strip() == str(row.ground_truth).strip()
    row.evaluation_result = EvaluateResult(score=1.0 if matched else 0.0, reason=f"exact match ({VERSION}): {matched}")
    return row

"""An eval-protocol evaluator with a rollout processor Tally cannot run (its own subclass)."""

from eval_protocol.models import EvaluateResult, EvaluationRow, Message
from eval_protocol.pytest import NoOpRolloutProcessor, evaluation_test


class MyAgentRolloutProcessor(NoOpRolloutProcessor):
    pass


ROWS = [EvaluationRow(messages=[Message(role="user", content="hi")], ground_truth="x")]


@evaluation_test(input_rows=[ROWS], rollout_processor=MyAgentRolloutProcessor(), mode="pointwise")
def test_custom(row: EvaluationRow) -> EvaluationRow:
    row.evaluation_result = EvaluateResult(score=0.0, reason="never runs on Tally")
    return row

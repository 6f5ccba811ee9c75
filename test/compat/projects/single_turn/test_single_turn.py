"""An eval-protocol evaluator that generates: SingleTurnRolloutProcessor with completion_params.
On Tally the model call is made by the job (its rollout settings override these), and the
function scores the answer the model gave."""

from eval_protocol.models import EvaluateResult, EvaluationRow, Message
from eval_protocol.pytest import SingleTurnRolloutProcessor, evaluation_test

ROWS = [EvaluationRow(messages=[Message(role="user", content="What is 2 + 3?")], ground_truth="5")]


@evaluation_test(
    input_rows=[ROWS],
    completion_params=[{"model": "fireworks_ai/accounts/test/models/tiny", "temperature": 0.25, "max_tokens": 32, "top_k": 4, "num_retries": 2}],
    rollout_processor=SingleTurnRolloutProcessor(),
    num_runs=2,
    max_concurrent_rollouts=3,
    max_concurrent_evaluations=7,
    mode="pointwise",
)
def test_single_turn(row: EvaluationRow) -> EvaluationRow:
    last = row.messages[-1]
    matched = last.role == "assistant" and str(last.content).strip() == str(row.ground_truth).strip()
    row.evaluation_result = EvaluateResult(score=1.0 if matched else 0.0, reason=f"answer {last.content!r}")
    return row

"""Grader semantics: the pure-Python metrics that run in the sandbox (src/services/openai-evals/
graders.py) against reference implementations from PyPI on the same inputs, plus known cases of
string_check, templating and the multi formula."""

import importlib.util
import warnings
from pathlib import Path

import pytest
from nltk.translate.bleu_score import sentence_bleu
from nltk.translate.gleu_score import sentence_gleu
from nltk.translate.meteor_score import meteor_score
from rapidfuzz import fuzz
from rouge_score import rouge_scorer

GRADERS = Path(__file__).resolve().parents[2] / "src" / "services" / "openai-evals" / "graders.py"
spec = importlib.util.spec_from_file_location("openai_graders", GRADERS)
g = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g)

PAIRS = [
    ("the cat sat on the mat", "the cat sat on the mat"),
    ("the cat sat on the mat", "a cat was sitting on the mat"),
    ("It is Blue", "blue"),
    ("Paris is the capital of France.", "The capital of France is Paris"),
    ("the quick brown fox jumps over the lazy dog", "the quick brown dog jumps over the lazy fox"),
    ("", "something"),
    ("one two three four five six", "one two three four five seven"),
    ("Numbers: 3, 14, 15; 92!", "numbers 3 14 15 92"),
    ("the the the the", "the cat"),
    ("a b c d e f g h i j", "a b c d x f g h i j k l"),
]


@pytest.mark.parametrize("hypothesis,reference", PAIRS)
def test_rouge_matches_rouge_score(hypothesis, reference):
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rouge3", "rouge4", "rouge5", "rougeL"], use_stemmer=False)
    expected = scorer.score(reference, hypothesis)
    for n in range(1, 6):
        assert g.rouge_n(hypothesis, reference, n) == pytest.approx(expected[f"rouge{n}"].fmeasure, abs=1e-12)
    assert g.rouge_l(hypothesis, reference) == pytest.approx(expected["rougeL"].fmeasure, abs=1e-12)


@pytest.mark.parametrize("hypothesis,reference", PAIRS)
def test_bleu_and_gleu_match_nltk(hypothesis, reference):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns when an n-gram order has no match
        expected_bleu = sentence_bleu([reference.split()], hypothesis.split()) if hypothesis.split() else 0.0
    # Without smoothing nltk gives a float-underflow value (~1e-78 times the rest) where an order has no match; ours gives 0.
    assert g.bleu(hypothesis, reference) == pytest.approx(expected_bleu, abs=1e-12)
    assert g.gleu(hypothesis, reference) == pytest.approx(sentence_gleu([reference.split()], hypothesis.split()), abs=1e-12)


def test_meteor_over_debian_wordnet_gives_nltks_documented_value():
    # nltk's own docstring example, computed with nltk's downloaded WordNet: the Debian data (read
    # by graders.py's reader, lexnames and all) must give the same.
    hypothesis = "It is a guide to action which ensures that the military always obeys the commands of the party"
    reference = "It is a guide to action that ensures that the military will forever heed Party commands"
    assert round(g.meteor(hypothesis, reference), 4) == 0.6944


class NoSynonyms:
    """A WordNet with no synsets: meteor then matches exact words and stems only."""

    def synsets(self, *args, **kwargs):
        return []


@pytest.mark.parametrize("hypothesis,reference", PAIRS + [("the car is fast", "the auto is fast")])
def test_meteor_is_nltk_meteor_score_on_whitespace_tokens(hypothesis, reference):
    expected = meteor_score([reference.split()], hypothesis.split(), wordnet=g.debian_wordnet())
    assert g.meteor(hypothesis, reference) == pytest.approx(expected, abs=1e-12)


def test_meteor_matches_synonyms_through_wordnet():
    # "car" meets "auto" only as a WordNet synonym (car.n.01).
    with_synonyms = g.meteor("the car is fast", "the auto is fast")
    without = meteor_score(["the auto is fast".split()], "the car is fast".split(), wordnet=NoSynonyms())
    assert with_synonyms == pytest.approx(0.9921875) and without == pytest.approx(0.6388888888888888)


@pytest.mark.parametrize("hypothesis,reference", PAIRS + [("kitten", "sitting"), ("", ""), ("abc", "")])
def test_fuzzy_match_is_rapidfuzz_ratio(hypothesis, reference):
    assert g.indel_similarity(hypothesis, reference) == pytest.approx(fuzz.ratio(hypothesis, reference) / 100, abs=1e-12)


def run(spec, item, sample):
    return g.make_grader(spec)(item=item, sample=sample)


@pytest.mark.parametrize("operation,given,reference,score", [
    ("eq", "Paris", "Paris", 1.0), ("eq", "Paris", "paris", 0.0),
    ("ne", "Paris", "paris", 1.0), ("ne", "a", "a", 0.0),
    ("like", "It is Paris.", "Paris", 1.0), ("like", "It is paris.", "Paris", 0.0),
    ("ilike", "It is PARIS.", "paris", 1.0), ("ilike", "Lyon", "paris", 0.0),
])
def test_string_check(operation, given, reference, score):
    spec = {"type": "string_check", "name": "s", "input": "{{sample.output_text}}", "reference": "{{ item.answer }}", "operation": operation}
    assert run(spec, {"answer": reference}, {"output_text": given})["score"] == score


def test_templates_reach_nested_fields_json_and_output_json():
    spec = {"type": "string_check", "name": "s", "input": "{{sample.output_json.city}}/{{item.meta.tags.1}}/{{item.n}}", "reference": "x", "operation": "eq"}
    result = run(spec, {"meta": {"tags": ["a", "b"]}, "n": 3}, {"output_text": '{"city": "Oslo"}'})
    assert result["is_score_valid"] and result["reason"].startswith('"Oslo/b/3"')


def test_a_missing_template_field_is_an_invalid_score_that_names_it():
    spec = {"type": "string_check", "name": "s", "input": "{{item.missing}}", "reference": "x", "operation": "eq"}
    result = run(spec, {"answer": "a"}, {"output_text": "a"})
    assert result["is_score_valid"] is False and "item has no field 'missing'" in result["reason"]


def test_multi_formula_is_evaluated_without_eval():
    subs = {"a": {"type": "string_check", "name": "a", "input": "{{sample.output_text}}", "reference": "x", "operation": "eq"},
            "b": {"type": "text_similarity", "name": "b", "input": "{{sample.output_text}}", "reference": "x y", "evaluation_metric": "rouge_1"}}
    spec = {"type": "multi", "name": "m", "graders": subs, "calculate_output": "-(a + 2 * b) / 4 + max(a, b) ** 2 + sqrt(4)"}
    # a = 1, b = rouge_1("x", "x y") = 2/3
    assert run(spec, {}, {"output_text": "x"})["score"] == pytest.approx(-(1 + 4 / 3) / 4 + 1 + 2)
    for hostile in ["__import__('os').system('true')", "a.__class__", "[a][0]", "(lambda: 1)()", "open('/etc/passwd')"]:
        bad = g.make_grader({**spec, "calculate_output": hostile})(item={}, sample={"output_text": "x"})
        assert bad["is_score_valid"] is False and "not allowed" in bad["reason"], hostile


def test_python_grader_gets_sample_and_item_and_must_return_a_number():
    spec = {"type": "python", "name": "p", "source": "def grade(sample, item):\n    return len(sample['output_text']) / item['n']\n"}
    assert run(spec, {"n": 4}, {"output_text": "ab"})["score"] == 0.5
    bad = run({**spec, "source": "def grade(sample, item):\n    return 'yes'\n"}, {}, {})
    assert bad["is_score_valid"] is False and "not a number" in bad["reason"]

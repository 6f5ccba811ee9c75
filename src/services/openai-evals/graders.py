# The OpenAI Evals graders, run inside Tally's sandbox as a criteria evaluator (one criterion per
# grader). Pure Python, no packages but nltk for meteor: docs/openai-evals.md says what each metric
# computes and which reference implementation (PyPI) the tests compare it with. The server appends
# the eval's grader specs and one `grade_<i>` per grader below this file.
import ast
import json
import math
import re
from collections import Counter

TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


class GraderError(Exception):
    pass


def sample_of(raw, rollout=None, judged=False):
    """The `sample` namespace: the item's given sample, or what the rollout step sampled (a
    completions run); output_json is output_text parsed, when it is JSON."""
    sample = dict(raw) if isinstance(raw, dict) else {}
    message = rollout.get("message") if isinstance(rollout, dict) and not judged else None
    if isinstance(message, dict):
        sample["output_text"] = message.get("content") or ""
        sample["output_tools"] = message.get("tool_calls") or []
        sample["finish_reason"] = rollout.get("finish_reason")
    text = sample.get("output_text")
    if "output_json" not in sample:
        try:
            sample["output_json"] = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            sample["output_json"] = None
    return sample


def lookup(path, scope):
    parts = path.split(".")
    if parts[0] not in scope:
        raise GraderError("template {{%s}}: names neither item nor sample" % path)
    value = scope[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise GraderError("template {{%s}}: %s has no field %r" % (path, ".".join(parts[:i]), part))
    return value


def render(template, scope):
    def one(match):
        value = lookup(match.group(1), scope)
        return value if isinstance(value, str) else json.dumps(value)
    return TEMPLATE.sub(one, template)


# ------------------------------------------------------------------ string_check


def string_check(spec, scope):
    given, reference = render(spec["input"], scope), render(spec["reference"], scope)
    op = spec["operation"]
    if op == "eq":
        ok = given == reference
    elif op == "ne":
        ok = given != reference
    elif op == "like":
        ok = reference in given
    else:
        ok = reference.lower() in given.lower()
    return (1.0 if ok else 0.0), "%s %s %s" % (json.dumps(given)[:200], op, json.dumps(reference)[:200])


# ------------------------------------------------------------------ text_similarity


def indel_similarity(a, b):
    """1 - Indel distance / (len a + len b): rapidfuzz's fuzz.ratio / 100."""
    if not a and not b:
        return 1.0
    previous = [0] * (len(b) + 1)
    for ca in a:  # longest common subsequence, one row at a time
        current = [0]
        for j, cb in enumerate(b):
            current.append(previous[j] + 1 if ca == cb else max(previous[j + 1], current[j]))
        previous = current
    return 2.0 * previous[-1] / (len(a) + len(b))


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(hypothesis, reference, max_n=4):
    """Sentence BLEU on whitespace tokens, uniform weights up to 4-grams, no smoothing
    (nltk.translate.bleu_score.sentence_bleu's defaults)."""
    hyp, ref = hypothesis.split(), reference.split()
    if not hyp:
        return 0.0
    logs = []
    for n in range(1, max_n + 1):
        counts, ref_counts = ngrams(hyp, n), ngrams(ref, n)
        matched = sum(min(c, ref_counts[g]) for g, c in counts.items())
        total = max(1, sum(counts.values()))
        if matched == 0:
            return 0.0
        logs.append(math.log(matched / total))
    penalty = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return penalty * math.exp(sum(logs) / max_n)


def gleu(hypothesis, reference, min_n=1, max_n=4):
    """Google-BLEU: min(precision, recall) over all 1..4-grams (nltk's sentence_gleu)."""
    hyp, ref = hypothesis.split(), reference.split()
    hyp_counts, ref_counts = Counter(), Counter()
    for n in range(min_n, max_n + 1):
        hyp_counts.update(ngrams(hyp, n))
        ref_counts.update(ngrams(ref, n))
    matched = sum((hyp_counts & ref_counts).values())
    denominator = max(sum(hyp_counts.values()), sum(ref_counts.values()))
    return matched / denominator if denominator else 0.0


def rouge_tokens(text):
    """rouge-score's default tokenizer: lower case, non-alphanumerics to spaces, no stemming."""
    return [t for t in re.sub(r"[^a-z0-9]+", " ", text.lower()).split() if t]


def f_measure(overlap, predicted, expected):
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / expected if expected else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def rouge_n(prediction, target, n):
    pred, ref = ngrams(rouge_tokens(prediction), n), ngrams(rouge_tokens(target), n)
    overlap = sum((pred & ref).values())
    return f_measure(overlap, sum(pred.values()), sum(ref.values()))


def rouge_l(prediction, target):
    pred, ref = rouge_tokens(prediction), rouge_tokens(target)
    if not pred or not ref:
        return 0.0
    previous = [0] * (len(ref) + 1)
    for p in pred:
        current = [0]
        for j, r in enumerate(ref):
            current.append(previous[j] + 1 if p == r else max(previous[j + 1], current[j]))
        previous = current
    return f_measure(previous[-1], len(pred), len(ref))


# ------------------------------------------------------------------ meteor
# nltk's meteor_score (exact, Porter-stem and WordNet-synonym matches) over WordNet 3.0 as Debian's
# wordnet-base installs it under /usr/share/wordnet (the sandbox sees /usr read-only): the same
# data nltk's own download holds, minus the `lexnames` file nltk reads at start (the 45
# lexicographer file names of WordNet 3.0, fixed, given here). Only an eval that uses meteor has
# nltk among its evaluator's requirements; the first meteor score of a process loads WordNet (~1 s).

WORDNET_DIR = "/usr/share/wordnet"
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_LEX_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
_meteor = []


def debian_wordnet():
    import io
    import os
    import warnings
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    from nltk.data import SeekableUnicodeStreamReader

    lexnames = "".join("%02d\t%s\t%d\n" % (i, name, _LEX_CATEGORY[name.split(".")[0]]) for i, name in enumerate(LEXNAMES))
    names = set(os.listdir(WORDNET_DIR))

    class DebianWordNet(WordNetCorpusReader):
        # Opened here, not through nltk's path checks: inside the sandbox the host's root-owned,
        # read-only files belong to "another account", which nltk refuses; these are WordNet's
        # plain-text data files, from a fixed system directory only root can write.
        def open(self, fileid):
            if fileid == "lexnames":
                return io.StringIO(lexnames)
            if fileid not in names:
                raise FileNotFoundError("%s/%s" % (WORDNET_DIR, fileid))
            return SeekableUnicodeStreamReader(open(os.path.join(WORDNET_DIR, fileid), "rb"), "utf8")

        def map_wn(self, version="wordnet"):
            return None  # this is WordNet 3.0 itself: nothing to map

    if WORDNET_DIR not in nltk.data.path:
        nltk.data.path.append(WORDNET_DIR)  # the reader's root must be one of nltk's data paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": not used
        return DebianWordNet(WORDNET_DIR, None)


def meteor(hypothesis, reference):
    """nltk.translate.meteor_score.meteor_score over whitespace tokens (lower-cased by nltk)."""
    if not _meteor:
        try:
            from nltk.translate.meteor_score import meteor_score
        except ImportError:
            raise GraderError("meteor needs nltk in the graders' environment, and it is missing")
        wordnet = debian_wordnet()
        _meteor.append(lambda hyp, ref: meteor_score([ref.split()], hyp.split(), wordnet=wordnet))
    return _meteor[0](hypothesis, reference)


def cosine(scope, key):
    """The cosine similarity of this grader's input and reference: the server filled both texts
    and the rollout step embedded them (the sandbox has no network), keeping each pair's cosine."""
    cosines, pair = scope.get("cosine"), (scope.get("cosine_pairs") or {}).get(key)
    if not isinstance(cosines, list) or not isinstance(pair, int) or not 0 <= pair < len(cosines):
        raise GraderError("no embeddings for grader %r (the embeddings call gave none)" % key)
    return float(cosines[pair])


def text_similarity(spec, scope, key):
    metric = spec["evaluation_metric"]
    if metric == "cosine":
        score = cosine(scope, key)
        return score, "cosine = %.6g" % score
    given, reference = render(spec["input"], scope), render(spec["reference"], scope)
    if metric == "fuzzy_match":
        score = indel_similarity(given, reference)
    elif metric == "bleu":
        score = bleu(given, reference)
    elif metric == "gleu":
        score = gleu(given, reference)
    elif metric == "meteor":
        score = meteor(given, reference)
    elif metric == "rouge_l":
        score = rouge_l(given, reference)
    elif metric.startswith("rouge_"):
        score = rouge_n(given, reference, int(metric[len("rouge_"):]))
    else:
        raise GraderError("evaluation_metric %r is not available on this server" % metric)
    return score, "%s = %.6g" % (metric, score)


# ------------------------------------------------------------------ python


def python_grader(spec):
    namespace = {"__name__": "grader_%s" % re.sub(r"\W", "_", spec["name"])}
    exec(compile(spec["source"], "<grader %s>" % spec["name"], "exec"), namespace)
    grade = namespace.get("grade")
    if not callable(grade):
        raise GraderError("python grader %r: its source defines no grade(sample, item) function" % spec["name"])

    def run(scope):
        value = grade(scope["sample"], scope["item"])
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GraderError("grade() returned %s, not a number" % type(value).__name__)
        return float(value), "grade() = %.6g" % value
    return run


# ------------------------------------------------------------------ score_model, label_model


def model_answer(scope):
    """What the grader's model answered: the rollout step made the call (the sandbox has no
    network), with the grader's prompt filled in by the server; a failed call never gets here."""
    answer = scope.get("grader_answer")
    if not isinstance(answer, str):
        raise GraderError("no answer from the grader's model")
    return answer.strip()


def json_field(text, key):
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value.get(key) if isinstance(value, dict) else None


def label_model(spec, scope):
    answer = model_answer(scope)
    raw = json_field(answer, "label")
    label = (raw if isinstance(raw, str) else answer).strip().strip("\"'`.").strip()
    by_case = {l.lower(): l for l in spec["labels"]}
    if label.lower() not in by_case:
        raise GraderError("the model answered %r, which is not one of the labels %s" % (answer[:200], spec["labels"]))
    label = by_case[label.lower()]
    return (1.0 if label in spec["passing_labels"] else 0.0), "label: %s" % label


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def score_model(spec, scope):
    answer = model_answer(scope)
    raw = json_field(answer, "score")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        score = float(raw)
    else:
        match = NUMBER.search(answer)
        if not match:
            raise GraderError("the model answered %r, which holds no score" % answer[:200])
        score = float(match.group(0))
    low, high = spec.get("range") or [0, 1]
    if not low <= score <= high:
        raise GraderError("the model's score %g is outside the range [%g, %g]" % (score, low, high))
    return score, "score: %g" % score


# ------------------------------------------------------------------ multi

FUNCTIONS = {"min": min, "max": max, "abs": abs, "floor": math.floor, "ceil": math.ceil,
             "exp": math.exp, "sqrt": math.sqrt, "log": math.log}
OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


def eval_formula(node, values):
    """The grammar of domain/graders/formula.ts over Python's AST: numbers, names, + - * / **,
    unary +/-, and calls of FUNCTIONS. Any other node is refused, so nothing else can run."""
    if isinstance(node, ast.Expression):
        return eval_formula(node.body, values)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in values:
        return values[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](eval_formula(node.left, values), eval_formula(node.right, values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = eval_formula(node.operand, values)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords:
        return float(FUNCTIONS[node.func.id](*[eval_formula(a, values) for a in node.args]))
    raise GraderError("calculate_output: %s is not allowed" % type(node).__name__)


def multi_grader(spec):
    subs = {name: scorer_of(sub, "%s.%s" % (spec["name"], name)) for name, sub in spec["graders"].items()}
    tree = ast.parse(spec["calculate_output"], mode="eval")

    def run(scope):
        values = {name: fn(scope)[0] for name, fn in subs.items()}
        score = eval_formula(tree, values)
        return score, ", ".join("%s=%.6g" % kv for kv in values.items())
    return run


# ------------------------------------------------------------------ entry points


def scorer_of(spec, key):
    """`key` names the grader in the eval: its name, or multi.key inside a multi."""
    kind = spec["type"]
    if kind == "string_check":
        return lambda scope: string_check(spec, scope)
    if kind == "text_similarity":
        return lambda scope: text_similarity(spec, scope, key)
    if kind == "python":
        return python_grader(spec)
    if kind == "multi":
        return multi_grader(spec)
    if kind == "label_model":
        return lambda scope: label_model(spec, scope)
    if kind == "score_model":
        return lambda scope: score_model(spec, scope)
    raise GraderError("grader type %r is not available on this server" % kind)


def make_grader(spec):
    """A legacy-contract criterion function: the row is {item, sample}; a grader that raises gives
    an invalid score (the item counts as errored) with the error as the reason."""
    scorer = scorer_of(spec, spec["name"])

    def evaluate(messages=None, ground_truth=None, tools=None, **row):
        rollout = row.get("rollout")
        # The rollout step called a grader's model or the embeddings endpoint: not a sample.
        called = row.get("tally_rollout")
        scope = {"item": row.get("item") or {}, "sample": sample_of(row.get("sample"), rollout, called in ("grader", "embeddings"))}
        if called == "grader" and isinstance(rollout, dict) and isinstance(rollout.get("message"), dict):
            scope["grader_answer"] = rollout["message"].get("content")
        if called == "embeddings" and isinstance(rollout, dict):
            scope["cosine"], scope["cosine_pairs"] = rollout.get("cosine"), row.get("tally_cosine")
        try:
            score, reason = scorer(scope)
        except Exception as error:  # the user's grade() or a template: this item's result, not the job's
            return {"score": 0.0, "is_score_valid": False, "reason": "%s: %s" % (type(error).__name__, error)}
        if not math.isfinite(score):
            return {"score": 0.0, "is_score_valid": False, "reason": "score is %r" % score}
        return {"score": score, "is_score_valid": True, "reason": reason}
    return evaluate

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Criterion } from '../../domain/evaluators.js';
import { similarityMetricsOf, type Grader } from '../../domain/graders/criteria.js';

const GRADERS_PY = readFileSync(fileURLToPath(new URL('./graders.py', import.meta.url)), 'utf8');
const ENTRY_FILE = 'openai_graders.py';

/**
 * The criteria of the evaluator that runs an eval's graders: one criterion per grader (so each
 * grader's score is a metric under its name), all in one generated file: graders.py, then the
 * specs as a JSON string literal (valid Python too) and a `grade_<i>` for each.
 */
export function graderCriteria(graders: Grader[]): Criterion[] {
  const specs = JSON.stringify(JSON.stringify(graders));
  const entries = graders.map((_, i) => `grade_${i} = make_grader(_SPECS[${i}])`).join('\n');
  const source = `${GRADERS_PY}\n\n_SPECS = json.loads(${specs})\n${entries}\n`;
  return graders.map((grader, i) => ({
    type: 'CODE_SNIPPETS',
    name: grader.name,
    codeSnippets: { language: 'python', entryFile: ENTRY_FILE, entryFunc: `grade_${i}`, ...(i === 0 ? { fileContents: { [ENTRY_FILE]: source } } : {}) },
  }));
}

/** The packages the graders need beyond the standard library: nltk for meteor (graders.py), else none. */
export function graderRequirements(graders: readonly Grader[]): string {
  return similarityMetricsOf(graders).has('meteor') ? `${METEOR_REQUIREMENT}\n` : '';
}

/** The nltk whose meteor_score graders.py calls (the version the compatibility tests compare with). */
const METEOR_REQUIREMENT = 'nltk==3.10.4';

/** Evals with the same graders share one evaluator, built once: its id is the hash of what it runs. */
export function graderEvaluatorId(criteria: Criterion[], requirements: string): string {
  return `oai-graders-${createHash('sha256').update(JSON.stringify(criteria)).update(requirements ? `\n${requirements}` : '').digest('hex').slice(0, 32)}`;
}

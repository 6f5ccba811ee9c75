import { describe, expect, it } from 'vitest';
import { checkFormula } from './formula.js';

const names = new Set(['a', 'b_2']);
const problem = (formula: string): string | undefined => {
  try {
    checkFormula(formula, names, 'f');
    return undefined;
  } catch (error: unknown) {
    return (error as Error).message;
  }
};

describe('checkFormula', () => {
  it('accepts arithmetic over grader names, numbers and the allowed functions', () => {
    for (const ok of ['a', '0.5 * a + 0.5 * b_2', '-(a + 2 * b_2) / 4 + max(a, b_2) ** 2', 'sqrt(abs(a - b_2)) + 1e-3', 'min(a, b_2, .5)']) expect(problem(ok)).toBeUndefined();
  });
  it('refuses unknown names and functions, attribute access, strings and broken syntax, naming the field', () => {
    expect(problem('a + c')).toMatch(/^f: "c" is not one of the graders \(a, b_2\)/);
    expect(problem('__import__(a)')).toMatch(/^f: unknown function "__import__"/);
    expect(problem('a.real')).toMatch(/^f: unexpected character "\."/);
    expect(problem("'x'")).toMatch(/unexpected character/);
    expect(problem('(a + b_2')).toMatch(/expected "\)"/);
    expect(problem('a b_2')).toMatch(/unexpected "b_2"/);
    expect(problem('')).toMatch(/is empty/);
  });
});

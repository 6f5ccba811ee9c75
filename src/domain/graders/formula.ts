/**
 * The `multi` grader's `calculate_output`: arithmetic over sub-grader scores, checked when the
 * eval is created. Grammar (the sandbox evaluates the same grammar, graders.py `eval_formula`):
 *   expr   := term { ("+" | "-") term }
 *   term   := unary { ("*" | "/") unary }
 *   unary  := [ "-" | "+" ] power
 *   power  := atom [ "**" unary ]
 *   atom   := number | name | func "(" expr { "," expr } ")" | "(" expr ")"
 * Names are sub-grader names; functions are min, max, abs, floor, ceil, exp, sqrt, log. Nothing
 * else (no attribute access, no calls of anything but those): the formula is data, never code.
 */
import { invalidArgument } from '../errors.js';

export const FORMULA_FUNCTIONS = ['min', 'max', 'abs', 'floor', 'ceil', 'exp', 'sqrt', 'log'] as const;

const TOKEN = /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/(),]))/y;

type Token = { kind: 'number' | 'name' | 'op'; text: string };

function tokenize(formula: string, field: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < formula.length) {
    if (/^\s*$/.test(formula.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(formula);
    if (!match) throw invalidArgument(`${field}: unexpected character ${JSON.stringify(formula.slice(start).trimStart()[0])} at offset ${start}`);
    if (match[1] !== undefined) tokens.push({ kind: 'number', text: match[1] });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', text: match[2] });
    else tokens.push({ kind: 'op', text: match[3]! });
  }
  return tokens;
}

/** Throws INVALID_ARGUMENT naming `field` when the formula is not of the grammar or names an unknown grader. */
export function checkFormula(formula: string, names: ReadonlySet<string>, field: string): void {
  const tokens = tokenize(formula, field);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const fail = (what: string): never => {
    throw invalidArgument(`${field}: ${what} (at token ${at + 1} of "${formula}")`);
  };
  const expectOp = (text: string): void => {
    if (peek()?.kind !== 'op' || peek()?.text !== text) fail(`expected "${text}"`);
    at++;
  };
  const atom = (): void => {
    const token = peek();
    if (!token) return fail('unexpected end of formula');
    at++;
    if (token.kind === 'number') return;
    if (token.kind === 'op') {
      if (token.text !== '(') fail(`unexpected "${token.text}"`);
      expr();
      return expectOp(')');
    }
    if (peek()?.text === '(') {
      if (!(FORMULA_FUNCTIONS as readonly string[]).includes(token.text)) fail(`unknown function "${token.text}" (allowed: ${FORMULA_FUNCTIONS.join(', ')})`);
      at++;
      expr();
      while (peek()?.text === ',') (at++, expr());
      return expectOp(')');
    }
    if (!names.has(token.text)) fail(`"${token.text}" is not one of the graders (${[...names].join(', ')})`);
  };
  const power = (): void => {
    atom();
    if (peek()?.text === '**') (at++, unary());
  };
  const unary = (): void => {
    if (peek()?.text === '-' || peek()?.text === '+') at++;
    power();
  };
  const term = (): void => {
    unary();
    while (peek()?.text === '*' || peek()?.text === '/') (at++, unary());
  };
  const expr = (): void => {
    term();
    while (peek()?.text === '+' || peek()?.text === '-') (at++, term());
  };
  if (tokens.length === 0) fail('is empty');
  expr();
  if (at < tokens.length) fail(`unexpected "${tokens[at]!.text}"`);
}

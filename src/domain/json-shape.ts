/**
 * Limits on the shape of a stored JSON row, so every row Tally accepts can be read by its own
 * evaluators and served back by its own API.
 *
 * - Nesting depth: Python's `json` decoder recurses once per level and gives up near its recursion
 *   limit (1,000 by default, less the harness's own frames); V8's `JSON.stringify` recurses too and
 *   overflows the stack some thousands of levels down. 256 levels leaves a wide margin under both,
 *   and no real dataset row comes near it.
 * - Integer literals: Python refuses to convert integer strings of more than 4,300 digits
 *   (`sys.int_max_str_digits`), so a longer literal could never reach an evaluator. Integers past
 *   2^53 but within 4,300 digits are accepted and stored as their original text: Python evaluators
 *   see them exactly; JavaScript evaluators and the web UI see the nearest double.
 *
 * The check is a byte scan of the line (strings skipped, escapes honoured), run after the line
 * parsed as JSON, so it only ever sees well-formed input.
 */

export const MAX_JSON_DEPTH = 256;
export const MAX_INTEGER_DIGITS = 4300;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** The first problem of a well-formed JSON text `buf[s, e)`, or undefined when it is within limits. */
export function jsonShapeProblem(buf: Uint8Array, s: number, e: number): string | undefined {
  // Too short to hold 257 brackets or a 4,301-digit integer: most rows end here.
  if (e - s <= MAX_JSON_DEPTH) return undefined;
  let depth = 0;
  let i = s;
  while (i < e) {
    const b = buf[i]!;
    if (b === QUOTE) {
      i = skipString(buf, i + 1, e);
      continue;
    }
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return `nested deeper than the limit of ${MAX_JSON_DEPTH} levels`;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    } else if (b === MINUS || (b >= ZERO && b <= NINE)) {
      const end = numberEnd(buf, i, e);
      const problem = integerProblem(buf, i, end);
      if (problem) return problem;
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

/**
 * Index just past the closing quote of a string whose body starts at `i`. The next quote is found
 * natively (indexOf); it closes the string unless an odd run of backslashes escapes it.
 */
function skipString(buf: Uint8Array, i: number, e: number): number {
  for (;;) {
    const quote = buf.indexOf(QUOTE, i);
    if (quote === -1 || quote >= e) return e;
    let backslashes = 0;
    while (buf[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

function numberEnd(buf: Uint8Array, i: number, e: number): number {
  let j = i + 1;
  while (j < e && isNumberByte(buf[j]!)) j++;
  return j;
}

function isNumberByte(b: number): boolean {
  return (b >= ZERO && b <= NINE) || b === DOT || b === LOWER_E || b === UPPER_E || b === MINUS || b === 0x2b;
}

/** Fractions and exponents decode as floats (no digit limit); only integers are limited. */
function integerProblem(buf: Uint8Array, s: number, e: number): string | undefined {
  const digits = buf[s] === MINUS ? e - s - 1 : e - s;
  if (digits <= MAX_INTEGER_DIGITS) return undefined;
  for (let i = s; i < e; i++) {
    const b = buf[i];
    if (b === DOT || b === LOWER_E || b === UPPER_E) return undefined;
  }
  return `an integer of ${digits} digits is over the limit of ${MAX_INTEGER_DIGITS} digits`;
}

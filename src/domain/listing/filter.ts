/**
 * The AIP-160 filter parser. The subset of the grammar that Tally supports:
 *   expression := factor { "AND" factor }
 *   factor     := term { "OR" term }            (OR binds tighter than AND, as AIP-160 says)
 *   term       := [ "NOT" | "-" ] simple
 *   simple     := "(" expression ")" | field op value
 *   op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"   (":" = case-sensitive "contains")
 *   value      := "quoted \"string\"" | bare-word | number | true | false
 * Not supported: implicit AND by juxtaposition, bare global restrictions, functions, "*" wildcards.
 * Keywords are upper case (AIP-160); `\x` inside a quoted string stands for `x`.
 */
import { invalidArgument } from '../errors.js';
import { truncate } from '../names.js';
import { allowedFields, MAX_FILTER_LENGTH, type CompareOp, type FieldType, type FilterExpr, type ListFields } from './fields.js';
import { convertValue, type RawValue } from './filter-values.js';

export const MAX_FILTER_COMPARISONS = 64;
/** Parentheses and NOT nest by recursion: a bound keeps hostile input far from the stack limit. */
export const MAX_FILTER_DEPTH = 32;

const ORDERING_OPS: readonly CompareOp[] = ['=', '!=', '<', '<=', '>', '>='];
const OPS_BY_TYPE: Record<FieldType, readonly CompareOp[]> = {
  string: [...ORDERING_OPS, ':'],
  enum: ['=', '!='],
  timestamp: ORDERING_OPS,
  number: ORDERING_OPS,
  boolean: ['=', '!='],
};
/** Longest first, so "<=" is not read as "<" followed by "=". */
const OPERATORS: readonly CompareOp[] = ['<=', '>=', '!=', '=', '<', '>', ':'];
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_.]*/y;
/** Characters that end a bare word; ":" and "-" do not, so `createTime > 2026-01-01T00:00:00Z` works. */
const BARE_WORD = /[^\s()"]+/y;

class FilterParser {
  private pos = 0;
  private comparisons = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly fields: ListFields,
  ) {}

  parse(): FilterExpr {
    const expr = this.expression();
    this.skipWs();
    if (!this.atEnd()) throw this.fail(`unexpected token ${this.describeHere()} at column ${this.col()}`);
    return expr;
  }

  private expression(): FilterExpr {
    const items = [this.factor()];
    while (this.acceptKeyword('AND')) items.push(this.factor());
    return combine('and', items);
  }

  private factor(): FilterExpr {
    const items = [this.term()];
    while (this.acceptKeyword('OR')) items.push(this.term());
    return combine('or', items);
  }

  private term(): FilterExpr {
    this.skipWs();
    const negated = this.acceptKeyword('NOT') || this.acceptChar('-');
    if (!negated) return this.simple();
    this.enter();
    const item = this.term();
    this.depth--;
    return { kind: 'not', item };
  }

  private simple(): FilterExpr {
    this.skipWs();
    const open = this.col();
    if (!this.acceptChar('(')) return this.comparison();
    this.skipWs();
    if (this.peek() === ')') throw this.fail(`empty expression in parentheses at column ${open}`);
    this.enter();
    const inner = this.expression();
    this.depth--;
    this.skipWs();
    if (this.acceptChar(')')) return inner;
    if (this.atEnd()) throw this.fail(`missing ")" to close the "(" at column ${open}`);
    throw this.fail(`unexpected token ${this.describeHere()} at column ${this.col()}; expected AND, OR or ")"`);
  }

  private comparison(): FilterExpr {
    const fieldColumn = this.col();
    const field = this.readIdentifier();
    if (field === undefined || isKeyword(field)) {
      if (this.atEnd()) throw this.fail(`expected a comparison at column ${fieldColumn}, found end of input`);
      throw this.fail(`expected a field name at column ${fieldColumn}, found ${this.describeAt(fieldColumn - 1)}`);
    }
    const spec = this.fields[field];
    if (spec === undefined || !Object.hasOwn(this.fields, field)) {
      throw this.fail(
        `unknown field "${truncate(field, 40)}" at column ${fieldColumn}; allowed fields: ${allowedFields(this.fields)}`,
      );
    }
    const op = this.operator(field);
    const allowed = OPS_BY_TYPE[spec.type];
    if (!allowed.includes(op)) {
      throw this.fail(
        `operator "${op}" is not allowed for ${spec.type} field "${field}" (at column ${fieldColumn}); ` +
          `allowed operators: ${allowed.join(' ')}`,
      );
    }
    if (++this.comparisons > MAX_FILTER_COMPARISONS) {
      throw this.fail(`too many comparisons: at most ${MAX_FILTER_COMPARISONS} are allowed`);
    }
    const value = convertValue(field, spec, this.value(field));
    return { kind: 'compare', field, column: spec.column, op, value };
  }

  private operator(field: string): CompareOp {
    this.skipWs();
    const op = OPERATORS.find((candidate) => this.text.startsWith(candidate, this.pos));
    if (op === undefined) {
      throw this.fail(
        `expected an operator (= != < <= > >= :) after "${field}" at column ${this.col()}, found ${this.describeHere()}`,
      );
    }
    this.pos += op.length;
    return op;
  }

  private value(field: string): RawValue {
    this.skipWs();
    const column = this.col();
    if (this.peek() === '"') return { text: this.quotedString(), column };
    BARE_WORD.lastIndex = this.pos;
    const match = BARE_WORD.exec(this.text);
    if (match === null) {
      throw this.fail(`expected a value for "${field}" at column ${column}, found ${this.describeHere()}`);
    }
    this.pos += match[0].length;
    return { text: match[0], column };
  }

  private quotedString(): string {
    const start = this.col();
    let out = '';
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const ch = this.text[i]!;
      if (ch === '"') {
        this.pos = i + 1;
        return out;
      }
      if (ch === '\\') i++;
      if (i < this.text.length) out += this.text[i]!;
    }
    throw this.fail(`unterminated string starting at column ${start}`);
  }

  private readIdentifier(): string | undefined {
    IDENTIFIER.lastIndex = this.pos;
    const match = IDENTIFIER.exec(this.text);
    if (match === null) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  /** Consumes `word` only when it is a whole identifier (so "ORDER" is not "OR"). */
  private acceptKeyword(word: string): boolean {
    this.skipWs();
    IDENTIFIER.lastIndex = this.pos;
    const match = IDENTIFIER.exec(this.text);
    if (match === null || match[0] !== word) return false;
    this.pos += word.length;
    return true;
  }

  private acceptChar(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  private enter(): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      throw this.fail(`expression nested too deeply at column ${this.col()}: at most ${MAX_FILTER_DEPTH} levels`);
    }
  }

  private skipWs(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** 1-based column of the current position. */
  private col(): number {
    return this.pos + 1;
  }

  private describeHere(): string {
    return this.describeAt(this.pos);
  }

  private describeAt(index: number): string {
    if (index >= this.text.length) return 'end of input';
    BARE_WORD.lastIndex = index;
    const word = /[()"=!<>:]/.test(this.text[index]!) ? null : BARE_WORD.exec(this.text);
    return `"${truncate(word?.[0] ?? this.text[index]!, 20)}"`;
  }

  private fail(message: string): Error {
    return invalidArgument(`filter: ${message}`);
  }
}

function isKeyword(word: string): boolean {
  return word === 'AND' || word === 'OR' || word === 'NOT';
}

/** One item stays itself; nested groups of the same kind are flattened ((a AND b) AND c). */
function combine(kind: 'and' | 'or', items: FilterExpr[]): FilterExpr {
  if (items.length === 1) return items[0]!;
  return { kind, items: items.flatMap((item) => (item.kind === kind ? item.items : [item])) };
}

/** Parses an AIP-160 filter; blank text means "no filter" (undefined). Throws INVALID_ARGUMENT. */
export function parseFilter(text: string, fields: ListFields): FilterExpr | undefined {
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidArgument(`filter: the expression is longer than ${MAX_FILTER_LENGTH} characters`);
  }
  if (text.trim() === '') return undefined;
  return new FilterParser(text, fields).parse();
}

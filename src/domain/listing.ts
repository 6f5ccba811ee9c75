/**
 * List queries (AIP-132/158/160/157), the pure half: the filter and orderBy parsers, page tokens,
 * page size and read masks. The store compiles what is parsed here to SQL (store/listing.ts).
 *
 * Filter subset of AIP-160 that Tally supports:
 *   expression := factor { "AND" factor }
 *   factor     := term { "OR" term }            (OR binds tighter than AND, as AIP-160 says)
 *   term       := [ "NOT" | "-" ] simple
 *   simple     := "(" expression ")" | field op value
 *   op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"   (":" = case-sensitive "contains")
 *   value      := "quoted \"string\"" | bare-word | number | true | false
 * Not supported: implicit AND by juxtaposition, bare global restrictions, functions, "*" wildcards.
 * Keywords are upper case (AIP-160); `\x` inside a quoted string stands for `x`.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from './errors.js';
import { truncate } from './names.js';

export type FieldType = 'string' | 'enum' | 'timestamp' | 'number' | 'boolean';

export interface ListField {
  /** The SQL column (a plain column name of the listed table). */
  column: string;
  type: FieldType;
  /** The allowed values of an enum field. */
  values?: readonly string[];
}

/** Keyed by the wire (lowerCamelCase) field name. */
export type ListFields = Record<string, ListField>;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';

export type FilterExpr =
  | { kind: 'and' | 'or'; items: FilterExpr[] }
  | { kind: 'not'; item: FilterExpr }
  | { kind: 'compare'; field: string; column: string; op: CompareOp; value: string | number | boolean };

export interface OrderTerm {
  field: string;
  column: string;
  desc: boolean;
}

export const MAX_FILTER_LENGTH = 4096;
export const MAX_FILTER_COMPARISONS = 64;
/** Parentheses and NOT nest by recursion: a bound keeps hostile input far from the stack limit. */
export const MAX_FILTER_DEPTH = 32;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

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
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** RFC 3339 (seconds optional); a zone is required unless only the date is given (then UTC). */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):(\d{2})))?$/;
/** Characters that end a bare word; ":" and "-" do not, so `createTime > 2026-01-01T00:00:00Z` works. */
const BARE_WORD = /[^\s()"]+/y;

interface RawValue {
  text: string;
  column: number;
}

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

function allowedFields(fields: ListFields): string {
  return Object.keys(fields).join(', ');
}

function convertValue(field: string, spec: ListField, raw: RawValue): string | number | boolean {
  const at = `for "${field}" at column ${raw.column}`;
  const shown = `"${truncate(raw.text, 40)}"`;
  switch (spec.type) {
    case 'string':
      return raw.text;
    case 'enum':
      if (spec.values === undefined || spec.values.includes(raw.text)) return raw.text;
      throw invalidArgument(`filter: ${shown} is not an allowed value ${at}; allowed values: ${spec.values.join(', ')}`);
    case 'timestamp':
      return parseTimestamp(raw.text, `filter: ${shown} is not a valid timestamp ${at}`);
    case 'number': {
      const n = Number(raw.text);
      if (NUMBER.test(raw.text) && Number.isFinite(n)) return n;
      throw invalidArgument(`filter: ${shown} is not a number ${at}`);
    }
    case 'boolean':
      if (raw.text === 'true' || raw.text === 'false') return raw.text === 'true';
      throw invalidArgument(`filter: ${shown} is not a boolean ${at}; use true or false`);
  }
}

/** Timestamps are stored as ISO-8601 UTC text with milliseconds, so they compare as strings. */
function parseTimestamp(text: string, message: string): string {
  const date = isValidTimestampText(text) ? new Date(text) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw invalidArgument(`${message}; use RFC 3339, e.g. "2026-01-02T03:04:05Z"`);
  }
  return date.toISOString();
}

/** `Date` rolls impossible dates over (Feb 30 -> Mar 2): check the ranges ourselves. */
function isValidTimestampText(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (m === null) return false;
  const [year, month, day, hour = 0, minute = 0, second = 0, zoneHour = 0, zoneMinute = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1] ?? 0;
  return (
    day! >= 1 && day! <= daysInMonth &&
    hour < 24 && minute < 60 && second < 60 && zoneHour < 24 && zoneMinute < 60
  );
}

/** Parses an AIP-160 filter; blank text means "no filter" (undefined). Throws INVALID_ARGUMENT. */
export function parseFilter(text: string, fields: ListFields): FilterExpr | undefined {
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidArgument(`filter: the expression is longer than ${MAX_FILTER_LENGTH} characters`);
  }
  if (text.trim() === '') return undefined;
  return new FilterParser(text, fields).parse();
}

/**
 * `name` (the SDKs' documented default order) sorts as the id does: within one account the
 * resource name is the id behind a fixed prefix, so both orders are the same.
 */
function orderField(field: string, fields: ListFields): ListField | undefined {
  if (Object.hasOwn(fields, field)) return fields[field];
  if (field === 'name') return Object.values(fields).find((spec) => spec.column === 'id');
  return undefined;
}

/** Parses `"field [asc|desc], field2"`; blank means the default order (empty list). */
export function parseOrderBy(text: string | undefined, fields: ListFields): OrderTerm[] {
  if (text === undefined || text.trim() === '') return [];
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidArgument(`orderBy: longer than ${MAX_FILTER_LENGTH} characters`);
  }
  const terms: OrderTerm[] = [];
  text.split(',').forEach((part, index) => {
    const term = parseOrderTerm(part.trim(), index + 1, fields);
    if (terms.some((t) => t.field === term.field)) {
      throw invalidArgument(`orderBy: field "${term.field}" appears more than once`);
    }
    terms.push(term);
  });
  return terms;
}

function parseOrderTerm(part: string, position: number, fields: ListFields): OrderTerm {
  if (part === '') throw invalidArgument(`orderBy: term ${position} is empty`);
  const [field = '', direction, ...rest] = part.split(/\s+/);
  const spec = orderField(field, fields);
  if (spec === undefined) {
    throw invalidArgument(`orderBy: unknown field "${truncate(field, 40)}"; allowed fields: ${allowedFields(fields)}`);
  }
  if (rest.length > 0 || (direction !== undefined && direction !== 'asc' && direction !== 'desc')) {
    throw invalidArgument(
      `orderBy: "${truncate(part, 60)}" is not of the form "field [asc|desc]" (the direction is lower case)`,
    );
  }
  return { field, column: spec.column, desc: direction === 'desc' };
}

export interface PageToken {
  /** The sort-key values of the last row of the page, in order-by order (id last). */
  keys: unknown[];
  fingerprint: string;
}

const TOKEN_VERSION = 1;
const MAX_TOKEN_LENGTH = 8192;

/**
 * A short hash of whatever defines the list (normalised filter AST, order terms, scope): a token
 * only continues the list it was issued for.
 */
export function listFingerprint(filter: FilterExpr | undefined, orderBy: readonly OrderTerm[], scope?: unknown): string {
  const canonical = JSON.stringify([TOKEN_VERSION, filter ?? null, orderBy.map((t) => [t.column, t.desc]), scope ?? null]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export function encodePageToken({ keys, fingerprint }: PageToken): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, k: keys, f: fingerprint })).toString('base64url');
}

/** Throws INVALID_ARGUMENT when the token is malformed or was issued for another filter/orderBy. */
export function decodePageToken(token: string, fingerprint: string): PageToken {
  let parsed: unknown;
  try {
    if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('bad characters');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('pageToken: invalid page token');
  }
  const body = parsed as { v?: unknown; k?: unknown; f?: unknown } | null;
  const wellFormed =
    typeof body === 'object' && body !== null && body.v === TOKEN_VERSION && Array.isArray(body.k) && typeof body.f === 'string';
  if (!wellFormed) {
    throw invalidArgument('pageToken: invalid page token');
  }
  if (body.f !== fingerprint) {
    throw invalidArgument('pageToken: the page token does not match the filter and orderBy it was issued for');
  }
  return { keys: body.k as unknown[], fingerprint: body.f };
}

/** Unset or 0 means the default (50); above 200 is coerced to 200; negative is an error. */
export function normalisePageSize(value: number | undefined): number {
  if (value === undefined || value === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value)) throw invalidArgument(`pageSize: must be an integer, got ${value}`);
  if (value < 0) throw invalidArgument(`pageSize: must not be negative, got ${value}`);
  return Math.min(value, MAX_PAGE_SIZE);
}

/**
 * Keeps only the fields named by `readMask` (comma-separated paths, top-level or dotted such as
 * `status.code`; snake_case is accepted too). Empty or `*` keeps everything. Unknown paths are
 * ignored rather than rejected, as Fireworks does, so clients written against a newer API still work.
 */
export function applyReadMask<T extends object>(resource: T, readMask: string | undefined): Partial<T> {
  const paths = parseReadMask(readMask);
  if (paths === undefined) return resource;
  const out: Record<string, unknown> = {};
  for (const path of paths) copyPath(resource as Record<string, unknown>, out, path);
  return out as Partial<T>;
}

function parseReadMask(readMask: string | undefined): string[][] | undefined {
  const paths = (readMask ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (paths.length === 0 || paths.includes('*')) return undefined;
  const camel = (segment: string) => segment.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return paths.map((p) => p.split('.').map(camel));
}

function copyPath(source: Record<string, unknown>, target: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path;
  // "__proto__" would replace the prototype of `target` instead of adding a field.
  if (head === undefined || head === '__proto__' || !Object.hasOwn(source, head)) return;
  const value = source[head];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  if (!isPlainRecord(value)) return;
  const existing = target[head];
  if (existing === value) return; // the whole sub-object was already selected
  const child = isPlainRecord(existing) ? existing : {};
  copyPath(value, child, rest);
  if (Object.keys(child).length > 0) target[head] = child;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The values of filter comparisons: the raw text as read, converted to its field's type. */
import { invalidArgument } from '../errors.js';
import { truncate } from '../names.js';
import type { ListField } from './fields.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** RFC 3339 (seconds optional); a zone is required unless only the date is given (then UTC). */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):(\d{2})))?$/;

export interface RawValue {
  text: string;
  column: number;
}

export function convertValue(field: string, spec: ListField, raw: RawValue): string | number | boolean {
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

/** One CSV record (RFC 4180): fields with a comma, quote or line break are quoted. */
export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvCell).join(',')}\n`;
}

export function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

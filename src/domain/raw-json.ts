/**
 * JSON text already stored (a dataset or result row), to be sent as it is. Re-serialising a
 * parsed row costs a parse and a stringify per row, and `JSON.stringify` overflows the stack on
 * rows nested some thousands of levels deep: a stored row must never make its page unreadable.
 * The HTTP adapter splices the text into its reply (http/wire/raw-json.ts).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

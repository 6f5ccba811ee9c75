import { invalidArgument } from '../domain/errors.js';

/** What a PUT to a signed upload URL brings. */
export interface ReceivedUpload {
  source: AsyncIterable<Uint8Array>;
  /** The Content-Length header, when the client sent one. */
  contentLength?: number;
  /** `X-Goog-Content-Length-Range: min,max`, when sent. */
  lengthRange?: string;
}

export function parseDeclaredSize(filename: string, sizeText: string | number, max: number): number {
  const size = typeof sizeText === 'number' ? sizeText : /^\d{1,16}$/.test(sizeText) ? Number(sizeText) : NaN;
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw invalidArgument(`filenameToSize["${filename}"]: "${String(sizeText)}" is not a positive byte count`);
  }
  if (size > max) throw invalidArgument(`filenameToSize["${filename}"]: ${size} bytes is over the limit of ${max}`);
  if (!/^[\w.-]{1,200}$/.test(filename)) {
    throw invalidArgument(`filenameToSize: "${filename}" is not a plain file name (letters, digits, '.', '_', '-')`);
  }
  return size;
}

export function checkDeclaredLength(declared: number, { contentLength, lengthRange }: ReceivedUpload): void {
  if (contentLength !== undefined && contentLength !== declared) {
    throw invalidArgument(`Content-Length: ${contentLength} differs from the ${declared} bytes declared in filenameToSize`);
  }
  if (lengthRange === undefined) return;
  const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(lengthRange);
  if (!match) throw invalidArgument(`X-Goog-Content-Length-Range: "${lengthRange}" is not "min,max"`);
  const [min, max] = [Number(match[1]), Number(match[2])];
  if (declared < min || declared > max) {
    throw invalidArgument(`X-Goog-Content-Length-Range: the declared size ${declared} is outside ${min}-${max}`);
  }
}

/** Read masks (AIP-157): a response keeps only the fields the client asked for. */

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
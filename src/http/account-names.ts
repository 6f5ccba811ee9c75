import { assertOwnAccountName, assertOwnParent } from '../domain/names.js';

/**
 * Refuses a body that names another account's resources. `paths` are the dotted paths of the
 * fields that carry names (`[]` marks an array of names); a top-level `parent` is always checked.
 */
export function refuseForeignNames(body: unknown, accountId: string, paths: readonly string[] = []): void {
  if (!isRecord(body)) return;
  const parent = body['parent'];
  if (typeof parent === 'string') assertOwnParent(parent, { accountId, field: 'parent' });
  for (const path of paths) {
    for (const [field, value] of valuesAt(body, path.split('.'), '')) assertOwnAccountName(value, { accountId, field });
  }
}

function* valuesAt(node: unknown, path: string[], at: string): Generator<[string, string]> {
  const [head, ...rest] = path;
  if (head === undefined) {
    if (typeof node === 'string') yield [at, node];
    return;
  }
  if (head === '[]') {
    if (!Array.isArray(node)) return;
    for (const [i, item] of node.entries()) yield* valuesAt(item, rest, `${at}[${i}]`);
    return;
  }
  if (!isRecord(node) || !Object.hasOwn(node, head)) return;
  yield* valuesAt(node[head], rest, at === '' ? head : `${at}.${head}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

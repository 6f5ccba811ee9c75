/**
 * `{{item.x}}` templates, as the hosted platform filled them: a dotted path into the namespace
 * (list elements by index); a string is put in as it is, anything else as JSON. The sandbox fills
 * grader templates the same way (graders.py `render`); this half fills a run's input messages.
 */
const TEMPLATE = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;

/** The value at `path` in `scope`, or an error message naming the missing part. */
function lookup(path: string, scope: Record<string, unknown>): { value: unknown } | { problem: string } {
  const parts = path.split('.');
  if (!(parts[0]! in scope)) return { problem: `template {{${path}}}: names neither ${Object.keys(scope).join(' nor ')}` };
  let value: unknown = scope[parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (Array.isArray(value) && /^\d+$/.test(part) && Number(part) < value.length) value = value[Number(part)];
    else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, part)) value = (value as Record<string, unknown>)[part];
    else return { problem: `template {{${path}}}: ${parts.slice(0, i).join('.')} has no field "${part}"` };
  }
  return { value };
}

export function renderTemplate(template: string, scope: Record<string, unknown>): { text: string } | { problem: string } {
  let problem: string | undefined;
  const text = template.replace(TEMPLATE, (_match, path: string) => {
    const found = lookup(path, scope);
    if ('problem' in found) {
      problem ??= found.problem;
      return '';
    }
    return typeof found.value === 'string' ? found.value : JSON.stringify(found.value);
  });
  return problem === undefined ? { text } : { problem };
}

export function valueAt(path: string, scope: Record<string, unknown>): { value: unknown } | { problem: string } {
  return lookup(path, scope);
}

/**
 * Canonical form of a requirements.txt, so that two evaluators asking for the same packages
 * share one environment. Builds may only install from the index Tally is configured with, so
 * anything that points pip elsewhere (other indexes, links, URLs, local paths, editable
 * installs, nested requirement files) is refused with a message that names the line.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../domain/errors.js';

/** Global options that change how, not where from, pip installs. */
const ALLOWED_OPTIONS = new Set(['--pre', '--prefer-binary', '--only-binary', '--no-binary', '--require-hashes']);

const SOURCE_OPTIONS: Record<string, string> = {
  '-i': 'it replaces the package index',
  '--index-url': 'it replaces the package index',
  '--extra-index-url': 'it adds another package index',
  '--no-index': 'it turns the package index off',
  '-f': 'it adds download locations',
  '--find-links': 'it adds download locations',
  '--trusted-host': 'it weakens TLS checks',
  '-e': 'editable installs point at local paths or VCS URLs',
  '--editable': 'editable installs point at local paths or VCS URLs',
  '-r': 'nested requirement files are not uploaded with the requirements',
  '--requirement': 'nested requirement files are not uploaded with the requirements',
  '-c': 'constraint files are not uploaded with the requirements',
  '--constraint': 'constraint files are not uploaded with the requirements',
};

export function normaliseRequirements(text: string): string {
  const options = new Set<string>();
  const requirements = new Map<string, string>();
  for (const line of logicalLines(text)) {
    if (line.startsWith('-')) {
      options.add(normaliseOption(line));
      continue;
    }
    const requirement = normaliseRequirement(line);
    requirements.set(requirement.toLowerCase(), requirement);
  }
  const sortedOptions = [...options].sort();
  const sortedRequirements = [...requirements.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, requirement]) => requirement);
  return [...sortedOptions, ...sortedRequirements].join('\n');
}

/** Joins `\` continuations, drops comments (pip's rule: `#` at the start or after whitespace). */
function logicalLines(text: string): string[] {
  const joined = text.replace(/\r\n?/g, '\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '');
}

function normaliseOption(line: string): string {
  const [flag = '', ...rest] = line.split(/[ =]/);
  const reason = SOURCE_OPTIONS[flag];
  if (reason !== undefined) {
    throw invalidArgument(`requirements line ${JSON.stringify(line)}: ${flag} is not allowed, ${reason}; builds install only from the configured package index`);
  }
  if (!ALLOWED_OPTIONS.has(flag)) {
    throw invalidArgument(`requirements line ${JSON.stringify(line)}: unsupported option ${flag}`);
  }
  const value = rest.join(' ').trim();
  return value === '' ? flag : `${flag}=${value}`;
}

/** PEP 508 name, optional extras, then the rest (versions, markers, per-line --hash options). */
const REQUIREMENT = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/;

function normaliseRequirement(line: string): string {
  if (/^[^\s@\[]+\s*(\[[^\]]*\])?\s*@/.test(line)) {
    throw invalidArgument(`requirements line ${JSON.stringify(line)}: direct references (name @ url) are not allowed; builds install only from the configured package index`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(line) || line.startsWith('file:')) {
    throw invalidArgument(`requirements line ${JSON.stringify(line)}: URLs are not allowed; builds install only from the configured package index`);
  }
  if (/^(\.|\/|~)/.test(line) || /\.(whl|zip|tar\.gz|tgz)$/i.test(line)) {
    throw invalidArgument(`requirements line ${JSON.stringify(line)}: local paths and archives are not allowed; name a package from the index`);
  }
  const match = REQUIREMENT.exec(line);
  if (match === null) throw invalidArgument(`requirements line ${JSON.stringify(line)}: not a valid requirement`);
  const [, name = '', extras = '', rest = ''] = match;
  const canonicalName = name.toLowerCase().replace(/[-_.]+/g, '-');
  const canonicalExtras = extras === '' ? '' : `[${extras.slice(1, -1).split(',').map((e) => e.trim().toLowerCase()).filter(Boolean).sort().join(',')}]`;
  // Spaces around operators and separators carry no meaning; markers keep their `and`/`or`.
  const canonicalRest = rest.replace(/\s*(===|==|!=|<=|>=|~=|<|>|,|;)\s*/g, '$1').trim();
  return `${canonicalName}${canonicalExtras}${canonicalRest.startsWith('--') ? ' ' : ''}${canonicalRest}`;
}

export interface HashInputs {
  /** Identifies the interpreter: path and exact version (a Python upgrade is a new environment). */
  python: string;
  /** Always-installed packages, e.g. eval-protocol for entry-point evaluators. */
  extras: string[];
}

export function requirementsHash(normalised: string, { python, extras }: HashInputs): string {
  const canonicalExtras = [...new Set(extras.map((e) => e.trim()).filter(Boolean))].sort();
  const payload = JSON.stringify({ v: 1, python, extras: canonicalExtras, requirements: normalised });
  return createHash('sha256').update(payload).digest('hex');
}

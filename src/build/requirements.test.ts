import { describe, expect, it } from 'vitest';
import { normaliseRequirements, requirementsHash } from './requirements.js';

describe('normaliseRequirements', () => {
  it('drops comments and blanks, normalises names and spaces, dedupes and sorts', () => {
    const text = [
      '# the deps',
      'Requests >= 2.0 , <3   # http',
      '',
      'numpy==1.26.4',
      'six == 1.16.0',
      'six==1.16.0',
      'Typing_Extensions',
      'pydantic[Email, dotenv]',
      "tomli; python_version < '3.11'",
      '--prefer-binary',
      'long-name \\',
      '  ==1.0',
    ].join('\r\n');
    expect(normaliseRequirements(text)).toBe(
      [
        '--prefer-binary',
        'long-name==1.0',
        'numpy==1.26.4',
        'pydantic[dotenv,email]',
        'requests>=2.0,<3',
        'six==1.16.0',
        "tomli;python_version<'3.11'",
        'typing-extensions',
      ].join('\n'),
    );
  });

  it('gives the same text for equivalent files', () => {
    expect(normaliseRequirements('B\nA==1\n')).toBe(normaliseRequirements('a == 1\n# x\nb\n'));
    expect(normaliseRequirements('\n  # only comments\n')).toBe('');
  });

  it('keeps per-requirement hashes', () => {
    expect(normaliseRequirements('six==1.16.0 --hash=sha256:abc')).toBe('six==1.16.0 --hash=sha256:abc');
  });

  it.each([
    ['--index-url https://example.invalid/simple', /--index-url is not allowed/],
    ['-i https://example.invalid/simple', /-i is not allowed/],
    ['--extra-index-url=https://example.invalid/simple', /--extra-index-url is not allowed/],
    ['-e ./local', /-e is not allowed/],
    ['-r other.txt', /nested requirement files/],
    ['--find-links /tmp/wheels', /--find-links is not allowed/],
    ['./vendored/pkg', /local paths/],
    ['/abs/pkg.whl', /local paths/],
    ['https://example.invalid/pkg.whl', /URLs are not allowed/],
    ['pkg @ https://example.invalid/pkg.whl', /direct references/],
    ['--something-else', /unsupported option/],
  ])('refuses %s', (line, message) => {
    expect(() => normaliseRequirements(`six\n${line}\n`)).toThrow(message);
  });
});

describe('requirementsHash', () => {
  it('covers the requirements, the interpreter and the extras (in any order)', () => {
    const base = requirementsHash('six==1.16.0', { python: '/usr/bin/python3 3.11.2', extras: [] });
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(requirementsHash('six==1.16.0', { python: '/usr/bin/python3 3.11.2', extras: [] })).toBe(base);
    expect(requirementsHash('six==1.15.0', { python: '/usr/bin/python3 3.11.2', extras: [] })).not.toBe(base);
    expect(requirementsHash('six==1.16.0', { python: '/usr/bin/python3 3.12.1', extras: [] })).not.toBe(base);
    const withExtras = requirementsHash('six==1.16.0', { python: '/usr/bin/python3 3.11.2', extras: ['b', 'a'] });
    expect(withExtras).not.toBe(base);
    expect(requirementsHash('six==1.16.0', { python: '/usr/bin/python3 3.11.2', extras: ['a', 'b'] })).toBe(withExtras);
  });
});

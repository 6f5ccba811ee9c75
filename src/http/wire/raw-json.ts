import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

import { RawJson } from '../../domain/raw-json.js';

export { RawJson };

/** `JSON.stringify(value)`, with every `RawJson` inside spliced in as its text. */
export function stringifyWithRaw(value: unknown): string {
  const raws: string[] = [];
  // A per-call random marker: no other string of the reply can equal it by chance.
  const marker = `\u0000raw-${randomBytes(8).toString('hex')}-`;
  const json = JSON.stringify(value, (_key, member: unknown) => {
    if (!(member instanceof RawJson)) return member;
    raws.push(member.text);
    return `${marker}${raws.length - 1}`;
  });
  if (raws.length === 0) return json;
  const quoted = JSON.stringify(marker).slice(0, -1);
  return json.replace(new RegExp(`${escapeRegExp(quoted)}(\\d+)"`, 'g'), (_match, index: string) => raws[Number(index)]!);
}

/** Sends `value` as the JSON reply, raw members as they are. */
export function sendWithRaw(reply: FastifyReply, value: unknown): string {
  reply.type('application/json; charset=utf-8');
  return stringifyWithRaw(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { describe, expect, it } from 'vitest';
import { deadOwners, processIsAlive, workerIdentity } from './lease-owner.js';

describe('lease owners', () => {
  it('names a worker by host, pid space and pid, stable within one process', () => {
    const a = workerIdentity();
    const b = workerIdentity();
    expect(a.prefix).toBe(b.prefix);
    expect(a.id.startsWith(`${a.prefix}${process.pid}:`)).toBe(true);
    expect(a.id).not.toBe(b.id);
  });

  it('takes only dead owners of its own pid space, never itself, a live process or another host', () => {
    const { id, prefix } = workerIdentity();
    const owners = [id, `${prefix}111:aaaaaa`, `${prefix}222:bbbbbb`, `other-host.1234abcd:111:cccccc`, `${prefix}garbage`, ''];
    const alive = new Set([222]);
    expect(deadOwners(owners, { prefix, self: id, isAlive: (pid) => alive.has(pid) })).toEqual([`${prefix}111:aaaaaa`]);
  });

  it('tells a live process from a dead one', () => {
    expect(processIsAlive(process.pid)).toBe(true);
    expect(processIsAlive(2 ** 22 + 12345)).toBe(false);
  });
});

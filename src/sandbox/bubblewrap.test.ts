import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bubblewrapArgv, createSandboxLauncher, detectBubblewrap } from './index.js';
import { pidsOfUid, privateUidRange, runPython, TEST_LIMITS } from './test-support.js';

// One uid per file so parallel test files never share an RLIMIT_NPROC budget.
const UID = privateUidRange(1).first;
const launcher = createSandboxLauncher({ mode: 'bubblewrap', uids: { first: UID, count: 1 } });
const available = await detectBubblewrap({ uids: { first: UID, count: 1 } });

describe('bubblewrapArgv', () => {
  it('drops to the host uid before bwrap and applies every rlimit', () => {
    const argv = bubblewrapArgv(
      { command: ['/usr/bin/python3'], readOnlyBinds: ['/srv/x'], cwd: '/srv/x', env: { A: 'b' }, network: false, limits: TEST_LIMITS },
      { bwrap: 'bwrap', setpriv: 'setpriv', prlimit: 'prlimit' },
      { uid: 7, gid: 8 },
    );
    expect(argv.slice(0, 7)).toEqual(['prlimit', '--as=1073741824', '--cpu=60', '--nproc=32', '--fsize=16777216', '--nofile=256', '--']);
    expect(argv.slice(7, 12)).toEqual(['setpriv', '--reuid=7', '--regid=8', '--clear-groups', '--']);
    const bwrap = argv.slice(12).join(' ');
    for (const flag of ['--unshare-all', '--cap-drop ALL', '--new-session', '--die-with-parent', '--clearenv --args 3', '--ro-bind /srv/x /srv/x', '--tmpfs /tmp']) {
      expect(bwrap).toContain(flag);
    }
    // The environment (secrets among it) goes through the --args pipe, never the argv.
    expect(bwrap).not.toContain('--setenv');
    expect(bwrap).not.toContain('--share-net');
    expect(bwrap).not.toContain('resolv.conf');
    expect(argv.at(-1)).toBe('/usr/bin/python3');
  });
});

describe.skipIf(!available)('bubblewrap box', () => {
  let server: Server;
  let port = 0;
  let secretDir = '';
  beforeAll(async () => {
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('hello from the host\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    secretDir = mkdtempSync(join(tmpdir(), 'tally-box-'));
    chmodSync(secretDir, 0o755);
    writeFileSync(join(secretDir, 'secret.txt'), 'root only');
    chmodSync(join(secretDir, 'secret.txt'), 0o600);
    writeFileSync(join(secretDir, 'public.txt'), 'everyone');
  });
  afterAll(() => {
    server.close();
    rmSync(secretDir, { recursive: true, force: true });
  });

  it('runs as an unprivileged host uid with no capabilities', async () => {
    const run = await runPython(launcher, `
import os
st = open('/proc/self/status').read()
print(os.getuid(), [l.split()[1] for l in st.splitlines() if l.startswith(('CapEff', 'CapBnd', 'NoNewPrivs'))])`);
    expect(run.stdout).toContain(`${UID} ['0000000000000000', '0000000000000000', '1']`);
  });

  it('is that uid on the HOST too (not root mapped to a fake uid)', async () => {
    const child = launcher.spawn({
      command: ['/usr/bin/sleep', '5'], readOnlyBinds: [], cwd: '/tmp', env: {}, network: false, limits: TEST_LIMITS,
    });
    await new Promise((r) => setTimeout(r, 300));
    // bwrap's monitor, its pid-1 reaper and sleep: all owned by the unprivileged uid on the host.
    expect(pidsOfUid(UID).length).toBeGreaterThanOrEqual(3);
    expect(pidsOfUid(UID)).toContain(child.pid);
    process.kill(-(child.pid as number), 'SIGKILL');
    await new Promise((r) => child.once('close', r));
  });

  it('sees only what is bound: no /etc/shadow, no /root, file modes of the host apply', async () => {
    const run = await runPython(launcher, `
import os
for p in ['/etc/shadow', '/root', '/work', '${secretDir}/public.txt', '${secretDir}/secret.txt']:
    try:
        print(p, 'READ', len(open(p).read()))
    except Exception as e:
        print(p, type(e).__name__)
`, { readOnlyBinds: [secretDir] });
    expect(run.stdout).toContain('/etc/shadow FileNotFoundError');
    expect(run.stdout).toContain('/root FileNotFoundError');
    expect(run.stdout).toContain('/work FileNotFoundError');
    expect(run.stdout).toContain('public.txt READ 8');
    expect(run.stdout).toContain('secret.txt PermissionError');
  });

  it('gets exactly the given environment', async () => {
    const run = await runPython(launcher, 'import os; print(sorted(os.environ))', {
      env: { ONLY: '1', PATH: '/usr/bin' },
    });
    // bwrap/python add nothing but PWD and the C locale coercion.
    expect(run.stdout.trim()).toBe("['LC_CTYPE', 'ONLY', 'PATH', 'PWD']");
  });

  const netProbe = (p: number): string => `
import socket
for host, port in [('127.0.0.1', ${p}), ('1.1.1.1', 443)]:
    try:
        s = socket.create_connection((host, port), timeout=2); print(host, 'OPEN', s.recv(5))
    except Exception as e:
        print(host, type(e).__name__)
try:
    print('dns', socket.getaddrinfo('example.com', 443)[0][4])
except Exception as e:
    print('dns', type(e).__name__)
`;

  it('has no network, not even the host loopback, and no DNS', async () => {
    const run = await runPython(launcher, netProbe(port));
    expect(run.stdout).toMatch(/127\.0\.0\.1 (ConnectionRefusedError|OSError)/);
    expect(run.stdout).toMatch(/1\.1\.1\.1 OSError/);
    expect(run.stdout).toMatch(/dns gaierror/);
  });

  it('reaches the host when network is allowed (so the test above is meaningful)', async () => {
    const run = await runPython(launcher, netProbe(port), { network: true });
    expect(run.stdout).toContain("127.0.0.1 OPEN b'hello'");
  });

  it('cannot write outside its private /tmp, and /tmp is size-capped', async () => {
    const run = await runPython(launcher, `
for p in ['/usr/x', '${secretDir}/x', '/x', '/tmp/ok']:
    try:
        open(p, 'w').write('x'); print(p, 'WROTE')
    except Exception as e:
        print(p, type(e).__name__, getattr(e, 'errno', None))
try:
    open('/tmp/big', 'wb').write(b'x' * (3 << 20)); print('big WROTE')
except Exception as e:
    print('big', type(e).__name__, e.errno)
`, { readOnlyBinds: [secretDir], tmpBytes: 1 << 20 });
    expect(run.stdout).toContain('/usr/x OSError 30');
    expect(run.stdout).toMatch(new RegExp(`${secretDir}/x OSError 30`));
    expect(run.stdout).toContain('/x OSError 30');
    expect(run.stdout).toContain('/tmp/ok WROTE');
    expect(run.stdout).toContain('big OSError 28');
  });

  it('enforces the address-space limit as MemoryError', async () => {
    const run = await runPython(launcher, `
try:
    b = bytearray(2 << 30); print('ALLOCATED')
except MemoryError:
    print('MemoryError')`);
    expect(run.stdout.trim()).toBe('MemoryError');
  });

  it('enforces the process limit for the unprivileged uid', async () => {
    const run = await runPython(launcher, `
import os, time
n = 0
try:
    for _ in range(500):
        if os.fork() == 0:
            time.sleep(2); os._exit(0)
        n += 1
    print('forked', n)
except OSError as e:
    print('stopped after', n, e.errno)`, { limits: { ...TEST_LIMITS, processes: 16 } });
    expect(run.stdout).toMatch(/stopped after (\d+) 11/);
    expect(Number(/after (\d+)/.exec(run.stdout)?.[1])).toBeLessThan(16);
  });

  it('enforces the file-size and open-files limits', async () => {
    const run = await runPython(launcher, `
try:
    with open('/tmp/f', 'wb') as f: f.write(b'x' * 200000)
    print('size WROTE')
except OSError as e:
    print('size', e.errno)
fs = []
try:
    for _ in range(1000): fs.append(open('/dev/null'))
except OSError as e:
    print('files', len(fs), e.errno)`, { limits: { ...TEST_LIMITS, fileSizeBytes: 100_000, openFiles: 32 } });
    expect(run.stdout).toContain('size 27');
    expect(run.stdout).toMatch(/files 2\d 24/);
  });

  it('kills an endless loop at the CPU limit', async () => {
    const run = await runPython(launcher, 'while True: pass', { limits: { ...TEST_LIMITS, cpuSeconds: 1 } });
    // bwrap reports a signalled child as 128 + signal: SIGXCPU (24) or SIGKILL at the hard limit.
    expect([128 + 24, 128 + 9]).toContain(run.code);
  });

  it('takes the whole box down when bwrap dies (die-with-parent, pid namespace)', async () => {
    const child = launcher.spawn({
      command: ['/usr/bin/python3', '-c', 'import os, time\nfor _ in range(3): os.fork()\ntime.sleep(60)'],
      readOnlyBinds: [], cwd: '/tmp', env: {}, network: false, limits: TEST_LIMITS,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(pidsOfUid(UID).length).toBeGreaterThanOrEqual(8);
    process.kill(child.pid as number, 'SIGKILL');
    await new Promise((r) => child.once('close', r));
    await new Promise((r) => setTimeout(r, 200));
    expect(pidsOfUid(UID)).toEqual([]);
  });

  it('hands the environment over a pipe: not in any argv, not left open in the box', async () => {
    const secret = `s3cr3t-${randomUUID()}`;
    const probe = [
      'import os',
      'print("env", os.environ.get("TOKEN"))',
      'try:\n    os.fstat(4); print("fd4 open")\nexcept OSError:\n    print("fd4 closed")',
      'print("argv-hit", any(os.environ["TOKEN"].encode() in open(f"/proc/{p}/cmdline", "rb").read() for p in os.listdir("/proc") if p.isdigit()))',
    ].join('\n');
    const child = launcher.spawn({
      command: ['/usr/bin/python3', '-c', probe],
      readOnlyBinds: [], cwd: '/tmp', env: { TOKEN: secret, 'WITH SPACE': 'a b\nc' }, network: false, limits: TEST_LIMITS, extraFds: 1,
    });
    const hostArgv = [child.spawnargs.join(' ')];
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => child.once('close', r));
    expect(out).toContain(`env ${secret}`);
    expect(out).toContain('argv-hit False');
    // 0-2 stdio, 3 the extra pipe; bwrap closed the env pipe (4) once read.
    expect(out).toContain('fd4 closed');
    expect(hostArgv.join(' ')).not.toContain(secret);
  });

  it('refuses an environment variable that bwrap could not set', () => {
    expect(() => launcher.spawn({ command: ['/usr/bin/true'], readOnlyBinds: [], cwd: '/tmp', env: { 'A=B': 'x' }, network: false, limits: TEST_LIMITS }))
      .toThrow(/cannot be set/);
  });

  it('passes an extra pipe as fd 3', async () => {
    const child = launcher.spawn({
      command: ['/usr/bin/python3', '-c', 'import os; os.write(3, b"frame\\n")'],
      readOnlyBinds: [], cwd: '/tmp', env: {}, network: false, limits: TEST_LIMITS, extraFds: 1,
    });
    let got = '';
    child.stdio[3]?.on('data', (c: Buffer) => (got += c.toString()));
    await new Promise((r) => child.once('close', r));
    expect(got).toBe('frame\n');
  });
});

// The adversarial catalogue, end to end: each attack is an evaluator run as a real job through the
// HTTP API of one server, so what is checked is the sandbox as the server composes it, not a
// fixture spec. The process-level twins of these cases are in src/runner/sandbox-process.test.ts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBubblewrap } from '../src/sandbox/index.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

/** The launcher's default uid range (src/sandbox/bubblewrap.ts): the server's boxes run as these. */
const SANDBOX_UIDS = { first: 200_000, count: 10_000 };
const ROWS = 12;
const ATTACK_ROW = 6;
/** Unique per run: marks this run's files and processes, so concurrent test runs never confuse us. */
const TOKEN = randomBytes(6).toString('hex');
const CANARY = `canary-${TOKEN}`;
const OTHER_SOURCE_MARKER = `other-account-source-${TOKEN}`;
const available = await detectBubblewrap();

/** What the test hands the attack row (its first message, as JSON). */
interface AttackArgs {
  db: string;
  dataDir: string;
  otherBuild: string;
  serverPort: number;
  listenerPort: number;
  token: string;
  /** `sleep <this>`: a command line no other test run has. */
  sleepArg: string;
}

/** A row's stored outcome, as `:listResults` answers it. */
interface Result {
  index: number;
  score: number;
  errorKind: string;
  row: { evaluation_result: { reason: string | null } };
}

interface Attack {
  name: string;
  /** The body of `attack(arg)`, indented by 4. */
  code: string;
  /** Per-row timeout of its job (default 3 s). */
  timeoutSeconds?: number;
  check(attackRow: Result, context: { args: AttackArgs }): void;
  /** Checks on the job's execution log (what the evaluator printed). */
  checkLog?(log: string): void;
}

const PRELUDE = `import ctypes, json, math, os, signal, socket, subprocess, sys, time


def probe(action):
    try:
        return "OPEN %r" % (action(),)
    except BaseException as error:
        return "blocked %s: %s" % (type(error).__name__, str(error)[:200])


def connect(port):
    return probe(lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())


def write(path):
    def act():
        with open(path, "w") as handle:
            handle.write("pwned")
    return "%s %s" % (path, probe(act))


def attack(arg):
`;

const EVALUATE = `

def evaluate(messages, ground_truth=None, tools=None, **kwargs):
    answer = messages[-1]["content"]
    if answer == "attack":
        return attack(json.loads(messages[0]["content"]))
    ok = float(answer == ground_truth)
    return {"score": ok, "reason": "exact match" if ok else "mismatch"}
`;

/** The stored reason without its prefix: the criterion's name for a score, the error kind for an error. */
const reasonOf = (r: Result): string => (r.row.evaluation_result.reason ?? '').replace(r.errorKind === '' ? /^attack: / : `${r.errorKind}: `, '');
const probed = (body: string): string => `    return {"score": 0.0, "reason": ${body}}`;
/** The attack did nothing: the row scored (as the attack code returned it). */
const scored = (r: Result): void => expect(r.errorKind, reasonOf(r)).toBe('');
const errored = (kind: string, reason?: RegExp) => (r: Result): void => {
  expect(r.errorKind, reasonOf(r)).toBe(kind);
  if (reason) expect(reasonOf(r)).toMatch(reason);
};
const allBlocked = (r: Result): void => {
  scored(r);
  expect(reasonOf(r)).toMatch(/^blocked /);
  expect(reasonOf(r)).not.toContain('OPEN');
};

const ATTACKS: Attack[] = [
  { name: 'read-database', code: probed('probe(lambda: open(arg["db"], "rb").read(64))'), check: allBlocked },
  {
    name: 'list-data-dir',
    code: probed('" | ".join([probe(lambda: os.listdir(arg["dataDir"])), probe(lambda: os.listdir(arg["dataDir"] + "/builds"))])'),
    check(r) {
      scored(r);
      // bwrap makes empty mount points for the binds inside the data directory; nothing real shows.
      for (const secret of ['tally.db', 'secret.key', 'other.']) expect(reasonOf(r)).not.toContain(secret);
    },
  },
  {
    name: 'read-other-account',
    code: probed('" | ".join([probe(lambda: os.listdir(arg["otherBuild"])), probe(lambda: open(arg["otherBuild"] + "/src/main.py").read())])'),
    check(r) {
      scored(r);
      expect(reasonOf(r)).not.toContain(OTHER_SOURCE_MARKER);
      expect(reasonOf(r)).toMatch(/^blocked .* \| blocked /);
      expect(reasonOf(r)).not.toContain('OPEN');
    },
  },
  { name: 'read-shadow', code: probed('probe(lambda: open("/etc/shadow").read())'), check: allBlocked },
  {
    name: 'read-environment',
    code: probed('json.dumps(dict(os.environ)) + " | " + probe(lambda: open("/proc/1/environ").read()) + " | " + probe(lambda: open("/proc/%d/environ" % os.getppid()).read())'),
    check(r) {
      scored(r);
      expect(reasonOf(r)).not.toContain(CANARY);
      const env = JSON.parse(reasonOf(r).split(' | ')[0]!) as Record<string, string>;
      expect(Object.keys(env).filter((k) => k.startsWith('TALLY'))).toEqual([]);
    },
  },
  {
    name: 'write-outside-tmp',
    code: probed(
      '" | ".join([write("/usr/pwned-" + arg["token"]), write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pwned-" + arg["token"])), ' +
        'write(arg["dataDir"] + "/pwned-" + arg["token"]), write(arg["dataDir"] + "/builds/pwned-" + arg["token"]), write("/tmp/pwned-" + arg["token"])])',
    ),
    check(r) {
      scored(r);
      const parts = reasonOf(r).split(' | ');
      expect(parts).toHaveLength(5);
      parts.slice(0, 4).forEach((p) => expect(p).toMatch(/ blocked /));
      // The sandbox's own /tmp is writable (and private: the host's /tmp must not get the file).
      expect(parts[4]).toMatch(/ OPEN /);
    },
  },
  { name: 'connect-server-port', code: probed('connect(arg["serverPort"])'), check: allBlocked },
  { name: 'connect-loopback-listener', code: probed('connect(arg["listenerPort"])'), check: allBlocked },
  { name: 'resolve-host-name', code: probed('probe(lambda: socket.getaddrinfo("example.com", 443))'), check: allBlocked },
  { name: 'fork-bomb', code: '    while True:\n        os.fork()', check: errored('exception', /BlockingIOError|Resource temporarily unavailable/) },
  { name: 'memory-bomb', timeoutSeconds: 60, code: '    hoard = []\n    while True:\n        hoard.append(bytearray(64 * 1024 * 1024))', check: errored('memory') },
  { name: 'cpu-loop', code: '    while True:\n        pass', check: errored('timeout') },
  { name: 'sleep-forever', code: '    time.sleep(10 ** 6)', check: errored('timeout') },
  {
    name: 'stdout-gigabyte',
    timeoutSeconds: 60,
    code: '    chunk = "y" * (1024 * 1024)\n    for _ in range(1024):\n        sys.stdout.write(chunk)\n    return {"score": 0.0, "reason": "printed"}',
    check: (r) => expect(reasonOf(r)).toBe('printed'),
    // Drained and discarded past the cap of 1 MiB per sandbox process (docs/api.md).
    checkLog: (log) => expect(Buffer.byteLength(log)).toBeLessThan(2 * 1024 * 1024),
  },
  {
    name: 'close-stdout',
    code: '    os.close(1)\n    print("into the void")\n    return {"score": 0.0, "reason": "closed"}',
    check: (r) => expect(r.errorKind === '' ? reasonOf(r) : r.errorKind).toMatch(/^(closed|crash|exception)$/),
  },
  { name: 'garbage-on-protocol-fd', code: '    os.write(3, b"this is {not json\\n")\n    return 0.0', check: errored('protocol', /this is \{not json/) },
  {
    name: 'kill-parent',
    code: probed('probe(lambda: os.kill(os.getppid(), signal.SIGKILL))'),
    // Killing the box's init from inside is ignored; had it worked, the row would be a crash.
    check: (r) => expect(r.errorKind === '' ? 'scored' : r.errorKind).toMatch(/^(scored|crash)$/),
  },
  {
    name: 'kill-everything',
    code: probed('probe(lambda: os.kill(-1, signal.SIGKILL))'),
    check: (r) => expect(r.errorKind === '' ? 'scored' : r.errorKind).toMatch(/^(scored|crash)$/),
  },
  { name: 'segfault', code: '    ctypes.string_at(0)', check: errored('crash', /SIGSEGV/) },
  {
    name: 'background-process',
    code: '    child = subprocess.Popen(["sleep", arg["sleepArg"]], start_new_session=True)\n    return {"score": 0.0, "reason": "left pid %d" % child.pid}',
    check: (r) => expect(reasonOf(r)).toMatch(/^left pid \d+$/),
  },
  { name: 'huge-result', code: '    return {"score": 1.0, "reason": "x" * (50 * 1024 * 1024)}', check: errored('invalid_result', /^result is \d+ bytes, more than the 1048576 allowed/) },
  { name: 'nan-score', code: '    return {"score": float("nan"), "reason": "nan"}', check: errored('invalid_result', /finite, got nan/) },
  { name: 'infinite-score', code: '    return {"score": float("inf"), "reason": "inf"}', check: errored('invalid_result', /finite, got inf/) },
  { name: 'not-json-result', code: '    return {"score": 1.0, "reason": object()}', check: errored('invalid_result', /reason must be a string or null, got object/) },
];

interface BoxProcess {
  uid: number;
  pid: number;
  cmd: string;
}

/** Live processes of the sandbox uid range (`ps -eo uid,pid,cmd`, read from /proc). */
function sandboxProcesses(): BoxProcess[] {
  const found: BoxProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (/^State:\s+Z/m.test(status) || uid < SANDBOX_UIDS.first || uid >= SANDBOX_UIDS.first + SANDBOX_UIDS.count) continue;
      found.push({ uid, pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Every file and directory under `root`, relative, sorted. */
function listTree(root: string, prefix = ''): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    names.push(rel);
    if (entry.isDirectory()) names.push(...listTree(root, rel));
  }
  return names.sort();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j['state'] as string);
const criteria = (code: string) => ({ criteria: [{ name: 'attack', codeSnippets: { language: 'python', fileContents: { 'main.py': code } } }] });

describe.skipIf(!available)('adversarial evaluators, each run as a job through the HTTP API', () => {
  let t: TestServer;
  let listener: Server;
  let listenerConnections = 0;
  let dataDir: string;
  let args: AttackArgs;
  let treeBefore: string[];
  let dbStat: { uid: number; mode: number };
  const jobs = new Map<string, Promise<Record<string, unknown>>>();
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    listener = createServer((socket) => {
      listenerConnections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    // The production layout: the SQLite file inside the data directory the builds live in. Not
    // under /tmp: inside the box /tmp is the private tmpfs, so paths there prove nothing.
    dataDir = mkdtempSync(join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'tally-adversarial-'));
    const db = join(dataDir, 'tally.db');
    process.env['TALLY_ADVERSARIAL_CANARY'] = CANARY;
    t = await startTestServer('sqlite', { dataDir, database: `sqlite:${db}`, workerSlots: 2, leaseSeconds: 5, buildConcurrency: 2 });
    const other = await t.server.services.accounts.createAccount({ accountId: 'other' });
    await createEvaluator('other', 'secret-source', `# ${OTHER_SOURCE_MARKER}\n${EVALUATE}`, other.key);
    for (const attack of ATTACKS) await createEvaluator(t.accountId, attack.name, PRELUDE + attack.code + EVALUATE, t.key);
    await waitFor(t, `/v1/accounts/other/evaluators/secret-source`, (e) => e['state'] !== 'BUILDING', 120_000);
    const otherBuild = readdirSync(join(dataDir, 'builds')).find((name) => name.startsWith('other.secret-source.'));
    if (!otherBuild) throw new Error('the other account\'s build is not on disk');
    args = {
      db,
      dataDir,
      otherBuild: join(dataDir, 'builds', otherBuild),
      serverPort: Number(new URL(t.url).port),
      listenerPort: (listener.address() as { port: number }).port,
      token: TOKEN,
      sleepArg: `1000.${parseInt(TOKEN, 16) % 1_000_000}`,
    };
    for (const attack of ATTACKS) {
      const built = await waitFor(t, `${a()}/evaluators/${attack.name}`, (e) => e['state'] !== 'BUILDING', 120_000);
      expect(built['state'], JSON.stringify(built['status'])).toBe('ACTIVE');
    }
    treeBefore = listTree(dataDir);
    dbStat = { uid: statSync(db).uid, mode: statSync(db).mode };
    // All jobs at once: the worker's two slots take them in turn, each test awaits its own.
    for (const attack of ATTACKS) jobs.set(attack.name, startJob(attack));
    for (const job of jobs.values()) job.catch(() => undefined);
  }, 240_000);

  afterAll(async () => {
    await t?.close();
    listener?.close();
    delete process.env['TALLY_ADVERSARIAL_CANARY'];
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function createEvaluator(accountId: string, id: string, code: string, key: string): Promise<void> {
    const created = await t.call('POST', `/v1/accounts/${accountId}/evaluatorsV2`, { key, body: { evaluatorId: id, evaluator: criteria(code) } });
    expect(created.status, created.text).toBe(200);
  }

  async function startJob(attack: Attack): Promise<Record<string, unknown>> {
    const rows = Array.from({ length: ROWS }, (_, i) => ({
      messages: [
        { role: 'user', content: JSON.stringify(args) },
        { role: 'assistant', content: i === ATTACK_ROW ? 'attack' : i % 2 === 0 ? String(i) : 'wrong' },
      ],
      ground_truth: String(i),
    }));
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: attack.name } });
    const uploaded = await t.call('POST', `${a()}/datasets/${attack.name}:upload`, { body: multipartBody(jsonlFile(rows)) });
    expect(uploaded.status, uploaded.text).toBe(200);
    const created = await t.call('POST', `${a()}/evaluationJobs`, {
      body: {
        evaluationJobId: attack.name,
        evaluationJob: {
          evaluator: `${a().slice(4)}/evaluators/${attack.name}`,
          inputDataset: `${a().slice(4)}/datasets/${attack.name}`,
          outputDataset: `${a().slice(4)}/datasets/${attack.name}-out`,
          settings: { perRowTimeoutSeconds: attack.timeoutSeconds ?? 3, maxErrorRate: 0.5 },
        },
      },
    });
    expect(created.status, created.text).toBe(200);
    return waitFor(t, `${a()}/evaluationJobs/${attack.name}`, finished, 230_000);
  }

  async function executionLog(jobId: string): Promise<string> {
    const endpoint = await t.call('GET', `${a()}/evaluationJobs/${jobId}:getExecutionLogEndpoint`);
    return (await t.call('GET', endpoint.json['executionLogSignedUri'] as string, { key: null })).text;
  }

  /** The server still answers, and its database file is intact and still its own. */
  async function expectServerUnharmed(): Promise<void> {
    expect((await t.call('GET', `${a()}/evaluators?pageSize=1`)).status).toBe(200);
    const stat = statSync(args.db);
    expect({ uid: stat.uid, mode: stat.mode }).toEqual(dbStat);
    const db = new Database(args.db, { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('quick_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }

  it.each(ATTACKS.map((attack) => [attack.name, attack] as const))('%s: fails, the job completes, the other rows score', async (_name, attack) => {
    const job = await jobs.get(attack.name)!;
    expect(job['state'], JSON.stringify(job['status'])).toBe('JOB_STATE_COMPLETED');
    const listed = await t.call('GET', `${a()}/evaluationJobs/${attack.name}:listResults?orderBy=index&pageSize=100`);
    const results = listed.json['results'] as Result[];
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: ROWS }, (_, i) => i));
    for (const r of results) {
      if (r.index === ATTACK_ROW) continue;
      expect({ index: r.index, score: r.score, errorKind: r.errorKind }).toEqual({ index: r.index, score: r.index % 2 === 0 ? 1 : 0, errorKind: '' });
    }
    const attackRow = results[ATTACK_ROW]!;
    attack.check(attackRow, { args });
    if (attack.checkLog) attack.checkLog(await executionLog(attack.name));
    expect((job['metrics'] as Record<string, number>)['error_count']).toBe(attackRow.errorKind === '' ? 0 : 1);
    await expectServerUnharmed();
  }, 240_000);

  /**
   * This server's box processes: bwrap and the harness name paths in its data directory, the
   * background sleep has its own argument. Other test runs on this host share the launcher's uid
   * range, so the whole range would blame their warm processes on us.
   */
  const ours = (): BoxProcess[] => sandboxProcesses().filter((p) => p.cmd.includes(dataDir) || p.cmd.includes(args.sleepArg));

  async function settle(): Promise<BoxProcess[]> {
    await Promise.allSettled(jobs.values());
    let left = ours();
    for (let i = 0; i < 15 && left.length > 0; i += 1) {
      await sleep(200);
      left = ours();
    }
    return left;
  }

  it('left nothing behind: no new files outside the box, no connection, the server intact', async () => {
    await Promise.allSettled(jobs.values());
    expect(listenerConnections).toBe(0);
    for (const path of ['/usr', dataDir, join(dataDir, 'builds'), tmpdir()]) expect(existsSync(join(path, `pwned-${TOKEN}`))).toBe(false);
    const builds = readdirSync(join(dataDir, 'builds')).map((b) => join(dataDir, 'builds', b, 'src', `pwned-${TOKEN}`));
    expect(builds.filter((p) => existsSync(p))).toEqual([]);
    // New since the jobs started: only SQLite's own files (WAL, shared memory).
    expect(listTree(dataDir).filter((p) => !treeBefore.includes(p) && !/^tally\.db(-wal|-shm|-journal)?$/.test(p))).toEqual([]);
    await expectServerUnharmed();
  }, 240_000);

  // A worker slot keeps one warm process per evaluator build (and its bwrap wrapper) for the next
  // chunk; anything else the evaluator started (the background `sleep`, the fork bomb's children)
  // is killed by the harness at the end of every batch (reap_leftovers, src/harness/python).
  it('nothing an evaluator started outlives its batch: only the warm harness processes stay', async () => {
    const isWarmHarness = (cmd: string) => /harness\.py|^(\S*\/)?(bwrap|setpriv|prlimit)\b/.test(cmd);
    const left = (await settle()).filter((p) => !isWarmHarness(p.cmd));
    expect(left.map((p) => `${p.uid} ${p.cmd.slice(0, 80)}`)).toEqual([]);
  }, 240_000);

  it('everything the evaluators started dies with their boxes when the worker stops', async () => {
    await Promise.allSettled(jobs.values());
    await t.server.worker?.stop();
    const left = await settle();
    expect(left.map((p) => `${p.uid} ${p.pid} ${p.cmd.slice(0, 80)}`)).toEqual([]);
    expect((await t.call('GET', `${a()}/evaluators?pageSize=1`)).status).toBe(200);
  }, 240_000);
});

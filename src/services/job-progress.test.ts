import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_SETTINGS, type JobRecord } from '../domain/jobs.js';
import { ProgressSampler } from './job-progress.js';

const job = (rowsDone: number, state: JobRecord['state'] = 'JOB_STATE_RUNNING') =>
  ({ accountId: 'a', id: 'j', state, progress: { rowsTotal: 1000, rowsDone, rowsErrored: 0, startTime: '', endTime: '' }, settings: DEFAULT_JOB_SETTINGS }) as unknown as JobRecord;

describe('recent rows per second', () => {
  it('is the pace over the samples of the last minute, once two seconds apart', () => {
    const sampler = new ProgressSampler();
    expect(sampler.recentRate(job(0), 0)).toBeUndefined();
    expect(sampler.recentRate(job(10), 1_000)).toBeUndefined();
    expect(sampler.recentRate(job(40), 4_000)).toBe(10);
    // A minute later the first samples are gone: a slow start no longer weighs on the pace.
    expect(sampler.recentRate(job(100), 61_500)).toBeCloseTo((100 - 40) / 57.5, 5);
    expect(sampler.recentRate(job(400), 64_000)).toBeCloseTo((400 - 40) / 60, 5);
  });

  it('forgets a job once it has ended', () => {
    const sampler = new ProgressSampler();
    sampler.recentRate(job(0), 0);
    expect(sampler.recentRate(job(1000, 'JOB_STATE_COMPLETED'), 5_000)).toBeUndefined();
    expect(sampler.recentRate(job(0), 6_000)).toBeUndefined();
  });
});

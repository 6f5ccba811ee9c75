import { TERMINAL_JOB_STATES, type Job } from '../api.js';
import { fmtInt } from '../ui.js';

export const isRunning = (job: Job) => !TERMINAL_JOB_STATES.has(job.state);
export const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : fmtInt(Math.round(ms)));

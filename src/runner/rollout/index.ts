export { createRolloutStage, completionsUrl, type RolloutStage, type RolledRow } from './stage.js';
export { rolloutAndScore } from './score.js';
export { complete, retryAfterMs, type CompletionOutcome } from './client.js';
export { parseRateLimits } from './limits.js';

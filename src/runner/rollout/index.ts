export { createRolloutStage, completionsUrl, type RolloutStage, type RolledRow } from './stage.js';
export { rolloutAndScore } from './score.js';
export { complete, embed, retryAfterMs, type CompletionOutcome, type EmbeddingsOutcome } from './client.js';
export { parseRateLimits } from './limits.js';

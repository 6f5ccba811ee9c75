// The jobs pages; each has a file of its own under jobs/, and this module is their one face.
export { JobCreate } from './jobs/job-create.js';
export { JobDetail } from './jobs/job-detail.js';
export { JobList } from './jobs/job-list.js';
export { ScoreWithCi } from './jobs/score-with-ci.js';

/**
 * The application jobs built on the engine, one file each, and how a job is declared and found.
 * Jobs name their topics; the runner binds them to in-process topics, replay files or Kafka.
 */

export type { ChatActivity } from './chat-activity.ts';
export { defineJob, isJobDefinition, type JobContext, type JobDefinition } from './job.ts';
export { BUILT_IN_JOBS, JobNotFoundError, loadJob } from './registry.ts';

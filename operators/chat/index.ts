/**
 * Chat operators: the filters every chat job starts with (commands and bots out) and the 5-second
 * bucket counter whose zero-filled series the highlights detectors judge.
 */
export { type Bucket, type BucketOptions, bucketCounts, DEFAULT_QUIET_STOP_MS } from './bucket-counts.ts';
export { DEFAULT_BOTS, dropBots, parseBotList } from './drop-bots.ts';
export { dropCommands, isCommand } from './drop-commands.ts';

// The built-in chat-activity job, run over generated chat (`scout generate chat --channels 3
// --hours 0.2 --seed 7`, two of its channels).
export { default } from '../../../pipeline/jobs/chat-activity.ts';

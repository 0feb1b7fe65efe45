// The job of the README's "Writing a job": `npx scout run docs/examples/emote-counts.ts`.
import { count, defineJob, pipeline, tumbling } from 'streamscout';
import type { ChatLine } from 'streamscout/schemas';

export default defineJob({
  name: 'emote-counts',
  description: 'KEKW per channel per minute',
  input: 'chat-messages',
  output: 'emote-counts',
  build(ctx) {
    const p = pipeline('emote-counts');
    p.from(ctx.input<ChatLine>('chat-messages'), { timestamp: (m) => m.ts, outOfOrdernessMs: 2_000 })
      .filter((m) => m.text.includes('KEKW'), 'kekw-only')
      .keyBy((m) => m.broadcaster_login)
      .window(tumbling(60_000))
      .aggregate(count(), 'per-minute')
      .to(ctx.output('emote-counts'));
    return p;
  },
});

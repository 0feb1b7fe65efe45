/**
 * A job that touches most operators at once — split, flatMap, union, sliding and session windows,
 * a keyed process step with event-time timers, and event-time delay — so that any change in their
 * output shows up as a diff against expected.jsonl.
 */
import {
  count,
  defineJob,
  outputTag,
  pipeline,
  session,
  sliding,
  valueState,
} from '../../../pipeline/index.ts';
import type { ChatLine } from '../../../schemas/chat-line.ts';

type Out = { kind: string; key: string; start?: number; end?: number; value: number | string };

export default defineJob({
  name: 'golden-operators',
  description: 'Exercises split, flatMap, union, sliding and session windows, timers and delay',
  input: 'chat-messages',
  output: 'golden',
  build(ctx) {
    const p = pipeline('golden-operators');
    const chat = p.from(ctx.input<ChatLine>('chat-messages'), {
      timestamp: (m) => m.ts,
      outOfOrdernessMs: 1_000,
      id: 'chat',
    });
    const { commands, rest } = chat.split({ commands: (m) => m.text.startsWith('!') }, 'route');
    const words = rest
      .flatMap(
        (m) =>
          m.text
            .split(/\s+/)
            .filter((w) => /^([A-Z][a-z]+[A-Z]\w*|[a-z]+[A-Z]\w+|[A-Z]{3,})$/.test(w))
            .map((w) => ({ ...m, text: w })),
        'emotes',
      )
      .keyBy((m) => m.text)
      .window(sliding(60_000, 20_000))
      .aggregate(count<ChatLine>(), 'emotes-per-minute')
      .filter((w) => w.value >= 10, 'frequent-emotes')
      .map((w): Out => ({ kind: 'emote', key: w.key, start: w.start, end: w.end, value: w.value }));
    const sessions = rest
      .keyBy((m) => m.user)
      .window(session(30_000), { lateOutput: outputTag<ChatLine>('late') })
      .aggregate(count<ChatLine>(), 'user-sessions')
      .filter((w) => w.value >= 5)
      .map((w): Out => ({ kind: 'session', key: w.key, start: w.start, end: w.end, value: w.value }));
    const quiet = commands
      .keyBy((m) => m.broadcaster_login)
      .process<Out, { last: ReturnType<typeof valueState<string>> }>(
        {
          state: { last: valueState<string>() },
          onElement(m, c) {
            c.state.last.update(m.text.split(' ')[0]!);
            c.timers.registerEventTimer(c.timestamp + 10_000);
          },
          onTimer(t, c) {
            c.emit({ kind: 'command-echo', key: c.key, start: t, value: c.state.last.value() ?? '' });
          },
        },
        'command-echo',
      )
      .delay(5_000, { id: 'echo-delay' });
    words.union([sessions, quiet], 'all').to(ctx.output<Out>('golden'), 'golden-out');
    return p;
  },
});

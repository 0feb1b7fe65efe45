/**
 * Type-level tests of the fluent builder, checked by `tsc --noEmit` (not run by the test runner).
 * Each `@ts-expect-error` line must fail to compile; if the API ever accepts it, the directive
 * itself becomes the compile error. `expectTypeOf` pins down what the API infers.
 */
import { expectTypeOf } from 'expect-type';
import { count, sum, tumbling } from '../operators/window/index.ts';
import { type KeyedStream, pipeline, type Stream, type WindowedStream } from './builder.ts';
import { type AsyncFailure, outputTag, type Windowed } from './graph.ts';
import { listState, mapState, valueState } from './state/api.ts';
import { collect, fromArray } from './testing/sources.ts';

interface Chat {
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  readonly bits: number;
  readonly ts: number;
}

const chat = () => pipeline('types').from(fromArray<Chat>([]), { timestamp: (m) => m.ts });

// --- map and filter carry the record type ------------------------------------------------------

const lengths = chat().map((m) => ({ channel: m.channel, length: m.text.length }));
expectTypeOf(lengths).toEqualTypeOf<Stream<{ channel: string; length: number }>>();
lengths.map((r) => r.length);
// @ts-expect-error — the mapped record has no `text` any more
lengths.map((r) => r.text);

expectTypeOf(chat().filter((m) => m.bits > 0)).toEqualTypeOf<Stream<Chat>>();
expectTypeOf(chat().flatMap((m) => m.text.split(' '))).toEqualTypeOf<Stream<string>>();
// @ts-expect-error — a filter predicate returns a boolean
chat().filter((m) => m.text);

// --- only a keyed stream has windows and keyed state -------------------------------------------

// @ts-expect-error — window() needs keyBy() first
chat().window(tumbling(1_000));
// @ts-expect-error — process() with state needs keyBy() first
chat().process({ onElement() {} });

const byChannel = chat().keyBy((m) => m.channel);
expectTypeOf(byChannel).toEqualTypeOf<KeyedStream<string, Chat>>();
expectTypeOf(chat().keyBy((m) => m.bits)).toEqualTypeOf<KeyedStream<number, Chat>>();
// @ts-expect-error — a key is a string or a number, not an object
chat().keyBy((m) => ({ channel: m.channel, user: m.user }));
// @ts-expect-error — nor a boolean
chat().keyBy((m) => m.bits > 0);
// @ts-expect-error — a keyed stream is not a stream: no map until a window or process step
byChannel.map((m) => m);

expectTypeOf(byChannel.window(tumbling(1_000))).toEqualTypeOf<WindowedStream<string, Chat>>();

// --- window results ----------------------------------------------------------------------------

const counts = byChannel.window(tumbling(5_000)).aggregate(count());
expectTypeOf(counts).toEqualTypeOf<Stream<Windowed<string, number>>>();
expectTypeOf(
  chat()
    .keyBy((m) => m.bits)
    .window(tumbling(5_000))
    .aggregate(count()),
).toEqualTypeOf<Stream<Windowed<number, number>>>();
counts.map((w) => w.value.toFixed(0));
// @ts-expect-error — a count is a number
counts.map((w) => w.value.toUpperCase());
// @ts-expect-error — the window key is a string here
counts.map((w): number => w.key);
// @ts-expect-error — a windowed stream must be finished (aggregate, reduce, process) before map
byChannel.window(tumbling(5_000)).map((m) => m);

const bitsPerChannel = byChannel.window(tumbling(60_000)).aggregate(sum((m) => m.bits));
expectTypeOf(bitsPerChannel).toEqualTypeOf<Stream<Windowed<string, number>>>();
// @ts-expect-error — sum() reads a number
byChannel.window(tumbling(60_000)).aggregate(sum((m) => m.text));

expectTypeOf(byChannel.window(tumbling(1_000)).reduce((a, b) => (a.bits > b.bits ? a : b))).toEqualTypeOf<
  Stream<Windowed<string, Chat>>
>();

const firstWords = byChannel.window(tumbling(1_000)).process<string>((elements, ctx) => {
  expectTypeOf(elements).toEqualTypeOf<readonly Chat[]>();
  expectTypeOf(ctx.key).toEqualTypeOf<string>();
  ctx.emit(elements[0]?.text ?? '');
  // @ts-expect-error — this window process emits strings
  ctx.emit(42);
});
expectTypeOf(firstWords).toEqualTypeOf<Stream<string>>();

// --- keyed state handles are typed by their descriptors ----------------------------------------

const processed = byChannel.process({
  state: {
    last: valueState<number>({ ttlMs: 60_000 }),
    recent: listState<string>(),
    perUser: mapState<string, number>(),
  },
  onElement(value, ctx) {
    expectTypeOf(value).toEqualTypeOf<Chat>();
    expectTypeOf(ctx.key).toEqualTypeOf<string>();
    expectTypeOf(ctx.state.last.value()).toEqualTypeOf<number | undefined>();
    expectTypeOf(ctx.state.recent.get()).toEqualTypeOf<readonly string[]>();
    expectTypeOf(ctx.state.perUser.get('u')).toEqualTypeOf<number | undefined>();
    ctx.state.last.update(value.bits);
    // @ts-expect-error — `last` holds numbers
    ctx.state.last.update(value.text);
    ctx.state.recent.add(value.text);
    // @ts-expect-error — `recent` holds strings
    ctx.state.recent.add(value.bits);
    ctx.state.perUser.put(value.user, 1);
    // @ts-expect-error — `perUser` maps to numbers
    ctx.state.perUser.put(value.user, 'one');
    // @ts-expect-error — `perUser` is keyed by string
    ctx.state.perUser.put(1, 1);
    // @ts-expect-error — only declared state exists
    ctx.state.undeclared.value();
    ctx.emit({ channel: ctx.key, total: ctx.state.last.value() ?? 0 });
  },
});
expectTypeOf(processed).toEqualTypeOf<Stream<unknown>>(); // R is not inferred from the body: name it

const typedProcess = byChannel.process<{ channel: string; n: number }>({
  onElement(value, ctx) {
    ctx.emit({ channel: value.channel, n: 1 });
    // @ts-expect-error — the declared output type has `n`, not `count`
    ctx.emit({ channel: value.channel, count: 1 });
    ctx.timers.registerEventTimer(ctx.timestamp + 1_000);
  },
  onTimer(timestamp, ctx) {
    expectTypeOf(timestamp).toEqualTypeOf<number>();
    expectTypeOf(ctx.timeDomain).toEqualTypeOf<'event' | 'processing'>();
  },
});
expectTypeOf(typedProcess).toEqualTypeOf<Stream<{ channel: string; n: number }>>();

// --- split, union, side outputs, asyncMap -------------------------------------------------------

const routes = chat().split({ commands: (m) => m.text.startsWith('!'), cheers: (m) => m.bits > 0 });
expectTypeOf(routes).toEqualTypeOf<{
  readonly commands: Stream<Chat>;
  readonly cheers: Stream<Chat>;
  readonly rest: Stream<Chat>;
}>();
// @ts-expect-error — there is no such route
routes.links;

routes.commands.union([routes.rest]);
// @ts-expect-error — union needs streams of the same type
routes.commands.union([lengths]);

const late = outputTag<Chat>('late');
expectTypeOf(
  byChannel.window(tumbling(1_000), { lateOutput: late }).aggregate(count()).sideOutput(late),
).toEqualTypeOf<Stream<Chat>>();
// @ts-expect-error — a window's late output carries the window's input type
byChannel.window(tumbling(1_000), { lateOutput: outputTag<number>('late-n') });

const enriched = chat().asyncMap(async (m): Promise<Chat & { lang: string }> => ({ ...m, lang: 'en' }), {
  onFailure: outputTag<AsyncFailure<Chat>>('failed'),
});
expectTypeOf(enriched).toEqualTypeOf<Stream<Chat & { lang: string }>>();
// @ts-expect-error — a failure tag carries AsyncFailure of the input type
chat().asyncMap(async (m) => m, { onFailure: outputTag<AsyncFailure<string>>('failed') });
// @ts-expect-error — asyncMap needs a function returning a promise
chat().asyncMap((m) => m);

// --- sinks -------------------------------------------------------------------------------------

expectTypeOf(counts.to(collect<Windowed<string, number>>())).toEqualTypeOf<ReturnType<typeof pipeline>>();
// @ts-expect-error — a sink of strings cannot take window results
counts.to(collect<string>());
const bits = chat().map((m) => m.bits);
// @ts-expect-error — nor a sink of chat messages take numbers
bits.to(collect<Chat>());

// A sink that needs more fields than the stream carries is refused (SinkWriter.write is a property,
// so its parameter is checked contravariantly).
// @ts-expect-error — records of the stream lack `extra`
chat().to(collect<Chat & { extra: string }>());

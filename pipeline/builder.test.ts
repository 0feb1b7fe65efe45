import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, session, sliding, tumbling } from '../operators/window/index.ts';
import { GraphError, pipeline } from './builder.ts';
import { type Aggregator, formatPlan, outputTag } from './graph.ts';
import { valueState } from './state/api.ts';
import { collect, fromArray } from './testing/sources.ts';

interface Msg {
  readonly channel: string;
  readonly text: string;
  readonly ts: number;
}

const msgs = () => fromArray<Msg>([]);

describe('step ids', () => {
  it('numbers unnamed steps per kind: kind-1, kind-2, …', () => {
    const p = pipeline('ids');
    p.from(msgs())
      .map((m) => m)
      .filter(() => true)
      .map((m) => m.text)
      .filter(() => true)
      .to(collect());
    assert.deepEqual(
      p.graph().steps.map((s) => s.id),
      ['source-1', 'map-1', 'filter-1', 'map-2', 'filter-2', 'sink-1'],
    );
  });

  it('uses explicit ids, given as a string or as { id }, and leaves the counters to unnamed steps', () => {
    const p = pipeline('ids');
    p.from(msgs(), { id: 'chat' })
      .map((m) => m, 'normalise')
      .map((m) => m)
      .filter(() => true, { id: 'drop-bots' })
      .keyBy((m) => m.channel, 'by-channel')
      .window(tumbling(1_000))
      .aggregate(count(), { id: 'count-1s' })
      .to(collect(), 'out');
    assert.deepEqual(
      p.graph().steps.map((s) => s.id),
      ['chat', 'normalise', 'map-1', 'drop-bots', 'by-channel', 'count-1s', 'out'],
    );
  });

  it('gives an unnamed step an id no explicit step already holds', () => {
    const p = pipeline('ids');
    const s = p.from(msgs()).map((m) => m, 'map-1');
    assert.equal(s.map((m) => m).stepId, 'map-2');
    assert.equal(s.map((m) => m, 'map-4').map((m) => m).stepId, 'map-3');
    assert.equal(s.map((m) => m).stepId, 'map-5');
  });

  it('refuses an id used twice', () => {
    const p = pipeline('dup');
    const s = p.from(msgs()).map((m) => m, 'clean');
    assert.throws(
      () => s.filter(() => true, 'clean'),
      (e: unknown) => e instanceof GraphError && /step id "clean" is used twice/.test(e.message),
    );
  });

  it('refuses ids with characters outside letters, digits, . _ -', () => {
    const s = pipeline('bad').from(msgs());
    for (const id of ['a/b', 'has space', '', '-leading-dash', 'ünï', 'a:b']) {
      assert.throws(() => s.map((m) => m, id), GraphError, `id ${JSON.stringify(id)}`);
    }
    assert.doesNotThrow(() => s.map((m) => m, 'A.b_c-9'));
  });

  it('refuses a graph edge to a step of another pipeline', () => {
    const a = pipeline('a').from(msgs());
    const b = pipeline('b').from(msgs());
    assert.throws(() => a.union([b]), /different pipelines/);
  });

  it('exposes the step a stream comes from', () => {
    const s = pipeline('p')
      .from(msgs())
      .map((m) => m.text, 'texts');
    assert.equal(s.stepId, 'texts');
  });

  it('builds data and runs nothing', () => {
    let calls = 0;
    const p = pipeline('inert');
    p.from(msgs())
      .map((m) => {
        calls++;
        return m;
      })
      .to(collect());
    assert.equal(calls, 0);
    const graph = p.graph();
    assert.equal(graph.name, 'inert');
    assert.equal(graph.steps[1]!.spec.kind, 'map');
  });
});

describe('split', () => {
  it('declares one output per route plus rest, and each stream reads its own output', () => {
    const p = pipeline('split');
    const routes = p
      .from(msgs())
      .split({ commands: (m) => m.text.startsWith('!'), links: (m) => m.text.includes('http') }, 'route');
    routes.commands.to(collect(), 'cmd-out');
    routes.rest.to(collect(), 'rest-out');
    const steps = p.graph().steps;
    const split = steps.find((s) => s.id === 'route')!;
    assert.deepEqual(split.outputs, ['commands', 'links', 'rest']);
    assert.deepEqual(Object.keys(routes).sort(), ['commands', 'links', 'rest']);
    assert.deepEqual(steps.find((s) => s.id === 'cmd-out')!.inputs, [{ step: 'route', output: 'commands' }]);
    assert.deepEqual(steps.find((s) => s.id === 'rest-out')!.inputs, [{ step: 'route', output: 'rest' }]);
    assert.equal(routes.links.stepId, 'route');
  });

  it('reserves the route name rest', () => {
    assert.throws(
      () =>
        pipeline('p')
          .from(msgs())
          .split({ rest: () => true }),
      /reserved/,
    );
  });
});

describe('side outputs', () => {
  it('reads a declared side output: window late data, process outputs, asyncMap failures', () => {
    const late = outputTag<Msg>('late');
    const alerts = outputTag<string>('alerts');
    const failed = outputTag<{ value: Msg; error: string; attempts: number }>('failed');
    const p = pipeline('sides');
    const keyed = p.from(msgs()).keyBy((m) => m.channel);
    const counted = keyed.window(tumbling(1_000), { lateOutput: late }).aggregate(count(), 'counts');
    counted.sideOutput(late).to(collect(), 'late-out');
    const processed = keyed.process({ onElement() {} }, { id: 'proc', outputs: [alerts] });
    processed.sideOutput(alerts).to(collect(), 'alerts-out');
    const enriched = p.from(msgs()).asyncMap(async (m) => m, { onFailure: failed, id: 'enrich' });
    enriched.sideOutput(failed).to(collect(), 'failed-out');

    const steps = p.graph().steps;
    assert.deepEqual(steps.find((s) => s.id === 'counts')!.outputs, ['late']);
    assert.deepEqual(steps.find((s) => s.id === 'proc')!.outputs, ['alerts']);
    assert.deepEqual(steps.find((s) => s.id === 'enrich')!.outputs, ['failed']);
    assert.deepEqual(steps.find((s) => s.id === 'late-out')!.inputs, [{ step: 'counts', output: 'late' }]);
  });

  it('throws for a tag the step does not declare', () => {
    const p = pipeline('sides');
    const counted = p
      .from(msgs())
      .keyBy((m) => m.channel)
      .window(tumbling(1_000))
      .aggregate(count(), 'counts');
    assert.throws(
      () => counted.sideOutput(outputTag<Msg>('late')),
      (e: unknown) => e instanceof GraphError && e.message === 'step "counts" declares no side output "late"',
    );
    const processed = p
      .from(msgs())
      .keyBy((m) => m.channel)
      .process({ onElement() {} }, { outputs: [outputTag('declared')] });
    assert.throws(() => processed.sideOutput(outputTag('other')), GraphError);
  });
});

describe('windows', () => {
  const noMerge: Aggregator<Msg, number, number> = { create: () => 0, add: (n) => n + 1, result: (n) => n };

  it('refuses an aggregator without merge() on session windows', () => {
    const keyed = pipeline('p')
      .from(msgs())
      .keyBy((m) => m.channel);
    assert.throws(
      () => keyed.window(session(1_000)).aggregate(noMerge),
      /session windows need an aggregator with merge\(\)/,
    );
  });

  it('accepts an aggregator without merge() on fixed windows, and reduce or process on sessions', () => {
    const keyed = pipeline('p')
      .from(msgs())
      .keyBy((m) => m.channel);
    assert.doesNotThrow(() => keyed.window(tumbling(1_000)).aggregate(noMerge));
    assert.doesNotThrow(() => keyed.window(sliding(1_000, 500)).aggregate(noMerge));
    assert.doesNotThrow(() => keyed.window(session(1_000)).reduce((a) => a));
    assert.doesNotThrow(() => keyed.window(session(1_000)).process(() => {}));
  });

  it('refuses a negative or non-finite allowed lateness', () => {
    const keyed = pipeline('p')
      .from(msgs())
      .keyBy((m) => m.channel);
    assert.throws(() => keyed.window(tumbling(1_000), { allowedLatenessMs: -1 }), /allowed lateness/);
    assert.throws(() => keyed.window(tumbling(1_000), { allowedLatenessMs: Number.NaN }), /allowed lateness/);
  });

  it('reads the keyBy step, and records assigner and lateness in the spec', () => {
    const p = pipeline('p');
    p.from(msgs(), { id: 'src' })
      .keyBy((m) => m.channel, 'key')
      .window(sliding(10_000, 5_000), { allowedLatenessMs: 2_000 })
      .aggregate(count(), 'agg');
    const agg = p.graph().steps.find((s) => s.id === 'agg')!;
    assert.deepEqual(agg.inputs, [{ step: 'key' }]);
    assert.equal(agg.spec.kind, 'window');
    if (agg.spec.kind !== 'window') return;
    assert.deepEqual(agg.spec.assigner, { kind: 'sliding', sizeMs: 10_000, slideMs: 5_000, offsetMs: 0 });
    assert.equal(agg.spec.allowedLatenessMs, 2_000);
    assert.equal(agg.label, 'window sliding 10s every 5s, lateness 2000 ms → aggregate');
  });
});

describe('other steps', () => {
  it('refuses an asyncMap concurrency below 1 or fractional', () => {
    const s = pipeline('p').from(msgs());
    assert.throws(() => s.asyncMap(async (m) => m, { concurrency: 0 }), /concurrency must be ≥ 1/);
    assert.throws(() => s.asyncMap(async (m) => m, { concurrency: 1.5 }), /concurrency must be ≥ 1/);
  });

  it('refuses a negative delay', () => {
    assert.throws(() => pipeline('p').from(msgs()).delay(-1), /delay must be ≥ 0 ms/);
  });

  it('lists the declared state names of a process step in its label', () => {
    const p = pipeline('p');
    p.from(msgs())
      .keyBy((m) => m.channel)
      .process(
        { state: { last: valueState<number>(), seen: valueState<boolean>() }, onElement() {} },
        'dedupe',
      );
    assert.equal(p.graph().steps.find((s) => s.id === 'dedupe')!.label, 'process state: last, seen');
  });
});

describe('formatPlan', () => {
  it('prints every step on its own line with its inputs and side outputs', () => {
    const late = outputTag<Msg>('late-chat');
    const p = pipeline('chat-activity');
    const chat = p.from(msgs(), { id: 'chat', timestamp: (m) => m.ts });
    const { commands, rest } = chat.split({ commands: (m) => m.text.startsWith('!') }, 'route');
    commands.to(collect(), 'commands-out');
    const counts = rest
      .filter((m) => m.text.length > 0, 'non-empty')
      .keyBy((m) => m.channel, 'by-channel')
      .window(tumbling(5_000), { lateOutput: late })
      .aggregate(count(), 'count-5s');
    counts.sideOutput(late).to(collect(), 'late-out');
    counts
      .union([chat.map(() => ({ key: 'x', start: 0, end: 0, value: 0 }), 'fake')], 'merged')
      .to(collect(), 'out');

    const plan = formatPlan(p.graph());
    const lines = plan.split('\n');
    assert.equal(lines[0], 'pipeline chat-activity (10 steps)');
    assert.equal(lines.length, 1 + p.graph().steps.length);
    for (const step of p.graph().steps) {
      assert.ok(
        lines.some((l) => l.trimStart().startsWith(`${step.id} `)),
        `step ${step.id} is listed`,
      );
    }
    const line = (id: string) => lines.find((l) => l.trimStart().startsWith(`${id} `))!;
    assert.match(line('chat'), /test partitions \(0\)$/);
    assert.match(line('route'), /split → commands \| rest {2}← chat {2}⇢ side outputs: commands, rest$/);
    assert.match(line('commands-out'), /← route\.commands$/);
    assert.match(line('non-empty'), /filter {2}← route\.rest$/);
    assert.match(
      line('count-5s'),
      /window tumbling 5s → aggregate {2}← by-channel {2}⇢ side outputs: late-chat$/,
    );
    assert.match(line('late-out'), /← count-5s\.late-chat$/);
    assert.match(line('merged'), /union of 2 {2}← count-5s, fake$/);
    // Ids are padded to one column, so every label starts at the same place.
    const width = Math.max(...p.graph().steps.map((s) => s.id.length));
    p.graph().steps.forEach((step, i) => {
      const l = lines[i + 1]!;
      assert.equal(l.slice(0, 2 + width + 2), `  ${step.id.padEnd(width)}  `);
      assert.equal(l.slice(2 + width + 2), l.slice(2 + width + 2).trimStart());
    });
  });
});

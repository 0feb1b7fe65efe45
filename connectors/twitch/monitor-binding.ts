/**
 * Binds the monitor job's `twitch:` names (pipeline/jobs/monitor.ts) to Twitch: the poll of the
 * top streams through Helix, the chat through `TwitchChat`, EventSub notifications through the
 * handler the caller mounts, and the membership sink that joins and leaves chats and keeps the
 * EventSub subscriptions of the joined channels. Everything here is configuration: pointed at the
 * fakes (test/fakes/twitch) it is exactly what runs against Twitch.
 */
import type { AuthProvider } from '@twurple/auth';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChatMembership } from '../../operators/monitor/chat-membership.ts';
import { TWITCH_BINDINGS } from '../../pipeline/jobs/monitor.ts';
import type { Clock } from '../../pipeline/time/clock.ts';
import type { Sink, SinkWriter, Source } from '../../pipeline/types.ts';
import type { ChatMessage, StreamLifecycle } from '../../schemas/avro-types.ts';
import { type ChatHealth, TwitchChat } from './chat.ts';
import type { EventSubHandlerOptions, EventSubSubscriptions, StreamStatusEvent } from './eventsub.ts';
import type { HelixClient } from './helix.ts';
import { liveQueue } from './live-queue.ts';
import { topStreamsSource } from './top-streams-source.ts';

export interface MonitorBindingOptions {
  readonly clock: Clock;
  readonly helix: HelixClient;
  /** The user token's provider (scope chat:read) for chat. */
  readonly chatAuth: AuthProvider;
  /** Chat server origin; default Twitch's. */
  readonly chatUrl?: string;
  /** Keeps the EventSub subscriptions of the joined channels; absent: no EventSub. */
  readonly subscriptions?: EventSubSubscriptions;
  /** Clipping-disabled broadcaster ids (the `streamers` table). */
  readonly excluded?: () => Promise<readonly number[]>;
  readonly pollIntervalMs: number;
  readonly top: number;
  readonly log: (line: string) => void;
}

/** What one monitor run's Twitch side counts, for its /metrics. */
export interface MonitorStats {
  readonly activeStreams: number;
  readonly joinedChats: number;
  readonly chatMessages: number;
  readonly chat: ChatHealth;
  readonly pollErrors: number;
}

export interface MonitorBinding {
  readonly inputs: ReadonlyMap<string, Source<unknown>>;
  readonly outputs: ReadonlyMap<string, Sink<unknown>>;
  readonly chat: TwitchChat;
  /** Handler options for `eventSubHandler` (add `secret`): its events feed the `twitch:eventsub` source. */
  readonly eventSubEvents: Pick<EventSubHandlerOptions, 'onEvent' | 'onRevocation'>;
  stats(): MonitorStats;
  /** Registers the monitor's gauges and counters (active streams, chats, messages, health, API). */
  register(registry: Registry): void;
  close(): Promise<void>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function monitorBinding(o: MonitorBindingOptions): MonitorBinding {
  const chatQueue = liveQueue<ChatMessage>('twitch chat');
  const eventQueue = liveQueue<StreamLifecycle>('twitch eventsub');
  let activeStreams = 0;
  let pollErrors = 0;
  const chat = new TwitchChat({
    authProvider: o.chatAuth,
    clock: o.clock,
    ...(o.chatUrl !== undefined ? { url: o.chatUrl } : {}),
    onMessage: (m) => chatQueue.push(m),
    logger: { info: (line) => o.log(`chat: ${line}`), warn: (line) => o.log(`chat: ${line}`) },
  });
  const tracked = new Set<number>();
  let syncing: Promise<void> = Promise.resolve();
  const sync = () => {
    const subscriptions = o.subscriptions;
    if (!subscriptions) return;
    const ids = [...tracked];
    syncing = syncing
      .then(() => subscriptions.sync(ids))
      .then((result) => {
        for (const f of result.failed) o.log(`eventsub: ${f.error.message}`);
      })
      .catch((error: Error) => o.log(`eventsub: sync failed: ${error.message}`));
  };

  // Acts on the whole desired set of each poll, not only its changes: after a restore the job's
  // state knows which chats it was in, but this connection starts in none.
  const membership: Sink<ChatMembership> = {
    describe: () => 'twitch chat joins and EventSub subscriptions',
    open: (): SinkWriter<ChatMembership> => ({
      write(polls) {
        const latest = polls.at(-1);
        if (latest === undefined) return;
        const wanted = new Map(latest.channels.map((m) => [m.login, m.id]));
        for (const login of chat.channels()) if (!wanted.has(login)) chat.part(login);
        for (const login of wanted.keys()) {
          // A refused or timed-out join is reported, not fatal: the channel may be suspended.
          chat.join(login).catch((error: Error) => o.log(`chat: ${error.message}`));
        }
        const ids = [...wanted.values()];
        if (ids.length !== tracked.size || ids.some((id) => !tracked.has(id))) {
          tracked.clear();
          for (const id of ids) tracked.add(id);
          sync();
        }
      },
      flush: () => syncing,
      close: () => syncing,
    }),
  };

  const polls = topStreamsSource({
    fetchTop: async (limit) => {
      const streams = await o.helix.topStreams(limit);
      activeStreams = streams.length;
      return streams;
    },
    ...(o.excluded ? { excluded: o.excluded } : {}),
    intervalMs: o.pollIntervalMs,
    limit: o.top,
    onError: (line) => {
      pollErrors++;
      o.log(line);
    },
  });

  const toLifecycle = (e: StreamStatusEvent): StreamLifecycle => ({
    event_type: e.type,
    broadcaster_id: e.broadcasterId,
    broadcaster_login: e.broadcasterLogin,
    rank: null,
    timestamp: seconds(e.at),
    source: 'eventsub',
  });

  const stats = (): MonitorStats => ({
    activeStreams,
    joinedChats: chat.channels().length,
    chatMessages: chatQueue.pushed(),
    chat: chat.health(),
    pollErrors,
  });

  return {
    inputs: new Map<string, Source<unknown>>([
      [TWITCH_BINDINGS.polls, polls as Source<unknown>],
      [TWITCH_BINDINGS.chat, chatQueue as Source<unknown>],
      [TWITCH_BINDINGS.eventSub, eventQueue as Source<unknown>],
    ]),
    outputs: new Map<string, Sink<unknown>>([[TWITCH_BINDINGS.membership, membership as Sink<unknown>]]),
    chat,
    eventSubEvents: {
      onEvent: (e) => eventQueue.push(toLifecycle(e)),
      onRevocation: async (r) => {
        o.log(`eventsub: subscription ${r.subscriptionId} (${r.subscriptionType}) revoked: ${r.reason}`);
        if (o.subscriptions) await o.subscriptions.handleRevocation(r);
      },
    },
    stats,
    register(registry) {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
      gauge(
        'scout_twitch_active_streams',
        'Live streams in the last poll of the top list',
        () => activeStreams,
      );
      gauge('scout_twitch_joined_chats', 'Chats the monitor is in', () => chat.channels().length);
      gauge('scout_twitch_chat_connected', '1 while the chat connection is logged in', () =>
        chat.health().connected ? 1 : 0,
      );
      gauge(
        'scout_twitch_chat_reconnects',
        'Chat connections lost or replaced',
        () => chat.health().reconnects,
      );
      gauge('scout_twitch_chat_dropped', 'Chat messages dropped because the job fell behind', () =>
        chatQueue.dropped(),
      );
      new Counter({
        name: 'scout_twitch_chat_messages_total',
        help: 'Chat messages received (rate() gives messages/s)',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(chatQueue.pushed());
        },
      });
      new Counter({
        name: 'scout_twitch_api_errors_total',
        help: 'Helix calls that failed, by kind (each attempt), and failed polls',
        labelNames: ['kind'],
        registers: [registry],
        collect: function (this: Counter<'kind'>) {
          this.reset();
          for (const [kind, n] of Object.entries(o.helix.stats().errors)) this.inc({ kind }, n);
          this.inc({ kind: 'poll' }, pollErrors);
        },
      });
      new Counter({
        name: 'scout_twitch_rate_limit_waits_total',
        help: 'Waits for the Helix rate-limit bucket to refill',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(o.helix.stats().rateLimitWaits);
        },
      });
    },
    async close() {
      chat.close();
      await syncing;
    },
  };
}

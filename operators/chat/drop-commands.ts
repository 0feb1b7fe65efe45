/**
 * Drops chat commands (`!uptime`, `!song`): they are addressed to bots, and a wave of them after a
 * streamer says "type !join" is not a highlight.
 */
import type { Stream } from '../../pipeline/builder.ts';

/** True for a message the highlights rules treat as a command: its text starts with `!`. */
export function isCommand(text: string): boolean {
  return text.startsWith('!');
}

/**
 * Keeps only messages that are not commands.
 *
 * @example
 * dropCommands(p.from(chat, { timestamp: (m) => m.ts })).keyBy((m) => m.broadcaster_login);
 */
export function dropCommands<T extends { readonly text: string }>(
  stream: Stream<T>,
  id = 'drop-commands',
): Stream<T> {
  return stream.filter((m) => !isCommand(m.text), id);
}

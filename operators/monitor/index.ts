/**
 * Monitor operators: ranking a poll of the top live streams, the chat membership with hysteresis
 * (join in the top 5, leave out of the top 10), and presence (online / offline / rank events,
 * offline after a stream has been missing for N polls).
 */
export {
  chatMembership,
  decideMembership,
  type MembershipChange,
  type MembershipOptions,
} from './chat-membership.ts';
export { type PresenceOptions, presence } from './presence.ts';
export { rankPoll, type TopPoll, type TopStream } from './top-poll.ts';

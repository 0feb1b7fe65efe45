/**
 * Record types of the topics and files streamscout reads and writes. The Avro schemas (one
 * `.avsc` per topic) and their registry serde join them here.
 */
export type { ChatLine, Label } from './chat-line.ts';

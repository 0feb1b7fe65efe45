/** One benchmark run in a process of its own (so peak RSS is this run's); prints its result as JSON. */
import { runEngineBench } from './engine.ts';

const [messages, keys, seed] = process.argv.slice(2).map(Number);
const result = await runEngineBench({ messages: messages!, keys: keys!, seed: seed! });
process.stdout.write(`${JSON.stringify(result)}\n`);

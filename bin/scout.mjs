#!/usr/bin/env node
// The `scout` CLI. Sources are TypeScript run through tsx, so neither the engine nor a user's
// job file needs a build step.
import { register } from 'tsx/esm/api';

// A reader that goes away (`scout run … | head`) is not an error worth a message.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

register();
const { main } = await import('../pipeline/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

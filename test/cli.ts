/** Runs `scout` in-process, as the tests of the CLI do: its exit code and what it wrote to stdout and stderr. */
import { main } from '../pipeline/cli/main.ts';

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    argv,
    (s) => {
      out += s;
    },
    (s) => {
      err += s;
    },
  );
  return { code, out, err };
}

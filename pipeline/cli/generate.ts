/** `scout generate chat`: writes seeded synthetic chat, one file per channel, with ground-truth labels. */
import { writeGeneratedChat } from '../../connectors/synthetic/index.ts';
import { progressBar } from './progress.ts';

export interface GenerateChatOptions {
  readonly channels: number;
  readonly hours: number;
  readonly seed: number;
  readonly out: string;
  readonly gzip: boolean;
}

export async function generateChatCommand(options: GenerateChatOptions): Promise<string> {
  const bar = progressBar(options.channels, 'generate', ' channels');
  try {
    const summary = await writeGeneratedChat({
      channels: options.channels,
      hours: options.hours,
      seed: options.seed,
      outDir: options.out,
      gzip: options.gzip,
      onProgress: (p) => bar.update(p.channelsDone, { rate: `${p.messages} messages` }),
    });
    return `wrote ${summary.messages} messages for ${options.channels} channels (${summary.labels} labelled bursts) to ${options.out}`;
  } finally {
    bar.stop();
  }
}

/** Shared by the CLI's tests: run the CLI in-process and capture its output. */
import { Writable } from 'node:stream';
import { run } from '../src/index';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], cwd: string): Promise<Ran> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await run(argv, { stdout, stderr, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `data-metric` values of a page: metric name → number (the page's own numbers, read back). */
export function metrics(html: string): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const m of html.matchAll(/data-metric="([^"]*)">(\d+)</g)) {
    const key = m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
    out[key] = Number(m[2]);
  }
  return out;
}

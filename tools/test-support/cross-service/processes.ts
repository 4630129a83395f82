/** Starts the cross-service test services (service.ts) as child processes and stops them. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REGISTER = join(__dirname, '../register-ts.cjs');
const SERVICE = join(__dirname, 'service.ts');

/** The frameworks a service can run on (the nestjs-* ones on that Nest platform). */
export type Framework = 'express' | 'koa' | 'fastify' | 'nestjs-express' | 'nestjs-fastify';

export interface RunningService {
  readonly base: string;
  stop(): Promise<void>;
}

/** Starts one service and resolves once it printed its port (rejects if it exits first). */
export async function startService(role: 'a' | 'b', framework: Framework, downstream?: string, env: NodeJS.ProcessEnv = {}): Promise<RunningService> {
  const child: ChildProcess = spawn(process.execPath, ['-r', REGISTER, SERVICE, role, framework, ...(downstream !== undefined ? [downstream] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Nest code needs legacy decorators and their metadata (register-ts.cjs).
    env: { ...process.env, ...(framework.startsWith('nestjs-') ? { PURPOSEKIT_TS_DECORATORS: '1' } : {}), ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`service ${role} (${framework}) exited with ${code}: ${stderr}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

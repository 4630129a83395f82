import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const README = join(__dirname, '../../../README.md');
const EXAMPLE = join(__dirname, '../test/readme-example.ts');

describe('the root README\'s Express example', () => {
  it('is exactly the file this test runs', () => {
    const block = /## Ten lines of Express\n\n```ts\n([\s\S]*?)```/.exec(readFileSync(README, 'utf8'))?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('runs: tags the request, records the access, truncates the IP', async () => {
    process.env['PORT'] = '0';
    process.env['SUBJECT_KEY'] = 'readme-example-secret-of-32-bytes!!';
    const { server } = (await import('../test/readme-example')) as { server: Server };
    try {
      await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/status`);
      expect(res.status).toBe(200);
      // listen(port) with no host is dual-stack: a loopback IPv4 client arrives IPv4-mapped and
      // is truncated on its IPv4 bytes, in RFC 5952's mixed notation.
      expect(await res.json()).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests', ip: '::ffff:127.0.0.0', policy: 'openinfra@2024-current' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

// Per-request cost of purposekit on Express 5 (default) or Fastify 5 (FRAMEWORK=fastify):
// the same app bare, with the middleware / plugin + a route purpose, and with one access
// decision + audit enqueue per request.
//
// Method: one server process per variant (so CPU is attributed cleanly via
// process.cpuUsage); a keep-alive load generator in this process; ROUNDS interleaved
// rounds (bare, purposekit, +access, bare, …) of REQUESTS requests at CONCURRENCY.
// Reports the median server CPU µs per request of each variant, the spread (min–max of
// the rounds), and the added µs and ratio against bare from the same round.
//
// Run: npm run build && node tools/bench/middleware.bench.mjs
//      npm run build && FRAMEWORK=fastify node tools/bench/middleware.bench.mjs
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const REQUESTS = Number(process.env.REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const FRAMEWORK = process.env.FRAMEWORK ?? 'express';
if (FRAMEWORK !== 'express' && FRAMEWORK !== 'fastify') throw new Error(`FRAMEWORK must be express or fastify, got ${FRAMEWORK}`);
// The framework's own share: as many no-op layers (Express) or hooks (Fastify) as purposekit adds.
const NOOP = FRAMEWORK === 'express' ? 'two-noop-layers' : 'three-noop-hooks';
const VARIANTS = (process.env.VARIANTS ?? `bare,${NOOP},purposekit,purposekit+access`).split(',');
const serverPath = fileURLToPath(new URL(FRAMEWORK === 'express' ? './middleware-server.cjs' : './fastify-server.cjs', import.meta.url));

function once(child, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && key in m) {
        child.off('message', on);
        resolve(m[key]);
      }
    };
    child.on('message', on);
  });
}

async function load(port, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  const worker = async () => {
    while (sent < n) {
      sent++;
      await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/x', agent, headers: { 'x-forwarded-for': '203.0.113.9' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const servers = {};
for (const v of VARIANTS) {
  const child = fork(serverPath, [v], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  servers[v] = { child, port: await once(child, 'port'), perRound: [] };
  await load(servers[v].port, 500); // warm-up: JIT, sockets
}

for (let r = 0; r < ROUNDS; r++) {
  for (const v of VARIANTS) {
    const s = servers[v];
    s.child.send('start');
    await once(s.child, 'started');
    await load(s.port, REQUESTS);
    s.child.send('stop');
    s.perRound.push((await once(s.child, 'cpuMicros')) / REQUESTS);
  }
}
for (const v of VARIANTS) servers[v].child.send('exit');

const bare = servers.bare.perRound;
console.log(`${FRAMEWORK}, node ${process.version}, ${ROUNDS} rounds × ${REQUESTS} requests, concurrency ${CONCURRENCY}`);
console.log('variant              median µs/req  spread (min–max)   added µs/req (median of per-round diffs)  ratio');
for (const v of VARIANTS) {
  const xs = servers[v].perRound;
  const added = median(xs.map((x, i) => x - bare[i]));
  console.log(
    `${v.padEnd(20)} ${median(xs).toFixed(1).padStart(13)}  ${`${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`.padEnd(17)}  ${v === 'bare' ? '—'.padStart(10) : added.toFixed(1).padStart(10)}                                ${(median(xs) / median(bare)).toFixed(3)}`,
  );
}

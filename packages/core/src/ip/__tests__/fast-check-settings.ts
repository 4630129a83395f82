/**
 * fast-check settings shared by the IP property tests: a FIXED seed (a failure is
 * reproducible from the log) and a run count from `PURPOSEKIT_FC_RUNS`, defaulting to
 * 100,000 in CI (`CI` set) and 2,000 locally.
 */
export const FC_SEED = 0x1b3c5d7f;

export function fcRuns(): number {
  const fromEnv = Number(process.env['PURPOSEKIT_FC_RUNS']);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return process.env['CI'] ? 100_000 : 2_000;
}

/**
 * `{ seed, numRuns }` for fc.assert. `cap` bounds the runs of a property that compares
 * against a slow reference implementation (proxy-addr parses with ipaddr.js on every
 * call, ≈ 200 µs a run): such a property checks agreement with the reference, not one
 * of the redaction guarantees that get the full count.
 */
export function fcParams(cap = Infinity): { seed: number; numRuns: number } {
  return { seed: FC_SEED, numRuns: Math.min(fcRuns(), cap) };
}

/** Jest timeout that scales with the run count (100k runs of the slowest property ≈ 10 s on this machine); never below the preset's 30 s. */
export function fcTimeout(): number {
  return Math.max(30_000, fcRuns() * 0.5);
}

/**
 * Cheap assertions for property bodies: Jest's `expect` costs ≈ 35 µs a call, which at
 * 100,000 runs is most of the suite's time. These throw a plain Error that fast-check
 * reports with the counterexample.
 */
export function same(actual: unknown, expected: unknown, what = 'value'): void {
  if (!Object.is(actual, expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Throws unless `condition` holds. */
export function holds(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

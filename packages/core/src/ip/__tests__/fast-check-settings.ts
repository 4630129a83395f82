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

/** `{ seed, numRuns }` for fc.assert. */
export function fcParams(): { seed: number; numRuns: number } {
  return { seed: FC_SEED, numRuns: fcRuns() };
}

/** Jest timeout that scales with the run count (100k runs of the slowest property ≈ 10 s on this machine). */
export function fcTimeout(): number {
  return Math.max(5_000, fcRuns() * 0.5);
}

#!/usr/bin/env node
// The `purposekit` binary: runs the CLI on the process streams and sets the exit code.
import { run } from './cli';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    // run() reports its own errors; this is a last resort that prints no stack.
    process.exitCode = 2;
  },
);

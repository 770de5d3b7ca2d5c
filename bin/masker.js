#!/usr/bin/env node
// Entry point of the `masker` bin: runs the compiled CLI (npm run build → dist/). main() resolves once a
// command is done (for `run`: after a graceful shutdown); exit then, whatever timers libraries left behind.
import { main } from '../dist/cli/main.js';

process.exit(await main(process.argv.slice(2)));

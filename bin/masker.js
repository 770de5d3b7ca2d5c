#!/usr/bin/env node
// Entry point of the `masker` bin: runs the compiled CLI (npm run build → dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));

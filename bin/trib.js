#!/usr/bin/env -S node --max-semi-space-size=4
// The `trib` command. The project is TypeScript run directly through tsx's loader, so there is no
// build step between editing lib/ and running it; Lambda bundles are built by esbuild in infra/.
//
// A young generation of 4 MB semi-spaces, not V8's 16: a load's garbage is short-lived (a parsed
// line lives until its batch is written), and the smaller space keeps it in cache and the process
// smaller. 1M records: trib persist into DuckDB 377 → 337 MB, into PostgreSQL 181 → 162 MB and
// 11.7 → 11.1 s, trib run 359 → 345 MB; no load slower. V8 reads the flag only at start, so it is
// given here (and `npm start` runs this file, not `node` on it).
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');

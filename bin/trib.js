#!/usr/bin/env node
// The `trib` command. The project is TypeScript run directly through tsx's loader, so there is no
// build step between editing lib/ and running it; Lambda bundles are built by esbuild in infra/.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');

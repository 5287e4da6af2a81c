#!/usr/bin/env node
// The `persist-stitch` command of the Stitch Streams guides (see lib/cli/persist-stitch.ts).
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/persist-stitch.ts');

#!/usr/bin/env -S node --max-semi-space-size=4
// The `persist-stitch` command of the Stitch Streams guides (see lib/cli/persist-stitch.ts). The
// young generation is trib's (see bin/trib.js): the same loader's garbage, the same flag.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/persist-stitch.ts');

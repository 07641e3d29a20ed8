#!/usr/bin/env node
/* global process */
// Installed as `payments-ops` (npx payments-ops ...): runs the TypeScript ops CLI through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../ops/cli.ts');
await main(process.argv);

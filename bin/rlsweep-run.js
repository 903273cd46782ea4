#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the installed command is always the checked-out code.
import { register } from 'tsx/esm/api';
register();
await import('../src/run.ts');

#!/usr/bin/env node
// spookyctl launcher (package bin): checks the Node version, then runs spookyctl.ts. See ../node-gate.mjs.
import { launch } from '../node-gate.mjs';

launch('spookyctl', new URL('./spookyctl.ts', import.meta.url).href);

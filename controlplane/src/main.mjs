#!/usr/bin/env node
// Control-plane launcher (package bin): checks the Node version, then runs main.ts. See node-gate.mjs.
import { launch } from './node-gate.mjs';

launch('spooky-controlplane', new URL('./main.ts', import.meta.url).href);

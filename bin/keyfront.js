#!/usr/bin/env node
// Entry point of `npx keyfront`: runs the TypeScript CLI through tsx's loader, so no build step is needed.
'use strict';
require('tsx/cjs/api').register();
require('../scripts/cli.ts').run();

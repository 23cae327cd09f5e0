#!/usr/bin/env node
// Checks what `npm test` and `npm start` need before they begin, and says in ONE line what to install
// when something is missing. Plain CommonJS with old syntax so that it runs, and can say so, on a Node
// too old for the rest. Usage: node scripts/preflight.js test|start
'use strict';
var path = require('node:path');
var engines = require(path.join(__dirname, '..', 'package.json')).engines.node;

function fail(line) {
  process.stderr.write('keyfront preflight: ' + line + '\n');
  process.exit(1);
}

var wanted = /^>=(\d+)\.(\d+)$/.exec(engines);
var have = process.versions.node.split('.').map(Number);
if (!wanted) fail('package.json engines.node must read ">=MAJOR.MINOR", got ' + JSON.stringify(engines));
if (have[0] !== Number(wanted[1]) ? have[0] < Number(wanted[1]) : have[1] < Number(wanted[2])) {
  fail('Node.js ' + engines.slice(2) + ' or newer is needed, this is ' + process.versions.node + ': install it from https://nodejs.org/ (or with nvm: nvm install 20), then run npm ci again');
}

var mode = process.argv[2];
if (mode !== 'test' && mode !== 'start') fail('usage: node scripts/preflight.js test|start');
// `npm start` checks its settings and ports itself (scripts/start.ts), before starting anything.
if (mode === 'start') process.exit(0);
// The rest is TypeScript, shared with the tests (scripts/preflight/).
require('tsx/cjs/api').register();
require('./preflight/run.ts')
  .runPreflight()
  .then(function (problem) {
    if (problem) fail(problem);
  }, function (error) {
    fail('unexpected failure: ' + (error && error.message ? error.message : String(error)));
  });

// The import boundaries between the rooms of the house, as ESLint `no-restricted-imports` rules.
// Each room lists the rooms it may import; every other room is refused with the reason below.
// Imports are relative, so a room is reached as `../` (once or more) followed by its name.

/** Every top-level room whose code other rooms could import. */
const ROOMS = ['proto', 'platform', 'exposures', 'api', 'publisher', 'edge-config', 'infra', 'client', 'site', 'scripts', 'test'];

/** Why a room may not be imported from another; the message names the rule a developer broke. */
const WHY = {
  proto: 'proto/ is the contract and imports nothing of ours',
  platform: 'platform/ holds what every app needs and imports only proto/',
  exposures: 'exposures/ is the key store and imports only proto/ and platform/',
  api: 'api/ is the write Function App: it imports proto/, platform/ and exposures/ only, and the write side can never reach a signer (publisher/)',
  publisher: "publisher/ is the publisher Function App: it imports proto/, platform/, exposures/ and site/ (the page's markup, rendered at publish time) only",
  'edge-config': 'edge-config/ is Front Door as code: it imports proto/ and platform/ only',
  infra: 'infra/ may import any room but scripts/',
  client: 'client/ is what a phone does, on web-standard fetch and WebCrypto: it imports proto/ only and nothing from Node',
  site: 'site/ is the transparency page: it imports client/ and proto/ only',
};

/** Which rooms each room may import (itself always). */
const ALLOWED = {
  proto: [],
  platform: ['proto'],
  exposures: ['proto', 'platform'],
  api: ['proto', 'platform', 'exposures'],
  publisher: ['proto', 'platform', 'exposures', 'site'],
  'edge-config': ['proto', 'platform'],
  infra: ['proto', 'platform', 'exposures', 'api', 'publisher', 'edge-config', 'client', 'site'],
  client: ['proto'],
  site: ['client', 'proto'],
};

// Room names hold only letters and '-', which need no escape in a unicode-mode pattern.

function patternsFor(room) {
  const refused = ROOMS.filter((other) => other !== room && !ALLOWED[room].includes(other) && other !== 'test');
  const patterns = refused.map((other) => ({
    regex: `^(\\.\\./)+${other}(/|$)`,
    message: other === 'scripts' ? 'Nothing imports scripts/: it holds the CLI and the local stack, which import everything else.' : WHY[room],
  }));
  if (room === 'client' || room === 'site') {
    patterns.push({ regex: '^(node:|(assert|buffer|child_process|crypto|dns|events|fs|http|http2|https|net|os|path|stream|tls|url|util|worker_threads|zlib)(/|$))', message: WHY[room] });
  }
  return patterns;
}

/**
 * Flat-config entries, one pair per room. Production code keeps to its room's list and never imports
 * test/. Unit tests (`*.test.ts`) may cross-check against any room, but api/ tests still never reach
 * publisher/: the write side and the signer stay apart even in tests.
 */
export const roomRules = Object.keys(ALLOWED).flatMap((room) => [
  {
    files: [`${room}/**/*.ts`],
    ignores: [`${room}/**/*.test.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...patternsFor(room), { regex: '^(\\.\\./)+test(/|$)', message: 'Only tests import test/: production code never depends on test support.' }] }],
    },
  },
  ...(room === 'api'
    ? [{ files: ['api/**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { patterns: patternsFor('api').filter((pattern) => pattern.regex.includes('publisher')) }] } }]
    : []),
]);

/**
 * Route matching as Front Door does it: a route's patterns are exact paths or `/prefix/*`; an exact
 * match wins, then the longest matching prefix (Front Door's "most specific match").
 */
import type { RouteDeclaration } from '../declaration';

export function matchRoute<R extends Pick<RouteDeclaration, 'patterns'>>(routes: readonly R[], path: string): R | undefined {
  let best: { route: R; score: number } | undefined;
  for (const route of routes) {
    for (const pattern of route.patterns) {
      let score = -1;
      if (pattern.endsWith('/*')) {
        const prefix = pattern.slice(0, -1);
        // `/v1/*` matches `/v1/...` and `/v1` itself.
        if (path.startsWith(prefix) || path === prefix.slice(0, -1)) score = prefix.length;
      } else if (pattern === path) {
        score = Number.MAX_SAFE_INTEGER;
      }
      if (score >= 0 && (!best || score > best.score)) best = { route, score };
    }
  }
  return best?.route;
}

/** The part of `path` the route's most specific matching pattern covers: `/prefix` for `/prefix/*`, "" for an exact pattern. */
export function matchedPrefix(route: Pick<RouteDeclaration, 'patterns'>, path: string): string {
  let best: string | undefined;
  for (const pattern of route.patterns) {
    if (pattern === path) return '';
    if (pattern.endsWith('/*')) {
      const prefix = pattern.slice(0, -2);
      if ((path.startsWith(`${prefix}/`) || path === prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
    }
  }
  return best ?? '';
}

/**
 * Front Door's purge path semantics, in one place for every purger and the local edge: a content
 * path is either a single path (`/v1/440/index.txt`) or a prefix written with a trailing `/*`
 * (`/v1/440/*`, and `/*` for everything). Purges are case-insensitive and ignore query strings
 * (learn.microsoft.com, "Cache purging in Azure Front Door").
 */

export class PurgePathError extends Error {
  override readonly name = 'PurgePathError';
}

/**
 * Checks a purge request's paths; the message names the first bad one, by default as the API field
 * (`contentPaths[1]`); `nameOf` names it otherwise (the CLI: `--paths`).
 */
export function checkContentPaths(contentPaths: unknown, nameOf: (index: number) => string = (index) => `contentPaths[${index}]`): asserts contentPaths is string[] {
  if (!Array.isArray(contentPaths) || contentPaths.length === 0) throw new PurgePathError('contentPaths must be a non-empty array of paths');
  contentPaths.forEach((value, index) => {
    const problem = contentPathProblem(value);
    if (problem) throw new PurgePathError(`${nameOf(index)} ${problem}`);
  });
}

function contentPathProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (!value.startsWith('/')) return `must start with "/", got ${JSON.stringify(value)}`;
  if (/[?#\s]/.test(value)) return `must be a path without query, fragment or spaces, got ${JSON.stringify(value)}`;
  const star = value.indexOf('*');
  if (star !== -1 && (star !== value.length - 1 || !value.endsWith('/*'))) return `may hold "*" only as a final "/*", got ${JSON.stringify(value)}`;
  return undefined;
}

/** True when `contentPath` (a checked purge path) covers the request path `urlPath` (query ignored). */
export function purgeCovers(contentPath: string, urlPath: string): boolean {
  const pathOnly = urlPath.split('?', 1)[0].toLowerCase();
  const target = contentPath.toLowerCase();
  if (target.endsWith('/*')) return pathOnly.startsWith(target.slice(0, -1));
  return pathOnly === target;
}

/** Open handles of this process by kind (`TCPSocketWrap`, `Timeout`, ...): a leak shows as a count that only grows. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

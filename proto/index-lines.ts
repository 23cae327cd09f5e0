/**
 * Reading an index.txt (the GAEN convention: one export path per line, oldest first), as phones
 * and the federation importer both do: the size bound, CRLF and trailing blank lines tolerated, and
 * no line twice. What a line must be is the reader's own rule (`readLine`).
 */

/** The longest index accepted: 14 days of files, each a few dozen characters, with a wide margin. */
export const MAX_INDEX_BYTES = 1024 * 1024;

/**
 * The lines of `text`, in order, each read by `readLine` (given the line, its 1-based number and a
 * short quoted form for messages). `refuse` throws the reader's own error: for an index past
 * `MAX_INDEX_BYTES`, and for a line that repeats an earlier one (after `readLine` accepted it).
 */
export function readIndexLines<T>(text: string, refuse: (message: string) => never, readLine: (line: string, number: number, shown: string) => T): T[] {
  if (text.length > MAX_INDEX_BYTES) refuse(`the index is ${text.length} characters, more than the ${MAX_INDEX_BYTES} accepted`);
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const shown = JSON.stringify(line.slice(0, 80));
    const read = readLine(line, i + 1, shown);
    if (seen.has(line)) refuse(`line ${i + 1} of the index repeats ${shown}`);
    seen.add(line);
    return read;
  });
}

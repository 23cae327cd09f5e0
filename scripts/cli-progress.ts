/**
 * Progress bars of long CLI work and benchmarks (cli-progress), on stderr so that stdout stays
 * the command's result; drawn only when stderr is a terminal (never in pipes, logs or CI).
 */
import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  /** Adds `count` (1 by default) done items. */
  tick(count?: number): void;
  /** The total, once known (a bar started without one counts only). */
  setTotal(total: number): void;
  stop(): void;
}

const SILENT: Progress = { tick: () => undefined, setTotal: () => undefined, stop: () => undefined };

/** A bar labelled `label` for `total` items (0: unknown yet), or a silent one when `stream` is not a TTY. */
export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return SILENT;
  const bar = new SingleBar(
    { stream, format: total > 0 ? `${label} [{bar}] {value}/{total} {percentage}% {duration_formatted}` : `${label}: {value} ({duration_formatted})`, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    tick: (count = 1) => bar.increment(count),
    setTotal: (value) => bar.setTotal(value),
    stop: () => bar.stop(),
  };
}

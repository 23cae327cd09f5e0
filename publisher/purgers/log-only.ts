/** A purger for setups without an edge cache (KEYFRONT_PURGER=none): it only logs what it would purge. */
import type { Logger } from '../../platform/log';
import type { Purger } from './purger';

export class LogOnlyPurger implements Purger {
  readonly name = 'log-only';

  constructor(private readonly logger: Logger) {}

  async purge(contentPaths: readonly string[]): Promise<void> {
    this.logger.info('no edge to purge (KEYFRONT_PURGER=none)', { contentPaths });
  }
}

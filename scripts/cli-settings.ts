/** Settings of the `keyfront` CLI itself (each command group reads its component's settings). */
import { SettingsReader, type Env, type Setting } from '../platform/settings';

export const CLI_SETTINGS: readonly Setting[] = [{ env: 'KEYFRONT_DEBUG', description: 'Set to anything: unexpected CLI failures print their stack trace too.' }];

/** Whether unexpected failures should print their stack trace. */
export function cliDebug(env: Env): boolean {
  return new SettingsReader(env, CLI_SETTINGS).raw('KEYFRONT_DEBUG') !== undefined;
}

/**
 * Every environment variable keyfront reads, gathered from the settings tables of the config modules
 * (one row per variable: its default, which components read it, what it does). `keyfront settings`
 * prints it, and README's "Settings" table is this output (a test holds them equal).
 */
import { API_SETTINGS } from '../../api/config';
import { AZURE_EDGE_SETTINGS, LOCAL_EDGE_SETTINGS } from '../../edge-config/config';
import type { Setting } from '../../platform/settings';
import { PUBLISHER_SETTINGS } from '../../publisher/config';
import { CLI_SETTINGS } from '../cli-settings';
import { LOCAL_STACK_SETTINGS } from '../local-stack/config';
import { BROWSER_SETTINGS } from '../preflight/config';

/** Each component's table and where it lives; a new config module adds one line here. */
export const SETTINGS_TABLES: ReadonlyArray<{ reader: string; module: string; settings: readonly Setting[] }> = [
  { reader: 'api', module: 'api/config.ts', settings: API_SETTINGS },
  { reader: 'publisher', module: 'publisher/config.ts', settings: PUBLISHER_SETTINGS },
  { reader: 'edge', module: 'edge-config/config.ts', settings: AZURE_EDGE_SETTINGS },
  { reader: 'local edge', module: 'edge-config/config.ts', settings: LOCAL_EDGE_SETTINGS },
  { reader: 'local stack', module: 'scripts/local-stack/config.ts', settings: LOCAL_STACK_SETTINGS },
  { reader: 'tests', module: 'scripts/preflight/config.ts', settings: BROWSER_SETTINGS },
  { reader: 'cli', module: 'scripts/cli-settings.ts', settings: CLI_SETTINGS },
];

export interface SettingRow {
  env: string;
  /** Per reader when they differ (`api: 16; publisher: 16` collapses to `16`); `undefined`: none. */
  default?: string;
  required: boolean;
  secret: boolean;
  readers: string[];
  description: string;
}

/** One row per variable, sorted by name. */
export function allSettings(): SettingRow[] {
  const rows = new Map<string, { row: SettingRow; defaults: Array<[string, string | undefined]> }>();
  for (const { reader, settings } of SETTINGS_TABLES) {
    for (const setting of settings) {
      const entry = rows.get(setting.env) ?? { row: { env: setting.env, required: false, secret: false, readers: [], description: setting.description }, defaults: [] };
      entry.row.required ||= setting.required === true;
      entry.row.secret ||= setting.secret === true;
      if (!entry.row.readers.includes(reader)) entry.row.readers.push(reader);
      entry.defaults.push([reader, setting.default]);
      rows.set(setting.env, entry);
    }
  }
  return [...rows.values()]
    .map(({ row, defaults }) => {
      const distinct = new Set(defaults.map(([, value]) => value));
      const value = distinct.size === 1 ? defaults[0][1] : defaults.map(([reader, value]) => `${reader}: ${value ?? '(none)'}`).join('; ');
      return value === undefined ? row : { ...row, default: value };
    })
    .sort((a, b) => a.env.localeCompare(b.env));
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The table as markdown, as README holds it. */
export function settingsMarkdown(rows: readonly SettingRow[] = allSettings()): string {
  const lines = ['| variable | default | read by | what |', '|---|---|---|---|'];
  for (const row of rows) {
    const value = row.default === undefined ? (row.required ? 'required' : '') : row.default === '' ? '(empty)' : `\`${cell(row.default)}\``;
    lines.push(`| \`${row.env}\`${row.secret ? ' (secret)' : ''} | ${value} | ${row.readers.join(', ')} | ${cell(row.description)} |`);
  }
  return `${lines.join('\n')}\n`;
}

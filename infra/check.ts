/**
 * A schema-level check of a compiled template, run by the tests and by `deploy compile` before it
 * writes anything: every type and apiVersion is one recorded (with its reference page) in
 * `api-versions.ts`, a literal name has one segment per type segment, every `resourceId(...)` in
 * the template names a resource the template declares (or one Azure provides), every
 * `parameters('...')` is declared, and every parameter is described.
 */
import { API_VERSIONS } from './api-versions';
import type { ArmTemplate } from './arm';

/** Types referenced but never declared: they exist in every tenant or account. */
const PROVIDED_BY_AZURE = new Set(['Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions']);

const RESOURCE_ID = /resourceId\('([^']+)'((?:,\s*'[^']*')+)\)/g;
const PARAMETER = /parameters\('([^']+)'\)/g;

function key(type: string, names: string[]): string {
  return `${type.toLowerCase()}|${names.join('/').toLowerCase()}`;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((item) => strings(item, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((item) => strings(item, out));
  return out;
}

/** Problems of the template, each naming the resource and what is wrong; empty when it passes. */
export function checkTemplate(template: ArmTemplate): string[] {
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const resource of template.resources) {
    const row = API_VERSIONS[resource.type];
    const where = `${resource.type} ${resource.name}`;
    if (!row) problems.push(`${where}: type not in infra/api-versions.ts`);
    else if (row.apiVersion !== resource.apiVersion) problems.push(`${where}: apiVersion ${resource.apiVersion}, the table has ${row.apiVersion}`);
    if (!resource.name.startsWith('[')) {
      const names = resource.name.split('/');
      if (names.length !== resource.type.split('/').length - 1) problems.push(`${where}: ${names.length} name segments for a type of ${resource.type.split('/').length - 1}`);
      if (declared.has(key(resource.type, names))) problems.push(`${where}: declared twice`);
      declared.add(key(resource.type, names));
    }
  }
  for (const [name, parameter] of Object.entries(template.parameters)) {
    if (!parameter.metadata?.description) problems.push(`parameter ${name}: no description`);
  }
  const check = (text: string, where: string): void => {
    for (const match of text.matchAll(RESOURCE_ID)) {
      const type = match[1];
      const names = [...match[2].matchAll(/'([^']*)'/g)].map((m) => m[1]);
      if (PROVIDED_BY_AZURE.has(type)) continue;
      if (!declared.has(key(type, names))) problems.push(`${where}: ${match[0]} names no resource of the template`);
    }
    for (const match of text.matchAll(PARAMETER)) {
      if (!(match[1] in template.parameters)) problems.push(`${where}: parameters('${match[1]}') is not declared`);
    }
  };
  for (const resource of template.resources) {
    const where = `${resource.type} ${resource.name}`;
    for (const dependency of resource.dependsOn ?? []) {
      if (!dependency.startsWith('[resourceId(')) problems.push(`${where}: dependsOn ${dependency} is not a resourceId`);
    }
    for (const text of strings(resource)) check(text, where);
  }
  for (const [name, output] of Object.entries(template.outputs)) check(output.value, `output ${name}`);
  return problems;
}

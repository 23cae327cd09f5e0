/**
 * The ARM template language, as far as the deployment stand-in needs it: a template expression
 * (`[fn(args).prop['key']]`) is parsed and evaluated with the template functions keyfront's
 * templates call, each as the ARM template function reference describes it
 * (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions).
 * A function it does not know is refused by name, so a template that starts calling a new one
 * fails a test until its documented behaviour is added here; it never evaluates to a guess.
 *
 * `guid()` is deterministic (the same arguments, the same GUID) as in ARM, but not ARM's exact
 * algorithm: nothing in the stand-in compares a GUID with one Azure computed.
 */
import { createHash } from 'node:crypto';

export class TemplateExpressionError extends Error {
  override readonly name = 'TemplateExpressionError';
}

/** What `reference(...)` reads: the deployed resource, by id; undefined when it does not exist (yet). */
export interface EvaluationScope {
  subscriptionId: string;
  tenantId: string;
  resourceGroup: { name: string; location: string };
  parameters: Record<string, unknown>;
  /** `reference(id, apiVersion)`: the resource's properties; `'full'`: the whole resource (identity, sku...). */
  reference(id: string, full: boolean): Record<string, unknown> | undefined;
  /** Called with the id of every resource an expression references (the stand-in checks dependencies). */
  onReference?(id: string): void;
}

type Node = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'call'; name: string; args: Node[] } | { kind: 'member'; target: Node; key: Node };

function parse(text: string): Node {
  let at = 0;
  const fail = (message: string): never => {
    throw new TemplateExpressionError(`${message} at ${at} in [${text}]`);
  };
  const space = () => {
    while (text[at] === ' ') at += 1;
  };
  const expression = (): Node => {
    space();
    let node: Node;
    if (text[at] === "'") {
      let value = '';
      at += 1;
      for (;;) {
        if (at >= text.length) fail('unterminated string');
        if (text[at] === "'") {
          if (text[at + 1] === "'") {
            value += "'";
            at += 2;
            continue;
          }
          at += 1;
          break;
        }
        value += text[at];
        at += 1;
      }
      node = { kind: 'string', value };
    } else if (/[-0-9]/.test(text[at] ?? '')) {
      const match = /^-?[0-9]+/.exec(text.slice(at))!;
      at += match[0].length;
      node = { kind: 'number', value: Number(match[0]) };
    } else {
      const match = /^[A-Za-z][A-Za-z0-9]*/.exec(text.slice(at));
      if (!match) return fail('expected a function, a string or a number');
      at += match[0].length;
      space();
      if (text[at] !== '(') fail(`expected "(" after ${match[0]}`);
      at += 1;
      const args: Node[] = [];
      space();
      if (text[at] === ')') at += 1;
      else {
        for (;;) {
          args.push(expression());
          space();
          if (text[at] === ',') {
            at += 1;
            continue;
          }
          if (text[at] === ')') {
            at += 1;
            break;
          }
          fail('expected "," or ")"');
        }
      }
      node = { kind: 'call', name: match[0], args };
    }
    for (;;) {
      space();
      if (text[at] === '.') {
        at += 1;
        const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(at));
        if (!match) fail('expected a property name');
        at += match![0].length;
        node = { kind: 'member', target: node, key: { kind: 'string', value: match![0] } };
      } else if (text[at] === '[') {
        at += 1;
        const key = expression();
        space();
        if (text[at] !== ']') fail('expected "]"');
        at += 1;
        node = { kind: 'member', target: node, key };
      } else return node;
    }
  };
  const node = expression();
  space();
  if (at !== text.length) fail('unexpected text');
  return node;
}

/** A GUID from the arguments, formatted like ARM's `guid()` (deterministic; not ARM's algorithm). */
export function standInGuid(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('-')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}/...` */
export function resourceGroupResourceId(subscriptionId: string, resourceGroup: string, type: string, names: string[]): string {
  const [namespace, ...types] = type.split('/');
  if (types.length !== names.length) throw new TemplateExpressionError(`resourceId('${type}'): ${names.length} names for ${types.length} type segments`);
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${namespace}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`;
}

function asString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new TemplateExpressionError(`${where} needs a string, got ${JSON.stringify(value)}`);
  return value;
}

const FUNCTIONS: Record<string, (args: unknown[], scope: EvaluationScope) => unknown> = {
  parameters: ([name], scope) => {
    const key = asString(name, 'parameters()');
    if (!(key in scope.parameters)) throw new TemplateExpressionError(`parameters('${key}') is not a parameter of the template`);
    return scope.parameters[key];
  },
  resourceId: (args, scope) => {
    const [type, ...names] = args.map((arg) => asString(arg, 'resourceId()'));
    return resourceGroupResourceId(scope.subscriptionId, scope.resourceGroup.name, type, names);
  },
  subscriptionResourceId: (args, scope) => {
    const [type, ...names] = args.map((arg) => asString(arg, 'subscriptionResourceId()'));
    const [namespace, ...types] = type.split('/');
    return `/subscriptions/${scope.subscriptionId}/providers/${namespace}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`;
  },
  reference: ([id, , full], scope) => {
    const resourceIdText = asString(id, 'reference()');
    scope.onReference?.(resourceIdText);
    const found = scope.reference(resourceIdText, full === 'full');
    if (!found) throw new TemplateExpressionError(`reference('${resourceIdText}'): the resource does not exist (yet)`);
    return found;
  },
  concat: (args) => (args.every((arg) => Array.isArray(arg)) ? args.flat() : args.map((arg) => (typeof arg === 'number' ? String(arg) : asString(arg, 'concat()'))).join('')),
  guid: (args) => standInGuid(...args.map((arg) => asString(arg, 'guid()'))),
  subscription: (_args, scope) => ({ id: `/subscriptions/${scope.subscriptionId}`, subscriptionId: scope.subscriptionId, tenantId: scope.tenantId }),
  resourceGroup: (_args, scope) => ({ id: `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup.name}`, name: scope.resourceGroup.name, location: scope.resourceGroup.location }),
  split: ([text, delimiter]) => asString(text, 'split()').split(asString(delimiter, 'split()')),
  first: ([value]) => {
    if (typeof value === 'string') return value.slice(0, 1);
    if (Array.isArray(value)) return value[0];
    throw new TemplateExpressionError('first() needs an array or a string');
  },
  // template-functions-array / -object / -string: empty(), createArray(), createObject(), string() (an object or array as compact JSON).
  empty: ([value]) => (typeof value === 'string' || Array.isArray(value) ? value.length === 0 : value !== null && typeof value === 'object' ? Object.keys(value).length === 0 : value === null),
  createArray: (args) => [...args],
  createObject: (args) => {
    if (args.length % 2 !== 0) throw new TemplateExpressionError('createObject() takes key-value pairs');
    return Object.fromEntries(Array.from({ length: args.length / 2 }, (_, i) => [asString(args[2 * i], 'createObject()'), args[2 * i + 1]]));
  },
  string: ([value]) => (typeof value === 'string' ? value : JSON.stringify(value)),
  contains: ([container, item]) => (Array.isArray(container) ? container.includes(item) : typeof container === 'string' ? container.includes(asString(item, 'contains()')) : container !== null && typeof container === 'object' ? Object.keys(container).some((key) => key.toLowerCase() === String(item).toLowerCase()) : false),
};

function evaluateNode(node: Node, scope: EvaluationScope): unknown {
  switch (node.kind) {
    case 'string':
    case 'number':
      return node.value;
    case 'member': {
      const target = evaluateNode(node.target, scope);
      const key = evaluateNode(node.key, scope);
      if (target === null || typeof target !== 'object') throw new TemplateExpressionError(`cannot read [${String(key)}] of ${JSON.stringify(target)}`);
      // ARM matches object property names case-insensitively.
      const entry = Array.isArray(target) ? [String(key), target[Number(key)]] : Object.entries(target).find(([name]) => name.toLowerCase() === String(key).toLowerCase());
      if (!entry || entry[1] === undefined) throw new TemplateExpressionError(`the stand-in has no property ${String(key)} here (keys: ${Object.keys(target).join(', ')}): add what Azure returns, from its reference page`);
      return entry[1];
    }
    case 'call': {
      if (node.name === 'if') {
        // Only the branch the condition selects is evaluated.
        const [condition, whenTrue, whenFalse] = node.args;
        return evaluateNode(evaluateNode(condition, scope) === true ? whenTrue : whenFalse, scope);
      }
      const fn = FUNCTIONS[node.name];
      if (!fn) throw new TemplateExpressionError(`the deployment stand-in does not evaluate ${node.name}(): add it from the ARM template function reference`);
      return fn(
        node.args.map((arg) => evaluateNode(arg, scope)),
        scope,
      );
    }
  }
}

/** A string that is a template expression: `[...]`, but not `[[...` (a literal bracket). */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('[') && value.endsWith(']') && !value.startsWith('[[');
}

/** Evaluates every expression in a JSON value (object keys are literals). */
export function evaluate(value: unknown, scope: EvaluationScope): unknown {
  if (isExpression(value)) return evaluateNode(parse(value.slice(1, -1)), scope);
  if (typeof value === 'string' && value.startsWith('[[')) return value.slice(1);
  if (Array.isArray(value)) return value.map((item) => evaluate(item, scope));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, evaluate(item, scope)]));
  return value;
}

/** The ids a value's expressions would reference, without reading anything (for dependency checks). */
export function referencedIds(value: unknown, scope: Omit<EvaluationScope, 'reference' | 'onReference'>): string[] {
  const found: string[] = [];
  const probing: EvaluationScope = {
    ...scope,
    reference: () => new Proxy({}, { get: () => 'x' }) as Record<string, unknown>,
    onReference: (id) => found.push(id),
  };
  const walk = (item: unknown): void => {
    if (isExpression(item)) {
      try {
        evaluateNode(parse(item.slice(1, -1)), probing);
      } catch {
        // Only the references matter here; evaluation proper reports errors.
      }
    } else if (Array.isArray(item)) item.forEach(walk);
    else if (item !== null && typeof item === 'object') Object.values(item).forEach(walk);
  };
  walk(value);
  return found;
}

/**
 * A small Kusto (KQL) evaluator for the queries the alerts and the workbook run over workspace rows:
 * there is no Log Analytics to run them against here, and no JavaScript library executes KQL. It
 * takes the subset those queries use and refuses anything else by name, so a new query that needs
 * more fails loudly until this learns it. Semantics follow the Kusto Query Language reference
 * (learn.microsoft.com/kusto/query): `summarize` without `by` answers one row even over no rows
 * (`count()` and `sum()` then 0), `order by` sorts descending unless told, `has` matches whole terms
 * case-insensitively, comparisons with null are false, `ago()` and `now()` are the evaluation time.
 *
 * Tabular operators: `where`, `summarize ... [by ...]`, `extend`, `project`, `order by`/`sort by`.
 * Scalars: numbers, 'strings' and "strings", timespans (`1h`, `15m`, `30s`, `1d`), columns and
 * `dynamic.member`, `+ - * /`, `== != < <= > >=`, `and`, `or`, `not()`, `in (...)`, `!in (...)`,
 * `has`, `contains`, `startswith`; functions `tostring`, `todouble`, `toint`, `tolong`, `round`,
 * `iff`, `now`, `ago`, `bin`, `unixtime_seconds_todatetime`, `isempty`, `isnotempty`; aggregations
 * `sum`, `sumif`, `count`, `countif`, `max`, `maxif`, `min`, `minif`, `avg`, `avgif`.
 */

/** A value in a row: numbers, strings, booleans, datetimes (`Date`), timespans, dynamic objects, null. */
export type KqlValue = number | string | boolean | Date | Timespan | Record<string, unknown> | null;
export type KqlRow = Record<string, KqlValue>;

/** A duration, kept apart from numbers as Kusto keeps them apart. */
export class Timespan {
  constructor(readonly ms: number) {}
}

export class KqlError extends Error {
  override readonly name = 'KqlError';
}

// ---- tokens ----

type Token = { kind: 'number'; value: number } | { kind: 'timespan'; value: number } | { kind: 'string'; value: string } | { kind: 'name'; value: string } | { kind: 'symbol'; value: string };

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const span = /^(\d+(?:\.\d+)?)(ms|d|h|m|s)(?![\w])/.exec(rest);
    if (span) {
      tokens.push({ kind: 'timespan', value: Number(span[1]) * UNITS[span[2]] });
      at += span[0].length;
      continue;
    }
    const number = /^\d+(?:\.\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]) });
      at += number[0].length;
      continue;
    }
    if (rest[0] === "'" || rest[0] === '"') {
      const quote = rest[0];
      let end = 1;
      let value = '';
      while (end < rest.length && rest[end] !== quote) {
        if (rest[end] === '\\' && end + 1 < rest.length) end += 1;
        value += rest[end];
        end += 1;
      }
      if (end >= rest.length) throw new KqlError(`unterminated string at ${at}`);
      tokens.push({ kind: 'string', value });
      at += end + 1;
      continue;
    }
    const name = /^[A-Za-z_][\w]*/.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', value: name[0] });
      at += name[0].length;
      continue;
    }
    const symbol = /^(==|!=|<=|>=|!in\b|[|(),=<>+\-*/.])/.exec(rest);
    if (symbol) {
      tokens.push({ kind: 'symbol', value: symbol[0] });
      at += symbol[0].length;
      continue;
    }
    throw new KqlError(`unexpected '${rest[0]}' at ${at}`);
  }
  return tokens;
}

// ---- syntax ----

type Expr =
  | { type: 'literal'; value: KqlValue }
  | { type: 'column'; name: string }
  | { type: 'member'; object: Expr; name: string }
  | { type: 'call'; name: string; args: Expr[] }
  | { type: 'binary'; op: string; left: Expr; right: Expr }
  | { type: 'in'; negate: boolean; value: Expr; list: Expr[] };

interface Named {
  name: string;
  expr: Expr;
}

type Operator =
  | { type: 'where'; predicate: Expr }
  | { type: 'summarize'; aggregates: Named[]; by: Named[] }
  | { type: 'extend'; columns: Named[] }
  | { type: 'project'; columns: Named[] }
  | { type: 'order'; keys: Array<{ expr: Expr; descending: boolean }> };

const AGGREGATES = new Set(['sum', 'sumif', 'count', 'countif', 'max', 'maxif', 'min', 'minif', 'avg', 'avgif']);
const WORD_OPERATORS = new Set(['and', 'or', 'has', 'contains', 'startswith', 'in']);

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.at + offset];
  }

  private isSymbol(value: string): boolean {
    const token = this.peek();
    return token?.kind === 'symbol' && token.value === value;
  }

  private isWord(value: string): boolean {
    const token = this.peek();
    return token?.kind === 'name' && token.value === value;
  }

  private expectSymbol(value: string): void {
    if (!this.isSymbol(value)) throw new KqlError(`expected '${value}' at token ${this.at}, found ${JSON.stringify(this.peek())}`);
    this.at += 1;
  }

  private name(): string {
    const token = this.peek();
    if (token?.kind !== 'name') throw new KqlError(`expected a name at token ${this.at}, found ${JSON.stringify(token)}`);
    this.at += 1;
    return token.value;
  }

  query(): { table: string; operators: Operator[] } {
    const table = this.name();
    const operators: Operator[] = [];
    while (this.isSymbol('|')) {
      this.at += 1;
      operators.push(this.operator());
    }
    if (this.peek()) throw new KqlError(`unexpected ${JSON.stringify(this.peek())} at token ${this.at}`);
    return { table, operators };
  }

  private operator(): Operator {
    const word = this.name();
    switch (word) {
      case 'where':
        return { type: 'where', predicate: this.expr() };
      case 'summarize': {
        const aggregates = this.namedList(() => !this.isWord('by') && !this.isSymbol('|') && this.peek() !== undefined, true);
        let by: Named[] = [];
        if (this.isWord('by')) {
          this.at += 1;
          by = this.namedList(() => !this.isSymbol('|') && this.peek() !== undefined, false);
        }
        return { type: 'summarize', aggregates, by };
      }
      case 'extend':
        return { type: 'extend', columns: this.namedList(() => !this.isSymbol('|') && this.peek() !== undefined, false) };
      case 'project':
        return { type: 'project', columns: this.namedList(() => !this.isSymbol('|') && this.peek() !== undefined, false) };
      case 'order':
      case 'sort': {
        if (!this.isWord('by')) throw new KqlError(`'${word}' must be followed by 'by'`);
        this.at += 1;
        const keys: Array<{ expr: Expr; descending: boolean }> = [];
        do {
          if (keys.length > 0) this.at += 1;
          const expr = this.expr();
          let descending = true;
          if (this.isWord('asc') || this.isWord('desc')) descending = this.name() === 'desc';
          keys.push({ expr, descending });
        } while (this.isSymbol(','));
        return { type: 'order', keys };
      }
      default:
        throw new KqlError(`the tabular operator '${word}' is not supported here (test/support/kql.ts)`);
    }
  }

  /** `[Name =] expr, ...`; an unnamed column takes its column's name, an unnamed aggregate `fn_Column`. */
  private namedList(more: () => boolean, aggregates: boolean): Named[] {
    const list: Named[] = [];
    while (more()) {
      if (list.length > 0) this.expectSymbol(',');
      let name: string | undefined;
      if (this.peek()?.kind === 'name' && this.peek(1)?.kind === 'symbol' && this.peek(1)?.value === '=') {
        name = this.name();
        this.at += 1;
      }
      const expr = this.expr();
      list.push({ name: name ?? defaultName(expr, aggregates), expr });
    }
    return list;
  }

  expr(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      this.at += 1;
      left = { type: 'binary', op: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Expr {
    let left = this.comparison();
    while (this.isWord('and')) {
      this.at += 1;
      left = { type: 'binary', op: 'and', left, right: this.comparison() };
    }
    return left;
  }

  private comparison(): Expr {
    const left = this.additive();
    const token = this.peek();
    if (token?.kind === 'symbol' && ['==', '!=', '<', '<=', '>', '>='].includes(token.value)) {
      this.at += 1;
      return { type: 'binary', op: token.value, left, right: this.additive() };
    }
    if ((token?.kind === 'name' && ['has', 'contains', 'startswith', 'in'].includes(token.value)) || (token?.kind === 'symbol' && token.value === '!in')) {
      this.at += 1;
      if (token.value === 'in' || token.value === '!in') {
        this.expectSymbol('(');
        const list: Expr[] = [];
        while (!this.isSymbol(')')) {
          if (list.length > 0) this.expectSymbol(',');
          list.push(this.additive());
        }
        this.expectSymbol(')');
        return { type: 'in', negate: token.value === '!in', value: left, list };
      }
      return { type: 'binary', op: token.value, left, right: this.additive() };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isSymbol('+') || this.isSymbol('-')) {
      const op = (this.peek() as Token).value as string;
      this.at += 1;
      left = { type: 'binary', op, left, right: this.multiplicative() };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isSymbol('*') || this.isSymbol('/')) {
      const op = (this.peek() as Token).value as string;
      this.at += 1;
      left = { type: 'binary', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isSymbol('-')) {
      this.at += 1;
      return { type: 'binary', op: '-', left: { type: 'literal', value: 0 }, right: this.unary() };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let expr = this.primary();
    while (this.isSymbol('.')) {
      this.at += 1;
      expr = { type: 'member', object: expr, name: this.name() };
    }
    return expr;
  }

  private primary(): Expr {
    const token = this.peek();
    if (!token) throw new KqlError('unexpected end of query');
    if (token.kind === 'number' || token.kind === 'string') {
      this.at += 1;
      return { type: 'literal', value: token.value };
    }
    if (token.kind === 'timespan') {
      this.at += 1;
      return { type: 'literal', value: new Timespan(token.value) };
    }
    if (token.kind === 'symbol' && token.value === '(') {
      this.at += 1;
      const inner = this.expr();
      this.expectSymbol(')');
      return inner;
    }
    if (token.kind === 'name' && !WORD_OPERATORS.has(token.value)) {
      this.at += 1;
      if (this.isSymbol('(')) {
        this.at += 1;
        const args: Expr[] = [];
        while (!this.isSymbol(')')) {
          if (args.length > 0) this.expectSymbol(',');
          args.push(this.expr());
        }
        this.expectSymbol(')');
        return { type: 'call', name: token.value, args };
      }
      if (token.value === 'true' || token.value === 'false') return { type: 'literal', value: token.value === 'true' };
      return { type: 'column', name: token.value };
    }
    throw new KqlError(`unexpected ${JSON.stringify(token)} at token ${this.at}`);
  }
}

function defaultName(expr: Expr, aggregate: boolean): string {
  if (expr.type === 'column') return expr.name;
  if (expr.type === 'call' && aggregate) {
    const column = expr.args.find((arg) => arg.type === 'column') as { name: string } | undefined;
    return column ? `${expr.name}_${column.name}` : `${expr.name}_`;
  }
  if (expr.type === 'call' && expr.name === 'bin' && expr.args[0]?.type === 'column') return expr.args[0].name;
  if (expr.type === 'call' && expr.args[0]?.type === 'member') return (expr.args[0] as { name: string }).name;
  throw new KqlError('give this column a name (Name = ...)');
}

// ---- evaluation ----

function isNull(value: KqlValue | undefined): value is null | undefined {
  return value === null || value === undefined;
}

function toNumber(value: KqlValue): number | null {
  if (isNull(value)) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function toText(value: KqlValue): string {
  if (isNull(value)) return '';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Timespan) return `${value.ms}ms`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function compare(left: KqlValue, right: KqlValue): number | null {
  if (isNull(left) || isNull(right)) return null;
  if (left instanceof Date && right instanceof Date) return left.getTime() - right.getTime();
  if (left instanceof Timespan && right instanceof Timespan) return left.ms - right.ms;
  if (typeof left === 'string' && typeof right === 'string') return left < right ? -1 : left > right ? 1 : 0;
  const a = toNumber(left);
  const b = toNumber(right);
  return a === null || b === null ? null : a - b;
}

function hasTerm(text: string, term: string): boolean {
  const haystack = text.toLowerCase();
  const needle = term.toLowerCase();
  const alnum = /[a-z0-9]/;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : haystack[at - 1];
    const after = haystack[at + needle.length] ?? '';
    const startsTerm = !alnum.test(needle[0] ?? '') || !alnum.test(before);
    const endsTerm = !alnum.test(needle[needle.length - 1] ?? '') || !alnum.test(after);
    if (startsTerm && endsTerm) return true;
  }
  return false;
}

function arithmetic(op: string, left: KqlValue, right: KqlValue): KqlValue {
  if (isNull(left) || isNull(right)) return null;
  if (left instanceof Date && right instanceof Date && op === '-') return new Timespan(left.getTime() - right.getTime());
  if (left instanceof Date && right instanceof Timespan) return new Date(left.getTime() + (op === '+' ? right.ms : -right.ms));
  if (left instanceof Timespan && right instanceof Timespan) {
    if (op === '/') return left.ms / right.ms;
    return new Timespan(op === '+' ? left.ms + right.ms : left.ms - right.ms);
  }
  const a = toNumber(left);
  const b = toNumber(right);
  if (a === null || b === null) return null;
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return b === 0 ? null : a / b;
  }
}

interface Scope {
  row: KqlRow;
  now: Date;
}

function evaluate(expr: Expr, scope: Scope): KqlValue {
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'column':
      if (!(expr.name in scope.row)) throw new KqlError(`no column '${expr.name}' (columns: ${Object.keys(scope.row).join(', ')})`);
      return scope.row[expr.name] ?? null;
    case 'member': {
      const object = evaluate(expr.object, scope);
      if (isNull(object) || typeof object !== 'object' || object instanceof Date || object instanceof Timespan) return null;
      return ((object as Record<string, unknown>)[expr.name] as KqlValue | undefined) ?? null;
    }
    case 'in': {
      const value = evaluate(expr.value, scope);
      const found = expr.list.some((item) => compare(value, evaluate(item, scope)) === 0);
      return expr.negate ? !found : found;
    }
    case 'binary': {
      if (expr.op === 'and') return evaluate(expr.left, scope) === true && evaluate(expr.right, scope) === true;
      if (expr.op === 'or') return evaluate(expr.left, scope) === true || evaluate(expr.right, scope) === true;
      const left = evaluate(expr.left, scope);
      const right = evaluate(expr.right, scope);
      switch (expr.op) {
        case 'has':
          return hasTerm(toText(left), toText(right));
        case 'contains':
          return toText(left).toLowerCase().includes(toText(right).toLowerCase());
        case 'startswith':
          return toText(left).toLowerCase().startsWith(toText(right).toLowerCase());
        case '==':
        case '!=':
        case '<':
        case '<=':
        case '>':
        case '>=': {
          const order = compare(left, right);
          if (order === null) return false;
          return { '==': order === 0, '!=': order !== 0, '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[expr.op];
        }
        default:
          return arithmetic(expr.op, left, right);
      }
    }
    case 'call':
      return callScalar(expr, scope);
  }
}

function callScalar(expr: Extract<Expr, { type: 'call' }>, scope: Scope): KqlValue {
  if (AGGREGATES.has(expr.name)) throw new KqlError(`${expr.name}() is an aggregation: only in summarize`);
  const args = expr.args.map((arg) => evaluate(arg, scope));
  switch (expr.name) {
    case 'tostring':
      return toText(args[0]);
    case 'todouble':
    case 'tolong':
    case 'toint': {
      const number = toNumber(args[0]);
      return number === null ? null : expr.name === 'todouble' ? number : Math.trunc(number);
    }
    case 'round': {
      const number = toNumber(args[0]);
      const digits = toNumber(args[1] ?? 0) ?? 0;
      return number === null ? null : Math.round(number * 10 ** digits) / 10 ** digits;
    }
    case 'iff':
      return args[0] === true ? args[1] : args[2];
    case 'not':
      return args[0] !== true;
    case 'isempty':
      return isNull(args[0]) || args[0] === '';
    case 'isnotempty':
      return !(isNull(args[0]) || args[0] === '');
    case 'now':
      return scope.now;
    case 'ago':
      if (!(args[0] instanceof Timespan)) throw new KqlError('ago() takes a timespan');
      return new Date(scope.now.getTime() - args[0].ms);
    case 'bin': {
      const [value, size] = args;
      if (value instanceof Date && size instanceof Timespan) return new Date(Math.floor(value.getTime() / size.ms) * size.ms);
      const number = toNumber(value);
      const step = toNumber(size);
      return number === null || step === null ? null : Math.floor(number / step) * step;
    }
    case 'unixtime_seconds_todatetime': {
      const seconds = toNumber(args[0]);
      return seconds === null ? null : new Date(seconds * 1000);
    }
    default:
      throw new KqlError(`the function ${expr.name}() is not supported here (test/support/kql.ts)`);
  }
}

function aggregate(expr: Expr, rows: KqlRow[], now: Date): KqlValue {
  if (expr.type !== 'call' || !AGGREGATES.has(expr.name)) throw new KqlError('summarize takes aggregations (sum, count, max, ...)');
  const conditional = expr.name.endsWith('if');
  const base = conditional ? expr.name.slice(0, -2) : expr.name;
  const predicate = conditional ? expr.args[base === 'count' ? 0 : 1] : undefined;
  const selected = predicate ? rows.filter((row) => evaluate(predicate, { row, now }) === true) : rows;
  if (base === 'count') return selected.length;
  const values = selected.map((row) => toNumber(evaluate(expr.args[0], { row, now }))).filter((value): value is number => value !== null);
  switch (base) {
    case 'sum':
      return values.reduce((total, value) => total + value, 0);
    case 'max':
      return values.length === 0 ? null : Math.max(...values);
    case 'min':
      return values.length === 0 ? null : Math.min(...values);
    default:
      return values.length === 0 ? null : values.reduce((total, value) => total + value, 0) / values.length;
  }
}

function groupKey(values: KqlValue[]): string {
  return JSON.stringify(values.map((value) => (value instanceof Date ? `d:${value.getTime()}` : value instanceof Timespan ? `t:${value.ms}` : value)));
}

function apply(operator: Operator, rows: KqlRow[], now: Date): KqlRow[] {
  switch (operator.type) {
    case 'where':
      return rows.filter((row) => evaluate(operator.predicate, { row, now }) === true);
    case 'extend':
      return rows.map((row) => {
        const out = { ...row };
        for (const column of operator.columns) out[column.name] = evaluate(column.expr, { row: out, now });
        return out;
      });
    case 'project':
      return rows.map((row) => Object.fromEntries(operator.columns.map((column) => [column.name, evaluate(column.expr, { row, now })])));
    case 'order':
      return [...rows].sort((a, b) => {
        for (const key of operator.keys) {
          const order = compare(evaluate(key.expr, { row: a, now }), evaluate(key.expr, { row: b, now }));
          if (order) return key.descending ? -order : order;
        }
        return 0;
      });
    case 'summarize': {
      const groups = new Map<string, { keys: KqlRow; rows: KqlRow[] }>();
      for (const row of rows) {
        const keys = Object.fromEntries(operator.by.map((column) => [column.name, evaluate(column.expr, { row, now })]));
        const id = groupKey(Object.values(keys));
        const group = groups.get(id) ?? { keys, rows: [] };
        group.rows.push(row);
        groups.set(id, group);
      }
      // Without `by`, one row even over no rows.
      if (operator.by.length === 0 && groups.size === 0) groups.set('', { keys: {}, rows: [] });
      return [...groups.values()].map((group) => ({ ...group.keys, ...Object.fromEntries(operator.aggregates.map((column) => [column.name, aggregate(column.expr, group.rows, now)])) }));
    }
  }
}

/** Runs `query` over `tables` (by table name) at the time `now`. */
export function runKql(query: string, tables: Record<string, KqlRow[]>, now: Date): KqlRow[] {
  const parsed = new Parser(tokenize(query)).query();
  const source = tables[parsed.table];
  if (!source) throw new KqlError(`no table '${parsed.table}' in this workspace (tables: ${Object.keys(tables).join(', ')})`);
  return parsed.operators.reduce((rows, operator) => apply(operator, rows, now), source);
}

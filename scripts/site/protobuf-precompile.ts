/**
 * Makes protobufjs run under the page's Content-Security-Policy (`script-src 'self'`, no
 * 'unsafe-eval'). protobufjs's reflection generates each type's encode/decode/verify functions as
 * source text and compiles them with `Function(...)`, which that policy forbids. Here the build
 * runs the phone library once in Node with protobufjs's `util.codegen` recording every function
 * it generates, and the browser bundle gets a `codegen` whose finishing step looks the function up
 * in that table (real code in the bundle) instead of compiling it. The generated source depends
 * only on the schema and the protobufjs version, both the same at build time and in the browser;
 * a function the build did not record fails loudly, never silently.
 */
import { readFileSync } from 'node:fs';
import type { Plugin } from 'esbuild';
import protobuf from 'protobufjs/light';

type Codegen = ((formatOrScope?: unknown, ...params: unknown[]) => unknown) & { toString(name?: string): string };
type CodegenFactory = (params?: string[] | string, name?: string) => Codegen;

/** The two lines of protobufjs/src/util/codegen.js that compile source text. */
const COMPILE_WITH_SCOPE = 'return Function.apply(null, scopeParams).apply(null, scopeValues); // eslint-disable-line no-new-func';
const COMPILE_WITHOUT_SCOPE = 'return Function(source)(); // eslint-disable-line no-new-func';
const CODEGEN_MODULE = /protobufjs[\\/]src[\\/]util[\\/]codegen\.js$/;

/** Key of a generated function: its scope's names and its source, as codegen.js finishes them. */
function keyOf(scopeNames: readonly string[], source: string): string {
  return `${scopeNames.join(',')}\n${source}`;
}

/**
 * Runs `exercise` (which should drive every protobufjs type the page uses) with codegen recorded;
 * resolves to the table of generated functions, as JavaScript source.
 */
export async function recordGeneratedFunctions(exercise: () => Promise<void>): Promise<string> {
  const util = protobuf.util as unknown as { codegen: CodegenFactory };
  const original = util.codegen;
  const recorded = new Map<string, string>();
  util.codegen = (params, name) => {
    const gen = original(params, name);
    const wrapper = ((formatOrScope?: unknown, ...rest: unknown[]) => {
      if (typeof formatOrScope === 'string') {
        gen(formatOrScope, ...rest);
        return wrapper;
      }
      const source = `return ${gen.toString()}`;
      const names = formatOrScope ? Object.keys(formatOrScope) : [];
      recorded.set(keyOf(names, source), `function(${names.join(',')}){${source}}`);
      return gen(formatOrScope);
    }) as Codegen;
    wrapper.toString = (override?: string) => gen.toString(override);
    return wrapper;
  };
  try {
    await exercise();
  } finally {
    util.codegen = original;
  }
  if (recorded.size === 0) throw new Error('the phone library generated no protobufjs functions while verifying a sample file: the precompile step would be empty');
  return `[\n${[...recorded].map(([key, factory]) => `  [${JSON.stringify(key)}, ${factory}]`).join(',\n')}\n]`;
}

/** The esbuild plugin that swaps protobufjs's compiling codegen for the recorded table. */
export function cspSafeProtobuf(table: string): Plugin {
  return {
    name: 'csp-safe-protobufjs',
    setup(build) {
      build.onLoad({ filter: CODEGEN_MODULE }, (args) => {
        const original = readFileSync(args.path, 'utf8');
        if (!original.includes(COMPILE_WITH_SCOPE) || !original.includes(COMPILE_WITHOUT_SCOPE)) {
          throw new Error(`${args.path} no longer compiles functions the way this build expects (protobufjs upgraded?): update scripts/site/protobuf-precompile.ts`);
        }
        const lookup = [
          `var __precompiled = new Map(${table});`,
          'function __lookup(names, source) {',
          `  var factory = __precompiled.get(names.join(",") + "\\n" + source);`,
          '  if (!factory) throw Error("protobufjs: no precompiled function for " + source.slice(0, 120) + " (rebuild the page: npm run build:site)");',
          '  return factory;',
          '}',
        ].join('\n');
        const contents = `${lookup}\n${original
          .replace(COMPILE_WITH_SCOPE, 'return __lookup(scopeParams.slice(0, -1), source).apply(null, scopeValues);')
          .replace(COMPILE_WITHOUT_SCOPE, 'return __lookup([], source)();')}`;
        return { contents, loader: 'js' };
      });
    },
  };
}

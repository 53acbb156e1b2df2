import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * What every command-line tool of this repository does alike: `--help` / `-h` prints its usage and exits 0; an
 * unknown or malformed flag is named, with a pointer to `--help`, and exits 2; a failure exits 1 with one line
 * naming what was tried (the address, the flag that sets it); the service's refusals show its code and message.
 */

/** A failure the user can act on: printed as one line, exit code 1 (or 2 for bad arguments). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

type HelpOption = { help: { type: 'boolean'; short: 'h'; default: false } };
type Parsed<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<{ options: O & HelpOption; allowPositionals: P; strict: true }>>;

/** parseArgs with the house rules above; `help` is added to the options. */
export function parseCli<O extends Options, P extends boolean = false>(o: { name: string; help: string; options: O; allowPositionals?: P; args?: string[] }): Parsed<O, P> {
  const options = { ...o.options, help: { type: 'boolean', short: 'h', default: false } } as O & HelpOption;
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs({ args: o.args, options, allowPositionals: (o.allowPositionals ?? false) as P, strict: true });
  } catch (e) {
    // node's messages name the flag ("Unknown option '--cabinetId'"); add where the real ones are listed.
    throw new CliError(`${(e as Error).message.split('. To specify')[0]}\nrun "${o.name} --help" for the options`, 2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(o.help.endsWith('\n') ? o.help : `${o.help}\n`);
    process.exit(0);
  }
  return parsed;
}

/** A flag's value as a number in [min, max]; anything else is bad arguments (exit 2). */
export function numberFlag(name: string, flag: string, value: string, o: { min?: number; max?: number; integer?: boolean } = {}): number {
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (!o.integer || Number.isInteger(n)) && n >= (o.min ?? -Infinity) && n <= (o.max ?? Infinity);
  if (!ok) throw badArguments(name, [`${flag}: expected ${o.integer ? 'a whole number' : 'a number'}${o.min !== undefined ? ` ≥ ${o.min}` : ''}${o.max !== undefined ? ` ≤ ${o.max}` : ''}, got "${value}"`]);
  return n;
}

/** Bad arguments found after parsing (a schema's issues mapped to flags): exit 2. */
export function badArguments(name: string, problems: string[]): CliError {
  return new CliError(`bad arguments:\n${problems.map((p) => `  ${p}`).join('\n')}\nrun "${name} --help" for the options`, 2);
}

/**
 * fetch, but a connection failure names the address tried and the flag or variable that sets it instead of
 * undici's bare "fetch failed".
 */
export async function reach(url: string, init: RequestInit | undefined, setBy: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new CliError(`cannot reach ${new URL(url).origin} (${why}): is the service running there? (set by ${setBy})`);
  }
}

/** The `{ error: { code, message } }` envelope of a refused call, as one line. */
export async function refusal(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error) return `refused (${res.status}): ${body.error.code ?? ''} ${body.error.message ?? ''}`.trim();
  } catch {
    // not JSON: show the start of what came back
  }
  return `refused (${res.status}): ${text.slice(0, 200)}`;
}

/** For arguments read at a module's top level: a CliError prints its message and exits with its code. */
export function argsOrExit<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exit(e.exitCode);
  }
}

/** Runs a CLI's main: a CliError prints its message and exits with its code, anything else exits 1. */
export function runCli(name: string, main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.stderr.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof CliError ? e.exitCode : 1);
  });
}

/** A schema's issues as lines naming the flag each field comes from (`cabinetId` → `--id`). */
export function issuesByFlag(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>, flagOf: Readonly<Record<string, string>>): string[] {
  return issues.map((i) => {
    const field = String(i.path[0] ?? '');
    return `${flagOf[field] ?? `--${field}`}: ${i.message}`;
  });
}

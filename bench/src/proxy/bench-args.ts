/**
 * Command-line parsing shared by the bench entry points: `--help` prints the bench's usage on
 * stdout and exits 0; an unknown or malformed option prints the parser's one-line reason and the
 * usage on stderr and exits 2 — never a stack trace. Options are node:util parseArgs options.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

export function parseBenchArgs<O extends Options>(options: O, usage: string, argv: readonly string[] = process.argv.slice(2)): Values<O> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

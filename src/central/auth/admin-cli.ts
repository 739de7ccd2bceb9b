// One-time command that creates the first administrator of the command centre:
//   printf '%s\n' "$PASSWORD" | npx tsx src/central/auth/admin-cli.ts --config central.json --username NAME
// The password is read from standard input, so it never appears in the process list or shell history.
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { loadCentralConfig } from '../config.js';
import { openStore } from '../store/open-store.js';
import { createInitialAdministrator } from './initial-admin.js';

async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  if (firstLine.length === 0) throw new Error('no password on standard input; pipe it in, one line');
  return firstLine;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('create-admin')
    .description('Create the first command-centre administrator; rejected when one already exists. Reads the password from standard input.')
    .requiredOption('--config <file>', 'central service JSON config file (its database is used)')
    .requiredOption('--username <name>', 'administrator user name: 1-64 letters, digits, ., _ or -')
    .parse(argv);
  const options = program.opts<{ config: string; username: string }>();

  const config = loadCentralConfig(options.config);
  const password = await readPasswordFromStdin();
  const store = await openStore(config.database);
  try {
    await createInitialAdministrator(store, options.username, password, { origin: 'the create-admin command' });
  } finally {
    await store.close();
  }
  process.stdout.write(`administrator ${options.username} created\n`);
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  main(process.argv).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
    process.stderr.write(`create-admin: ${message}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
    process.exit(1);
  });
}

/**
 * `npm run provision -- --id SH-AUTO-09 --kind auto --site shanghai-hq --cameras top,side [--name "…"] [--url http://127.0.0.1:8080]`
 *
 * Registers a cabinet through the running service's admin API and prints its device secret — once; the
 * service keeps it only sealed. The admin token comes from ADMIN_TOKEN or DATA_DIR/admin.token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvisionRequest } from '../../app/provisioning';
import { CliError, badArguments, issuesByFlag, parseCli, reach, refusal, runCli } from '../../common/cli';

export function adminToken(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ADMIN_TOKEN) return env.ADMIN_TOKEN;
  const file = join(env.DATA_DIR ?? './data', 'admin.token');
  if (!existsSync(file)) throw new CliError(`no ADMIN_TOKEN and no ${file}: start the service once, set ADMIN_TOKEN, or set DATA_DIR to the service's`);
  return readFileSync(file, 'utf8').trim();
}

const HELP = `Registers a cabinet through the running service and prints its device secret once.

  npm run provision -- --id SH-AUTO-09 --kind auto --site shanghai-hq [--cameras top,side] [--name "12F pantry"]

Options
  --id ID          cabinet id (letters, digits, - and _)
  --kind K         open | semi | auto (the purchase flow)
  --site S         the site the cabinet belongs to
  --cameras LIST   comma-separated camera names (none for an open shelf)
  --name N         display name (default: the id)
  --url U          the service (default http://127.0.0.1:$PORT, PORT default 8080)

The admin token comes from ADMIN_TOKEN, else DATA_DIR/admin.token (DATA_DIR default ./data).
Exit codes: 0 registered, 1 refused or the service unreachable, 2 bad arguments.
`;

/** Which flag each field of the request comes from, so a refusal names what the user typed. */
const FLAG_OF = { cabinetId: '--id', name: '--name', kind: '--kind', siteId: '--site', cameras: '--cameras', lanes: '--kind' } as const;

async function main(): Promise<void> {
  const { values } = parseCli({
    name: 'npm run provision --',
    help: HELP,
    options: {
      url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 8080}` },
      id: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      site: { type: 'string' },
      cameras: { type: 'string', default: '' },
    },
  });
  const req = ProvisionRequest.safeParse({
    cabinetId: values.id,
    name: values.name ?? values.id,
    kind: values.kind,
    siteId: values.site,
    cameras: values.cameras ? values.cameras.split(',').map((c) => c.trim()) : [],
  });
  if (!req.success) throw badArguments('npm run provision --', issuesByFlag(req.error.issues, FLAG_OF));
  const res = await reach(
    `${values.url}/admin/cabinets`,
    { method: 'POST', headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' }, body: JSON.stringify(req.data) },
    '--url',
  );
  const body = res.status === 201 ? ((await res.json()) as { secret?: string }) : {};
  if (!body.secret) throw new CliError(await refusal(res));
  process.stdout.write(
    `registered ${req.data.cabinetId} (${req.data.kind}, site ${req.data.siteId})\n` +
      `device secret (shown once; store it on the cabinet): ${body.secret}\n` +
      `QR: ${values.url}/c/${req.data.cabinetId}?flow=${req.data.kind}\n`,
  );
}

if (require.main === module) runCli('provision', main);

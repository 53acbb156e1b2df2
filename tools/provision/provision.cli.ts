/**
 * `npm run provision -- --id SH-AUTO-09 --kind auto --site shanghai-hq --cameras top,side [--name "…"] [--url http://127.0.0.1:8080]`
 *
 * Registers a cabinet through the running service's admin API and prints its device secret — once; the
 * service keeps it only sealed. The admin token comes from ADMIN_TOKEN or DATA_DIR/admin.token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProvisionRequest } from '../../app/provisioning';

export function adminToken(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ADMIN_TOKEN) return env.ADMIN_TOKEN;
  const file = join(env.DATA_DIR ?? './data', 'admin.token');
  if (!existsSync(file)) throw new Error(`no ADMIN_TOKEN and no ${file}: start the service once, or set ADMIN_TOKEN`);
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
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
  if (!req.success) {
    process.stderr.write(`bad arguments:\n${req.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}\n`);
    process.exit(2);
  }
  const res = await fetch(`${values.url}/admin/cabinets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify(req.data),
  });
  const body = (await res.json()) as { secret?: string; error?: { code: string; message: string } };
  if (res.status !== 201 || !body.secret) {
    process.stderr.write(`refused (${res.status}): ${body.error?.code ?? ''} ${body.error?.message ?? ''}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `registered ${req.data.cabinetId} (${req.data.kind}, site ${req.data.siteId})\n` +
      `device secret (shown once; store it on the cabinet): ${body.secret}\n` +
      `QR: https://<service host>/c/${req.data.cabinetId}?flow=${req.data.kind}\n`,
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`provision failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

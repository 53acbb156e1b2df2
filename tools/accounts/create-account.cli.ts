/**
 * `npm run console:admin -- --username alice --name "Alice" [--role admin] [--sites '*' | shanghai-hq,beijing-office] [--url http://127.0.0.1:8080]`
 *
 * Creates a console account through the running service (the first admin, or any account), authenticated by
 * the bootstrap ADMIN_TOKEN (or DATA_DIR/admin.token), and prints the generated password once; the service
 * keeps only its scrypt hash. The creation is audit-logged as done by the bootstrap token.
 */
import { parseArgs } from 'node:util';
import { generatePassword } from '../../common/password';
import { ADMIN_PREFIX, CreateAccountRequest } from '../../contracts/console-api';
import { adminToken } from '../provision/provision.cli';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 8080}` },
      username: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'admin' },
      sites: { type: 'string', default: '*' },
    },
  });
  const password = generatePassword();
  const req = CreateAccountRequest.safeParse({
    username: values.username,
    name: values.name ?? values.username,
    role: values.role,
    sites: values.sites === '*' ? '*' : (values.sites ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    password,
  });
  if (!req.success) {
    process.stderr.write(`bad arguments:\n${req.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}\n`);
    process.exit(2);
  }
  const res = await fetch(`${values.url}${ADMIN_PREFIX}/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify(req.data),
  });
  const body = (await res.json()) as { error?: { code: string; message: string } };
  if (res.status !== 201) {
    process.stderr.write(`refused (${res.status}): ${body.error?.code ?? ''} ${body.error?.message ?? ''}\n`);
    process.exit(1);
  }
  process.stdout.write(`created ${req.data.username} (${req.data.role}, sites ${req.data.sites === '*' ? '*' : req.data.sites.join(',')})\npassword (shown once): ${password}\nsign in at ${values.url}/admin/\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`create account failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

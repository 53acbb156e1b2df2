/**
 * `npm run console:admin -- --username alice --name "Alice" [--role admin] [--sites '*' | shanghai-hq,beijing-office] [--url http://127.0.0.1:8080]`
 *
 * Creates a console account through the running service (the first admin, or any account), authenticated by
 * the bootstrap ADMIN_TOKEN (or DATA_DIR/admin.token), and prints the generated password once; the service
 * keeps only its scrypt hash. The creation is audit-logged as done by the bootstrap token.
 */
import { generatePassword } from '../../common/password';
import { ADMIN_PREFIX, CreateAccountRequest } from '../../contracts/console-api';
import { CliError, badArguments, issuesByFlag, parseCli, reach, refusal, runCli } from '../../common/cli';
import { adminToken } from '../provision/provision.cli';

const HELP = `Creates a console account through the running service and prints its generated password once.

  npm run console:admin -- --username alice [--name "Alice"] [--role admin] [--sites '*' | shanghai-hq,beijing-office]

Options
  --username U     sign-in name
  --name N         display name (default: the username)
  --role R         admin | operator | restocker | finance | viewer (default admin)
  --sites S        '*' for every site, or a comma-separated list of site ids (default '*')
  --url U          the service (default http://127.0.0.1:$PORT, PORT default 8080)

Authenticated by the bootstrap ADMIN_TOKEN, else DATA_DIR/admin.token (DATA_DIR default ./data).
Exit codes: 0 created, 1 refused or the service unreachable, 2 bad arguments.
`;

const FLAG_OF = { username: '--username', name: '--name', role: '--role', sites: '--sites' } as const;

async function main(): Promise<void> {
  const { values } = parseCli({
    name: 'npm run console:admin --',
    help: HELP,
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
  if (!req.success) throw badArguments('npm run console:admin --', issuesByFlag(req.error.issues, FLAG_OF));
  const res = await reach(
    `${values.url}${ADMIN_PREFIX}/accounts`,
    { method: 'POST', headers: { authorization: `Bearer ${adminToken()}`, 'content-type': 'application/json' }, body: JSON.stringify(req.data) },
    '--url',
  );
  if (res.status !== 201) throw new CliError(await refusal(res));
  process.stdout.write(`created ${req.data.username} (${req.data.role}, sites ${req.data.sites === '*' ? '*' : req.data.sites.join(',')})\npassword (shown once): ${password}\nsign in at ${values.url}/admin/\n`);
}

runCli('console:admin', main);

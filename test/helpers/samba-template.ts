import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DOMAIN = 'DC=example,DC=test';
export const ADMINISTRATOR = { dn: 'Administrator@example.test', password: 'Passw0rd.Test1' };
/** iden's bind account: may write the member attribute of groups under OU=Groups, and userAccountControl of users under OU=Contractors,OU=People. */
export const SVC = { dn: 'svc-iden@example.test', password: 'Svc.Pass1234' };
/** People made with the template, apart from everyone else: CN=u0000,OU=Bulk … CN=u2999,OU=Bulk, enabled. */
export const BULK = 3000;

export function sh(program: string, args: string[]): string {
  return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Samba's own Python (the system's), whatever python3 comes first on the PATH.
const BULK_USERS = `
import sys
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=sys.argv[2], session_info=system_session(), lp=lp)
base = str(db.domain_dn())
db.transaction_start()
for i in range(int(sys.argv[3])):
    name = "u%04d" % i
    db.add({"dn": "CN=%s,OU=Bulk,%s" % (name, base), "objectClass": "user", "sAMAccountName": name,
            "userPrincipalName": name + "@example.test", "userAccountControl": "544"})
db.transaction_commit()
`;

/**
 * A provisioned domain controller with iden's bind account, its delegated
 * rights and 3,000 people, made once per Samba version under `cache` (the
 * system's temporary folder): provisioning and the people take about 15 s,
 * a copy a fraction of one.
 */
export function template(cache: string): { dir: string; origin: string } {
  const version = sh('samba', ['--version'])
    .trim()
    .replace(/[^\w.-]+/g, '_');
  const dir = join(cache, `iden-samba-dc-${version}-v3`);
  if (existsSync(join(dir, '.complete')))
    return { dir, origin: readFileSync(join(dir, '.complete'), 'utf8') };
  const build = `${dir}.build-${process.pid}`;
  rmSync(build, { recursive: true, force: true });
  sh('samba-tool', [
    ...['domain', 'provision', '--use-rfc2307', '--realm=EXAMPLE.TEST', '--domain=EXAMPLE'],
    ...['--server-role=dc', '--dns-backend=NONE', `--adminpass=${ADMINISTRATOR.password}`, '--host-name=dc1'],
    ...[`--targetdir=${build}`, '--option=interfaces=127.0.0.2/8', '--option=bind interfaces only=yes'],
  ]);
  const conf = join(build, 'etc', 'smb.conf');
  const global = [
    `pid directory = ${build}/run`,
    `ncalrpc dir = ${build}/run/ncalrpc`,
    `winbindd socket directory = ${build}/run/winbindd`,
    `log file = ${build}/log/log.%m`,
    'server services = ldap, cldap',
  ];
  const text = readFileSync(conf, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(log file|server services)\s*=/.test(line))
    .join('\n')
    .replace('[global]\n', `[global]\n${global.map((l) => `\t${l}\n`).join('')}`);
  writeFileSync(conf, text);
  const local = ['-H', join(build, 'private', 'sam.ldb'), `--configfile=${conf}`];
  // Passwords that never expire: the template outlives AD's 42 days, and the suite runs with clocks moved ahead.
  sh('samba-tool', ['domain', 'passwordsettings', 'set', '--max-pwd-age=0', '--min-pwd-age=0', ...local]);
  for (const ou of ['OU=Groups', 'OU=Bulk', 'OU=People', 'OU=Staff,OU=People', 'OU=Contractors,OU=People'])
    sh('samba-tool', ['ou', 'add', ou, ...local]);
  sh('samba-tool', ['user', 'create', 'svc-iden', SVC.password, ...local]);
  const sid = /objectSid: (\S+)/.exec(
    sh('samba-tool', ['user', 'show', 'svc-iden', '--attributes=objectSid', ...local]),
  )![1]!;
  // Write member on group objects under OU=Groups; write userAccountControl on user objects under OU=Contractors.
  const MEMBER = 'bf9679c0-0de6-11d0-a285-00aa003049e2';
  const GROUP = 'bf967a9c-0de6-11d0-a285-00aa003049e2';
  const UAC = 'bf967a68-0de6-11d0-a285-00aa003049e2';
  const USER = 'bf967aba-0de6-11d0-a285-00aa003049e2';
  for (const [ou, attribute, objectClass] of [
    ['OU=Groups', MEMBER, GROUP],
    ['OU=Contractors,OU=People', UAC, USER],
  ])
    sh('samba-tool', [
      ...['dsacl', 'set', `--objectdn=${ou},${DOMAIN}`],
      `--sddl=(OA;CI;WP;${attribute};${objectClass};${sid})`,
      ...local,
    ]);
  const script = join(build, 'bulk.py');
  writeFileSync(script, BULK_USERS);
  sh('/usr/bin/python3', [script, conf, join(build, 'private', 'sam.ldb'), String(BULK)]);
  writeFileSync(join(build, '.complete'), build);
  try {
    renameSync(build, dir);
  } catch {
    // Another run made it meanwhile: use theirs.
    rmSync(build, { recursive: true, force: true });
  }
  return { dir, origin: readFileSync(join(dir, '.complete'), 'utf8') };
}

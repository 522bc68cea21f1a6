// What `iden check-pr` run by hand takes when its flags leave it out: the
// protected branch as the clone knows it, HEAD, and the git user's login.
import { knownDefaultBranch } from '../git/clone.js';
import { gitConfig } from '../git/identity.js';
import { basePolicy } from './base-policy.js';
import { branchTip, findProtected, type Protected } from './protected.js';
import { readPolicy } from './read-change.js';

export interface LocalPull {
  protected: Protected;
  /** The git user's GitHub login, as the protected branch's directory says it; undefined when it does not. */
  author: string | undefined;
  /** Who the git user is, for saying why no login was found. */
  email: string;
}

/** The protected branch (origin's default branch as last fetched, else main or master) and the git user's login. */
export async function localPull(root: string): Promise<LocalPull | { problem: string }> {
  let branch = await knownDefaultBranch(root);
  for (const name of ['main', 'master']) if (!branch && (await branchTip(root, name))) branch = name;
  if (!branch) return { problem: 'no default branch in this clone: pass --base (the protected branch)' };
  const found = await findProtected(root, branch);
  if ('problem' in found) return found;
  const email = (await gitConfig(root, 'user.email')).toLowerCase();
  const tip = await readPolicy(root, found.tip);
  const person = tip.people?.value?.people.find((p) => email !== '' && p.email.toLowerCase() === email);
  return { protected: found, author: person && basePolicy(tip).loginOf.get(person.id), email };
}

// Cuts GitHub's published REST description (the @octokit/openapi npm package)
// down to the paths iden uses, for the test servers to check themselves
// against. Run with the unpacked package's folder:
//   npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
//   node scripts/vendor-github-spec.mjs package
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PATHS = [
  '/orgs/{org}/members',
  '/orgs/{org}/members/{username}',
  '/orgs/{org}/memberships/{username}',
  '/orgs/{org}/invitations',
  '/orgs/{org}/invitations/{invitation_id}',
  '/orgs/{org}/failed_invitations',
  '/orgs/{org}/teams',
  '/orgs/{org}/teams/{team_slug}',
  '/orgs/{org}/teams/{team_slug}/members',
  '/orgs/{org}/teams/{team_slug}/memberships/{username}',
  '/repos/{owner}/{repo}/collaborators',
  '/repos/{owner}/{repo}/collaborators/{username}',
  '/repos/{owner}/{repo}/collaborators/{username}/permission',
  '/orgs/{org}/copilot/billing',
  '/orgs/{org}/copilot/billing/seats',
  '/orgs/{org}/copilot/billing/selected_users',
  '/repos/{owner}/{repo}',
  '/repos/{owner}/{repo}/pulls',
  '/repos/{owner}/{repo}/pulls/{pull_number}',
  '/repos/{owner}/{repo}/pulls/{pull_number}/commits',
  '/repos/{owner}/{repo}/pulls/{pull_number}/files',
  '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
  '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers',
  '/repos/{owner}/{repo}/pulls/{pull_number}/merge',
  '/repos/{owner}/{repo}/issues/{issue_number}/comments',
  '/repos/{owner}/{repo}/issues/comments/{comment_id}',
  '/repos/{owner}/{repo}/statuses/{sha}',
  '/repos/{owner}/{repo}/check-runs',
  '/repos/{owner}/{repo}/commits/{commit_sha}/pulls',
  '/users/{username}',
  '/rate_limit',
  '/user',
];

const FILES = [
  ['api.github.com.deref.json', 'github-rest-subset.json', 'api.github.com'],
  ['ghes-3.17.deref.json', 'github-ghes-3.17-subset.json', 'GitHub Enterprise Server 3.17'],
  ['ghes-3.19.deref.json', 'github-ghes-3.19-subset.json', 'GitHub Enterprise Server 3.19'],
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const pkg = process.argv[2];
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  for (const [source, target, plan] of FILES) {
    // A package without one of the descriptions leaves its subset as it is.
    if (!existsSync(join(pkg, 'generated', source))) continue;
    const spec = JSON.parse(readFileSync(join(pkg, 'generated', source), 'utf8'));
    const paths = Object.fromEntries(PATHS.filter((p) => spec.paths[p]).map((p) => [p, spec.paths[p]]));
    const out = {
      openapi: spec.openapi,
      info: {
        ...spec.info,
        version,
        description: `Subset of GitHub's official REST API description (octokit/openapi, ${source}), only the paths this project uses.`,
        'x-github-plan': plan,
      },
      servers: spec.servers,
      paths,
    };
    writeFileSync(join('test', 'fixtures', target), JSON.stringify(out));
    console.log(`${target}: ${Object.keys(paths).length} of ${PATHS.length} paths (${plan})`);
  }
}

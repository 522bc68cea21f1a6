// The README `iden init` writes for the people who will use the new access
// repository: how to grant, add an app, upgrade iden and set up GitHub.

/** The access repository's README, naming its first Super Admin and the vendored tarball. */
export function accessReadme(admin: string, tarball: string): string {
  return `# Access

Who has access to which app, as files: \`grants/<app>/<person>.yaml\` gives one
person access to one app. iden (\`vendor/${tarball}\`; after \`npm ci\`, its guide
is \`node_modules/iden/README.md\` and its reference \`node_modules/iden/docs/\`)
checks the files on every pull request and, after the merge, makes the apps
hold exactly what they say.

## Grant access

\`npx iden grant\` asks which app, whom (search by name or email), which
permissions, which license tier (with the seats left) and when, then writes the
file, checks it, commits it on a branch of its own and, with \`GITHUB_TOKEN\`
set, opens the pull request and asks the approvers to review. \`npx iden
change\`, \`npx iden revoke\` and \`npx iden offboard\` do the same for existing
access. Or by hand:

1. Add the person to \`grants/_people.yaml\` (id, name, email, and
   \`accounts: { github: <login> }\` for GitHub and for approving pull requests).
2. Write \`grants/<app>/<person>.yaml\`:

   \`\`\`yaml
   user: <person>
   app: <app>
   permissions: [<entitlement>]
   end: 2027-06-30        # optional; start: too
   reason: Why they need it
   \`\`\`

3. \`npx iden validate\`, then open a pull request. A Super Admin or a Users
   Read/Write admin (\`grants/_settings.yaml\`) grants directly; anyone else's
   request needs the approval of the app's approver or a Super Admin. Every
   other change (settings, people, apps, workflows) needs a Super Admin who did
   not write it. The Super Admin today is ${admin}.

## Add an app

Write \`grants/<app>/_app.yaml\`: its connector (\`postgres\`, \`github\`,
\`scim\`, \`ldap\`, \`okta\`, \`google-workspace\`, \`entra\` or
\`aws-identity-center\`), its entitlements and paid tiers, and its approvers
(iden's README has the smallest file for each). Put the app's secret in the
GitHub environment \`iden\`, under the name its settings give (\`tokenEnv\`,
\`urlEnv\`, …), and in the \`env\` of the iden step of \`iden-apply.yml\` and
\`iden-reconcile.yml\`. Then \`npx iden import --app <app>\` writes a grant
file for everyone who already has access, for review in the first pull
request.

A \`postgres\` app with no \`url\` or \`urlEnv\` is an embedded database under
\`.iden/\` of the clone it runs in: for trying iden out only, since every CI job
starts with an empty one.

## Upgrade iden

Replace \`vendor/${tarball}\` with the new tarball, point \`package.json\` at it,
run \`npm install\`, and open a pull request: a Super Admin approves it.

## Set up GitHub

Protect the default branch (require a pull request and the status check
\`iden/policy\`), create the environment \`iden\` limited to the default branch,
and set Actions' default permissions to read. The workflows in
\`.github/workflows/\` check pull requests, apply merges and reconcile every
15 minutes.
`;
}

/**
 * Branch protection's required status checks, as GitHub applies them when a
 * pull request is merged: for each required context, the latest status set
 * on the head commit decides (a later status replaces an earlier one of the
 * same context). No status, or a pending one, and GitHub answers 405
 * `Required status check "<context>" is expected.`; a failure or an error,
 * 405 `Required status check "<context>" is failing.`
 */
export function requiredCheckRefusal(
  statuses: readonly { sha: string; state: string; context: string }[],
  head: string,
  required: readonly string[],
): string | undefined {
  for (const context of required) {
    const latest = statuses.filter((s) => s.sha === head && s.context === context).at(-1);
    if (!latest || latest.state === 'pending') return `Required status check "${context}" is expected.`;
    if (latest.state !== 'success') return `Required status check "${context}" is failing.`;
  }
  return undefined;
}

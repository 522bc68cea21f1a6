/** Whether the run is in CI: CI set to anything but "" or "false" (what GitHub Actions and most CI systems set). */
export function inCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
}

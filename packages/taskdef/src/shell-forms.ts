/*
 * The shell forms of the seed's entryPoint, fixed: curl fails on HTTP errors (-f) and gives up
 * after 2 s, so an error page or a hang never becomes the host; a DD_AGENT_HOST the user set is
 * left alone; the app is exec'ed (it gets docker stop's SIGTERM); and the container's command
 * reaches it as "$@" (`sh -c SCRIPT sh ARGS...`). No jq: the metadata file is read with sed,
 * which matches an IPv4 address only.
 */

export type ShellMode = 'metadata-file' | 'imdsv2' | 'imdsv1';
export const SHELL_MODES: readonly ShellMode[] = ['metadata-file', 'imdsv2', 'imdsv1'];

const IMDS = 'http://169.254.169.254/latest';

const SCRIPTS: Record<ShellMode, string> = {
  'metadata-file':
    'if [ -z "${DD_AGENT_HOST:-}" ] && [ -n "${ECS_CONTAINER_METADATA_FILE:-}" ]; then '
    + 'for i in 1 2 3; do DD_AGENT_HOST=$(sed -n \'s/.*"HostPrivateIPv4Address":[[:space:]]*"\\([0-9.]*\\)".*/\\1/p\' "$ECS_CONTAINER_METADATA_FILE" 2>/dev/null); '
    + '[ -n "$DD_AGENT_HOST" ] && break; sleep 1; done; '
    + 'if [ -n "$DD_AGENT_HOST" ]; then export DD_AGENT_HOST; else unset DD_AGENT_HOST; fi; fi; exec "$@"',
  imdsv2:
    'if [ -z "${DD_AGENT_HOST:-}" ]; then '
    + `TOKEN=$(curl -sf --max-time 2 -X PUT ${IMDS}/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600') && `
    + `DD_AGENT_HOST=$(curl -sf --max-time 2 -H "X-aws-ec2-metadata-token: $TOKEN" ${IMDS}/meta-data/local-ipv4) && export DD_AGENT_HOST || unset DD_AGENT_HOST; `
    + 'unset TOKEN; fi; exec "$@"',
  imdsv1:
    'if [ -z "${DD_AGENT_HOST:-}" ]; then '
    + `DD_AGENT_HOST=$(curl -sf --max-time 2 ${IMDS}/meta-data/local-ipv4) && export DD_AGENT_HOST || unset DD_AGENT_HOST; `
    + 'fi; exec "$@"',
};

export function shellScript(mode: ShellMode): string {
  return SCRIPTS[mode];
}

/** The mode of an entryPoint this tool wrote, so that patching again replaces it. */
export function ownShellMode(entryPoint: readonly string[] | undefined): ShellMode | undefined {
  if (!entryPoint || entryPoint[0] !== 'sh' || entryPoint[1] !== '-c' || entryPoint[3] !== 'sh') return undefined;
  return SHELL_MODES.find((m) => SCRIPTS[m] === entryPoint[2]);
}

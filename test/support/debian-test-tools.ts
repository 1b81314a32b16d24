/** The one command that installs every Debian package the integration and system tiers use. */
export const INSTALL_TEST_TOOLS = 'sudo bash scripts/ensure-test-tools.sh';

/** The Debian package of each program the tests compare against. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  'teem-unu': 'teem-apps',
  protoc: 'protobuf-compiler',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  python3: 'python3',
  openssl: 'openssl',
  ip: 'iproute2',
  curl: 'curl',
  mkfifo: 'coreutils',
  sha256sum: 'coreutils',
};

/** The Debian package of each Python module the tests' python3 scripts import. */
export const PYTHON_PACKAGES: Readonly<Record<string, string>> = {
  numpy: 'python3-numpy',
  google: 'python3-protobuf',
};

/** The line to add to the failure of `command`, or null when it is not a missing test tool. */
export function missingToolHint(command: string, error: Error, stderr: string): string | null {
  const name = command.split('/').pop() ?? command;
  const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' ? TOOL_PACKAGES[name] : undefined;
  if (missing !== undefined) {
    return `${name} is not installed: the Debian package ${missing} provides it; install the test tools with: ${INSTALL_TEST_TOOLS}`;
  }
  const module = name.startsWith('python3') ? /No module named '([\w]+)/.exec(stderr)?.[1] : undefined;
  const pythonPackage = module === undefined ? undefined : PYTHON_PACKAGES[module];
  if (pythonPackage !== undefined) {
    return `python3 cannot import ${module}: the Debian package ${pythonPackage} provides it; install the test tools with: ${INSTALL_TEST_TOOLS}`;
  }
  return null;
}

import { missingToolHint } from './debian-test-tools.js';
import { appendToMessage, hookChildProcess } from './hook-child-process.js';

/**
 * Loaded with `--import` into the processes of the integration and system tiers: when a test runs an
 * independent tool that is not installed, its failure names the Debian package and the one command that
 * installs them all, instead of a bare `spawn teem-unu ENOENT`.
 */
hookChildProcess({
  explain(command, error, stderr) {
    const hint = missingToolHint(command, error, stderr);
    if (hint !== null) appendToMessage(error, hint);
  },
});

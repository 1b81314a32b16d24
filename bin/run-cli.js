// Shared by bin/voxelfeed.js (compiled code) and bin/voxelfeed-dev.js (the TypeScript sources).

/** Imports the CLI module at `url` and runs its main() on this process's arguments. */
export async function runCli(url) {
  // A reader that goes away (`voxelfeed index DIR | head`) ends the command quietly, as Unix tools end on
  // SIGPIPE: Node ignores that signal, so the next write fails with EPIPE, which would otherwise be thrown as
  // an unhandled 'error' event with its stack.
  for (const output of [process.stdout, process.stderr]) {
    output.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  const { main } = await import(url);
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    // An error main() has no line for is a bug: print it with its stack and causes, and exit at once as an
    // uncaught error would, but without the source line Node prints for one (with the wasm backend loaded,
    // that is a 36 KB minified line of the emscripten module that re-throws every uncaught error).
    console.error(error);
    process.exit(1);
  }
}

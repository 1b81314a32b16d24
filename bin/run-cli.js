// Shared by bin/voxelfeed.js (compiled code) and bin/voxelfeed-dev.js (the TypeScript sources).

/** Imports the CLI module at `url` and runs its main() on this process's arguments. */
export async function runCli(url) {
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

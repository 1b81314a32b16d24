// The part of the WebAssembly JavaScript API that the server's kernels (wasm-kernel.ts) and their tests use.
// Node has had it since its first releases, but @types/node 20 does not declare it, and TypeScript declares
// it only in its DOM and webworker libraries, which would bring browser globals into the server's code.
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Module {
    constructor(bytes: Uint8Array);
    static exports(module: Module): { name: string; kind: string }[];
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Instance {
    constructor(
      module: Module,
      imports: Record<string, Record<string, Memory | ((...args: never[]) => unknown)>>,
    );
    readonly exports: Record<string, unknown>;
  }
}

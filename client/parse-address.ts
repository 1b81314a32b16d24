/**
 * A server address as a client dials it: `host:port`, `[v6]:port`, or a gRPC `dns:` target
 * (`dns:///name:port`, `dns://resolver/name:port`), which stands for every address of the name.
 * The client owns this syntax (it dials these addresses); the commands that take addresses (train, load) read
 * their options with it, through the `address` option kinds of the command-line layer.
 */
export interface ParsedAddress {
  /** As written: a name, an IPv4 literal, or an IPv6 literal in its brackets (`[::1]`). */
  readonly host: string;
  /** 1..65535. */
  readonly port: number;
  /** A `dns:` target. */
  readonly dns: boolean;
}

export const MIN_ADDRESS_PORT = 1;
export const MAX_PORT = 65535;

const ADDRESS_FORMS = 'expected HOST:PORT or dns:///NAME:PORT ([IPv6]:PORT for an IPv6 address)';

/** The address, or a problem that says what is wrong with the text (without naming the option it came from). */
export function parseAddress(text: string): ParsedAddress | { readonly problem: string } {
  const dns = /^dns:(?:\/\/[^/\s]*\/)?(.*)$/.exec(text);
  const rest = dns === null ? text : dns[1]!;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d+)$/.exec(rest);
  if (match === null) {
    if (/^[0-9a-fA-F]*:[0-9a-fA-F:.]*:\d+$/.test(rest)) {
      return { problem: `${ADDRESS_FORMS}: put an IPv6 address in brackets, e.g. [::1]:50051` };
    }
    return { problem: ADDRESS_FORMS };
  }
  const port = Number(match[2]);
  if (!Number.isSafeInteger(port) || port < MIN_ADDRESS_PORT || port > MAX_PORT) {
    return { problem: `port ${match[2]} is out of range: a port is ${MIN_ADDRESS_PORT} to ${MAX_PORT}` };
  }
  return { host: match[1]!, port, dns: dns !== null };
}

/** `host` without the brackets of an IPv6 literal. */
export function unbracketHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

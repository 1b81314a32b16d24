import dgram from 'node:dgram';
import net from 'node:net';
import { inspect } from 'node:util';
import { hookChildProcess } from './hook-child-process.js';

/**
 * Loaded with `--import` into every process of the unit tier (`npm run test:unit`): a unit test that opens a
 * socket (even on 127.0.0.1) or runs a program other than node fails, naming what it tried. That keeps the
 * tier's promise checkable: it runs anywhere node runs, without network, Debian tools or root.
 */
const FIX =
  'unit tests open no sockets and run no program but node; ' +
  'if this test needs them, give its file the integration tier in scripts/test-tiers.ts';

class UnitTierViolation extends Error {
  override readonly name = 'UnitTierViolation';
}

function isNode(command: string): boolean {
  return command === process.execPath || command === 'node';
}

hookChildProcess({
  before(command, shell) {
    if (shell || !isNode(command)) {
      throw new UnitTierViolation(
        `the unit tier refused to run ${shell ? 'the shell command ' : ''}${command}: ${FIX}`,
      );
    }
  },
});

function refuse<T extends object>(prototype: T, method: keyof T & string, what: string): void {
  Object.defineProperty(prototype, method, {
    configurable: true,
    writable: true,
    value(...args: unknown[]): never {
      const where = args.length > 0 && typeof args[0] !== 'function' ? ` ${inspect(args[0])}` : '';
      throw new UnitTierViolation(`the unit tier refused to ${what}${where}: ${FIX}`);
    },
  });
}

refuse(net.Server.prototype, 'listen', 'listen on');
refuse(net.Socket.prototype, 'connect', 'connect to');
refuse(dgram.Socket.prototype, 'bind', 'bind a UDP socket to');
refuse(dgram.Socket.prototype, 'send', 'send a UDP datagram');

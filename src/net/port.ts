import { InvalidArgumentError, ParseError } from '../errors.js';

/** A transport port 0..65535 as a small integer. */
export type Port = number;

/** Whether `n` is an integer port number 0..65535. */
export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

/**
 * Parses a decimal port strictly (no sign, no junk, ≤ 65535).
 *
 * @throws {ParseError} when malformed
 */
export function parsePort(text: string): Port {
  if (!/^[0-9]{1,5}$/.test(text)) {
    throw new ParseError(`lbsim/net.parsePort: invalid port ${JSON.stringify(text)}`, text, 1, 1);
  }
  const n = Number(text);
  if (n > 65535) throw new ParseError(`lbsim/net.parsePort: port out of range ${JSON.stringify(text)}`, text, 1, 1);
  return n;
}

/**
 * Checks a numeric port argument.
 *
 * @param where - `module.method` prefix for the message
 * @throws {InvalidArgumentError} when not an integer in [0, 65535]
 */
export function checkPort(where: string, name: string, n: number): Port {
  if (!isPort(n)) throw new InvalidArgumentError(`lbsim/${where}: ${name} must be an integer in [0, 65535] (got ${n})`);
  return n;
}

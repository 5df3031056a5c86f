/**
 * Typed errors thrown by lbsim. Packet outcomes are never errors: they are
 * {@link Decision} values. Errors are thrown only for misuse, invalid
 * configuration or malformed input, and every operation that throws leaves
 * the simulated state exactly as it was before the call.
 *
 * @module
 */

/** Base class of every error lbsim throws on purpose. */
export class LbsimError extends Error {
  override name = 'LbsimError';
}

/**
 * An argument or configuration value is out of its allowed domain
 * (a weight of 70000, a threshold pair with lower above upper, ...).
 * The message is prefixed with the module and method that refused it,
 * e.g. `lbsim/ipvs.Service.addDest: weight must be an integer in [0, 65535] (got 1.5)`.
 */
export class InvalidArgumentError extends LbsimError {
  override name = 'InvalidArgumentError';
}

/**
 * Text input (an address, an ipvsadm command line, a save file, ...) could not be parsed.
 * `line` and `column` are 1-based; `line` is 1 for single-line inputs.
 */
export class ParseError extends LbsimError {
  override name = 'ParseError';
  /** 1-based line of the offending input. */
  readonly line: number;
  /** 1-based column of the offending input. */
  readonly column: number;
  /** The text that was being parsed (the offending line for multi-line inputs). */
  readonly input: string;

  /**
   * @param message - what is wrong, without the position
   * @param input - the line being parsed
   * @param line - 1-based line number
   * @param column - 1-based column number
   * @param options - standard error options (`cause`)
   */
  constructor(message: string, input: string, line = 1, column = 1, options?: ErrorOptions) {
    super(`${message} (line ${line}, column ${column})`, options);
    this.line = line;
    this.column = column;
    this.input = input;
  }
}

/**
 * An operation is refused by the simulated kernel or tool in the given state:
 * adding a service that exists, deleting one that does not, ...
 * `code` is the errno name the kernel would return (`EEXIST`, `ESRCH`, `ENOENT`, `EINVAL`, `ERANGE`, `EBUSY`).
 */
export class OperationError extends LbsimError {
  override name = 'OperationError';
  /** The kernel errno name this refusal corresponds to. */
  readonly code: ErrnoName;

  /**
   * @param code - errno name
   * @param message - human readable reason
   * @param options - standard error options (`cause`)
   */
  constructor(code: ErrnoName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Kernel errno names used by {@link OperationError}. */
export type ErrnoName = 'EEXIST' | 'ESRCH' | 'ENOENT' | 'EINVAL' | 'ERANGE' | 'EBUSY' | 'ENOMEM';

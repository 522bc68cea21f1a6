// Errors the command line turns into one line and an exit code. They live
// here, apart from the code that throws them, so that mapping them needs no
// heavy module loaded (main.ts loads a command's code only when it runs).

/** A failure whose message tells the operator what happened and what to do: one line, exit 1. */
export class OperatorError extends Error {}

/** A mistake in how iden was called, or a --repo that is not an access repository: one line, exit 2. */
export class UsageError extends Error {}

/** Someone stopped a question (Ctrl-C at a prompt): nothing was changed, exit 1. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled; nothing was changed');
  }
}

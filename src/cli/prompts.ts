// The flow's questions on a terminal, with @inquirer/prompts (loaded only
// when someone is there to answer). With --format json, stdout carries the
// result alone, so the questions go to stderr.
import { CancelledError } from '../errors.js';
import type { Questions } from '../flow/questions.js';

export async function terminalQuestions(toStderr: boolean): Promise<Questions> {
  const inquirer = await import('@inquirer/prompts');
  const context = toStderr ? { output: process.stderr } : {};
  const asked = async <T>(question: Promise<T>): Promise<T> => {
    try {
      return await question;
    } catch (e) {
      if ((e as Error)?.name === 'ExitPromptError') throw new CancelledError();
      throw e;
    }
  };
  return {
    select: (q) =>
      asked(
        inquirer.select(
          {
            message: q.message,
            choices: q.choices,
            ...(q.default !== undefined ? { default: q.default } : {}),
            ...(q.pageSize ? { pageSize: q.pageSize } : {}),
          },
          context,
        ),
      ),
    search: (q) =>
      asked(
        inquirer.search(
          {
            message: q.message,
            source: (term) => q.source(term),
            ...(q.validate ? { validate: q.validate } : {}),
            ...(q.pageSize ? { pageSize: q.pageSize } : {}),
          },
          context,
        ),
      ),
    checkbox: async <T>(
      q: Parameters<Questions['checkbox']>[0] & { groups: { choices: { value: T }[] }[] },
    ) =>
      (await asked(
        inquirer.checkbox(
          {
            message: q.message,
            choices: q.groups.flatMap((g) => [new inquirer.Separator(`── ${g.title} ──`), ...g.choices]),
            required: q.required,
            ...(q.pageSize ? { pageSize: q.pageSize } : {}),
          },
          context,
        ),
      )) as T[],
    input: (q) =>
      asked(
        inquirer.input(
          {
            message: q.message,
            ...(q.default !== undefined ? { default: q.default } : {}),
            ...(q.validate ? { validate: q.validate } : {}),
          },
          context,
        ),
      ),
    confirm: (q) => asked(inquirer.confirm({ message: q.message, default: q.default }, context)),
  } as Questions;
}

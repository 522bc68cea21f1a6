// The questions a flow asks a person, as a port: the flow says what to ask
// and what answers are allowed; the command line (src/cli/prompts.ts) asks
// them on a terminal. A stopped question throws CancelledError.

export interface Choice<T> {
  value: T;
  name: string;
  /** What is shown once picked. */
  short?: string;
  description?: string;
  /** Why it cannot be picked, shown beside it. */
  disabled?: string;
}

export interface CheckChoice<T> extends Choice<T> {
  checked: boolean;
}

export interface Questions {
  select<T>(q: { message: string; choices: Choice<T>[]; default?: T; pageSize?: number }): Promise<T>;
  /** A choice searched as the person types: `source` answers each term. */
  search<T>(q: {
    message: string;
    source: (term: string | undefined) => Choice<T>[];
    validate?: (value: T) => true | string;
    pageSize?: number;
  }): Promise<T>;
  /** Several choices, in titled groups. */
  checkbox<T>(q: {
    message: string;
    groups: { title: string; choices: CheckChoice<T>[] }[];
    required: boolean;
    pageSize?: number;
  }): Promise<T[]>;
  input(q: {
    message: string;
    default?: string;
    validate?: (value: string) => true | string;
  }): Promise<string>;
  confirm(q: { message: string; default: boolean }): Promise<boolean>;
}

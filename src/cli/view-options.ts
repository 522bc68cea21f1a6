// The flags the views (access, upcoming, report) share. Light: main builds every command from it.
import { Option } from 'commander';
import type { ViewFormat } from '../report/access.js';
import { choice } from './options.js';

export interface ViewOptions {
  repo?: string;
  app?: string;
  user?: string;
  at?: string;
  format: ViewFormat;
}

export const viewFormat = () =>
  new Option('--format <format>', 'text, json, csv or markdown')
    .argParser(choice('--format', ['text', 'json', 'csv', 'markdown'] as const))
    .default('text');

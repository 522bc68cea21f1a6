import type { Command } from 'commander';
import type { Io } from './io.js';
import { campaignCommands } from './review-campaign.js';
import { reviewReadings } from './review-read.js';

/** `iden review …`: access-review campaigns (docs/reviews.md). The work is in src/reviews/. */
export function reviewCommands(cli: Command, io: Io, done: (code: number) => void): void {
  const review = cli
    .command('review')
    .description('access reviews: campaigns as pull requests that end unreviewed access');
  campaignCommands(review, io, done);
  reviewReadings(review, io, done);
}

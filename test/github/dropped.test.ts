import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPull, repoContext, setStatus } from '../../src/github/client.js';
import { commentOn } from '../../src/github/pulls.js';
import { GithubPullServer } from '../helpers/github-server.js';

const SHA = 'a'.repeat(40);

describe('a GitHub connection closed before any answer', () => {
  const server = new GithubPullServer();
  beforeAll(async () => {
    await server.start();
    server.pulls.set(7, {
      number: 7,
      author: 'bob',
      head: SHA,
      base: 'b'.repeat(40),
      reviews: [],
      commits: [],
    });
  });
  afterAll(() => server.stop());
  const ctx = () => repoContext({ GITHUB_TOKEN: 't', GITHUB_API_URL: server.url }, 'acme/access');

  it('is sent once more for a read and for a commit status, which mean the same sent twice', async () => {
    server.drops.push(/^GET \/repos\/acme\/access\/pulls\/7$/, /^POST \/repos\/acme\/access\/statuses\//);
    const before = server.requests.length;
    expect((await readPull(ctx(), 7)).author).toBe('bob');
    await setStatus(ctx(), SHA, true, 'fine');
    const sent = server.requests.slice(before);
    expect(sent.filter((r) => r === 'GET /repos/acme/access/pulls/7')).toHaveLength(2);
    expect(sent.filter((r) => r.startsWith('POST /repos/acme/access/statuses/'))).toHaveLength(2);
    expect(server.statuses).toEqual([
      { sha: SHA, state: 'success', context: 'iden/policy', description: 'fine' },
    ]);
    expect(server.errors).toEqual([]);
  });

  it('is never sent twice for a comment: the run fails and says GitHub could not be reached', async () => {
    server.drops.push(/^POST \/repos\/acme\/access\/issues\/7\/comments$/);
    const before = server.requests.length;
    await expect(commentOn(ctx(), 7, 'hello')).rejects.toThrow(
      /could not reach GitHub at http:\/\/127\.0\.0\.1:\d+ \(POST/,
    );
    expect(server.requests.slice(before)).toEqual(['POST /repos/acme/access/issues/7/comments']);
    expect(server.comments).toEqual([]);
  });
});

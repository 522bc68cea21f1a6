/** What the Copilot routes read and change on the test organisation. */
export interface CopilotState {
  readonly users: Set<string>;
  /** Assigned seats. */
  readonly copilot: Set<string>;
  /** Seats pending cancellation to the end of the billing cycle: login → that date. */
  readonly copilotCancelling: Map<string, string>;
  cancelSeat(login: string): void;
}

type Send = (template: string, status: number, payload?: unknown, extra?: Record<string, string>) => void;

/**
 * GitHub's Copilot billing routes: the seats (50 a page by default, a seat
 * pending cancellation listed with its `pending_cancellation_date`), and
 * assigning or cancelling seats for selected users. Cancelling leaves a seat
 * pending cancellation; assigning one that is withdraws the cancellation
 * ("existing seats that were refreshed", GitHub's description says).
 */
export function answerCopilot(
  state: CopilotState,
  route: string | undefined,
  method: string,
  url: URL,
  body: Record<string, unknown>,
  send: Send,
  user: (login: string) => Record<string, unknown>,
): void {
  if (route === 'seats' && method === 'GET') {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 50));
    const page = Number(url.searchParams.get('page') ?? 1);
    const seats = [...state.copilot, ...state.copilotCancelling.keys()].sort();
    const last = Math.max(1, Math.ceil(seats.length / perPage));
    const payload = {
      total_seats: seats.length,
      seats: seats.slice((page - 1) * perPage, page * perPage).map((login) => ({
        created_at: '2026-11-27T10:00:00Z',
        assignee: user(login),
        pending_cancellation_date: state.copilotCancelling.get(login) ?? null,
      })),
    };
    const next = `<${url.origin}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
    send('/orgs/{org}/copilot/billing/seats', 200, payload, page < last ? { link: next } : {});
    return;
  }
  const template = '/orgs/{org}/copilot/billing/selected_users';
  const names = ((body.selected_usernames as string[]) ?? []).map((n) => n.toLowerCase());
  if (names.some((n) => !state.users.has(n))) {
    send(template, 422);
    return;
  }
  if (method === 'POST') {
    const created = names.filter((n) => !state.copilot.has(n));
    for (const n of names) {
      state.copilotCancelling.delete(n);
      state.copilot.add(n);
    }
    send(template, 201, { seats_created: created.length });
    return;
  }
  const cancelled = names.filter((n) => state.copilot.has(n));
  for (const n of cancelled) state.cancelSeat(n);
  send(template, 200, { seats_cancelled: cancelled.length });
}

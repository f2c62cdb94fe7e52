// Push sign-in approvals (docs/ipc-push.md): the known challenges, which one is open, the push
// accounts. The shell polls every 3 s in the foreground and emits push-challenges; the UI polls
// on unlock and when asked (refresh button).
import { ipc } from "./ipc";
import { toAppError, kindOf } from "./errors";
import { mergeChallenges, pendingNewestFirst } from "./push";
import { app, clock, refreshClock, report, toast } from "./state.svelte";
import { t } from "./i18n/index.svelte";
import type { PushAccountView, PushChallengeView, PushPollStatus } from "./push-types";

export const push = $state({
  challenges: [] as PushChallengeView[],
  /** The nonce of the challenge on the approval screen. */
  openNonce: null as string | null,
  accounts: [] as PushAccountView[],
  polling: false,
  /** How the shell's last poll went (push-poll-status); failures are shown in the list. */
  pollStatus: null as PushPollStatus | null,
});

/** The push-poll-status event: polls started or stopped failing. */
export function receivePollStatus(status: PushPollStatus): void {
  push.pollStatus = status;
}

/** What to say about failing polls, or null when they work. */
export function pollProblem(): string | null {
  const s = push.pollStatus;
  if (!s || s.failures.length === 0) return null;
  if (s.clockOff) return t("push.clockOff");
  return t("push.pollFailed", { message: s.failures.map((f) => f.message).join("; ") });
}

export function pendingChallenges(): PushChallengeView[] {
  return pendingNewestFirst(push.challenges, clock.now);
}

export function openChallenge(): PushChallengeView | null {
  return push.challenges.find((c) => c.nonce === push.openNonce) ?? null;
}

/** The push-challenges event: remember them and open the newest pending one. */
export function receiveChallenges(list: PushChallengeView[]): void {
  push.challenges = mergeChallenges(push.challenges, list);
  // The screen about to open shows an age: read the one clock afresh, so it is not a tick (or,
  // on a busy machine, several delayed ticks) behind the request it shows.
  const newest = pendingNewestFirst(list, refreshClock())[0];
  if (newest && app.status?.unlocked && !push.openNonce) push.openNonce = newest.nonce;
}

/** The push-open event (notification tapped). */
export function openPrompt(nonce: string): void {
  refreshClock();
  push.openNonce = nonce;
  // Tapped before this UI has seen it (cold start): fetch what the shell has stored.
  if (!push.challenges.some((c) => c.nonce === nonce)) {
    ipc.pushPending()
      .then((list) => (push.challenges = mergeChallenges(push.challenges, list)))
      .catch(report);
  }
}

/**
 * Closes the approval screen; `answered` drops the challenge from the list and asks the shell
 * for what still waits: a collapsed view stood for older requests of its account too, which
 * stay pending and show next (docs/ipc-push.md, "Collapse"), with no event to bring them.
 */
export function closePrompt(answered: boolean): void {
  const nonce = push.openNonce;
  push.openNonce = null;
  if (!answered || !nonce) return;
  push.challenges = push.challenges.filter((c) => c.nonce !== nonce);
  if (app.status?.unlocked) {
    ipc.pushPending()
      .then((list) => (push.challenges = mergeChallenges(push.challenges.filter((c) => c.nonce !== nonce), list)))
      .catch(report);
  }
}

export async function loadPushAccounts(): Promise<void> {
  try {
    push.accounts = await ipc.pushAccounts();
  } catch (e) {
    report(e);
  }
}

/**
 * On unlock: what is stored first (no network), then a poll. `manual` (the refresh button) also
 * says when the server cannot be reached; automatic polls leave that to the next try.
 */
export async function pollPush(manual = false): Promise<void> {
  if (push.polling) return;
  push.polling = true;
  try {
    if (!manual) push.challenges = await ipc.pushPending();
    push.challenges = await ipc.pushPoll();
    if (manual && pendingChallenges().length === 0) toast(t("push.noRequests"));
  } catch (e) {
    const err = toAppError(e);
    if (kindOf(err) !== "Network" || manual) report(err);
  } finally {
    push.polling = false;
  }
}

export function resetPush(): void {
  push.challenges = [];
  push.openNonce = null;
  push.accounts = [];
  push.pollStatus = null;
}

import type { CodeView } from "./types";

/** Seconds before which the next code is previewed. */
export const NEXT_PREVIEW_SECS = 5;

export interface Countdown {
  /** Whole seconds left, rounded up (what a user reads: 30 … 1). */
  secondsLeft: number;
  /** Fraction of the period left, 1 at the start, 0 at the end. */
  fraction: number;
  /** True when the code has expired and codes_now must be called again. */
  expired: boolean;
  /** True in the last NEXT_PREVIEW_SECS seconds, when the next code is shown. */
  showNext: boolean;
}

/** Countdown for a TOTP/Steam code at time nowMs; HOTP codes (validUntilMs 0) never expire. */
export function countdown(view: Pick<CodeView, "validUntilMs" | "period" | "nextCode">, nowMs: number): Countdown {
  if (!view.validUntilMs) return { secondsLeft: 0, fraction: 1, expired: false, showNext: false };
  const periodMs = Math.max(1, view.period) * 1000;
  const leftMs = view.validUntilMs - nowMs;
  if (leftMs <= 0) return { secondsLeft: 0, fraction: 0, expired: true, showNext: false };
  const clamped = Math.min(leftMs, periodMs);
  const secondsLeft = Math.ceil(clamped / 1000);
  return {
    secondsLeft,
    fraction: clamped / periodMs,
    expired: false,
    showNext: view.nextCode !== null && leftMs <= NEXT_PREVIEW_SECS * 1000,
  };
}

/** The earliest moment any of the codes expires (0 when none expires: only HOTP). */
export function nextRollover(views: Pick<CodeView, "validUntilMs">[]): number {
  let min = 0;
  for (const v of views) if (v.validUntilMs && (min === 0 || v.validUntilMs < min)) min = v.validUntilMs;
  return min;
}

/** Length of the countdown ring's stroke for a circle of radius r. */
export function ringDash(fraction: number, r: number): { dash: number; gap: number } {
  const c = 2 * Math.PI * r;
  const f = Math.min(1, Math.max(0, fraction));
  return { dash: c * f, gap: c * (1 - f) };
}

/**
 * The code to show at nowMs. Right after a rollover, before codes_now has answered, the view's
 * nextCode is already the current code, so the list never shows a stale or blank code.
 * Returns null when the view is too old to know the code.
 */
export function currentCode(view: CodeView, nowMs: number): { code: string; view: CodeView } | null {
  if (!view.validUntilMs || nowMs < view.validUntilMs) return { code: view.code, view };
  const periodMs = view.period * 1000;
  if (view.nextCode && periodMs > 0 && nowMs < view.validUntilMs + periodMs) {
    return {
      code: view.nextCode,
      view: { ...view, code: view.nextCode, nextCode: null, validFromMs: view.validUntilMs, validUntilMs: view.validUntilMs + periodMs },
    };
  }
  return null;
}

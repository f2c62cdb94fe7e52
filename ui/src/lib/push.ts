// Pure logic of the push approval screen (unit-tested in tests/push.test.ts).
import type { LocationView, PushChallengeView } from "./push-types";

/** "12 s ago", "3 min ago": the age of a request, from Unix seconds. */
export function formatAge(receivedAt: number, nowMs: number): { key: "push.ageSecs" | "push.ageMins"; n: number } {
  const secs = Math.max(0, Math.floor(nowMs / 1000 - receivedAt));
  return secs < 60 ? { key: "push.ageSecs", n: secs } : { key: "push.ageMins", n: Math.floor(secs / 60) };
}

/**
 * The number-matching options in a random order (Fisher–Yates with crypto randomness), so the
 * server's order gives no hint. Every option stays; nothing is chosen here (the UI never
 * pre-selects). With two or more distinct options the order differs from the server's at least
 * sometimes; it is not forced to differ, which would itself leak the server's first option.
 */
export function shuffled<T>(options: readonly T[], random: (n: number) => number = randomBelow): T[] {
  const out = [...options];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function randomBelow(n: number): number {
  const buf = new Uint32Array(1);
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  do crypto.getRandomValues(buf); while (buf[0] >= limit);
  return buf[0] % n;
}

/** Whether a challenge is past its expiry (Unix seconds). */
export function isExpired(c: Pick<PushChallengeView, "expiresAt">, nowMs: number): boolean {
  return nowMs / 1000 >= c.expiresAt;
}

/** Challenges that can still be answered, newest first. */
export function pendingNewestFirst(list: readonly PushChallengeView[], nowMs: number): PushChallengeView[] {
  return list.filter((c) => !isExpired(c, nowMs)).sort((a, b) => b.receivedAt - a.receivedAt);
}

/** Merges newly polled challenges into the known ones (by nonce; the newer copy wins). */
export function mergeChallenges(known: readonly PushChallengeView[], fresh: readonly PushChallengeView[]): PushChallengeView[] {
  const byNonce = new Map(known.map((c) => [c.nonce, c]));
  for (const c of fresh) byNonce.set(c.nonce, c);
  return [...byNonce.values()];
}

/** The "3 requests" line: only when prompts were collapsed. */
export function countText(count: number): { key: "push.count"; n: number } | null {
  return count > 1 ? { key: "push.count", n: count } : null;
}

/** "59.33, 18.07" and the accuracy in m or km, rounded as a person reads it. */
export function formatLocation(l: LocationView): { coords: string; accuracy: string | null } {
  const coords = `${l.latitude.toFixed(2)}, ${l.longitude.toFixed(2)}`;
  if (l.accuracyM === null || !Number.isFinite(l.accuracyM)) return { coords, accuracy: null };
  const a = l.accuracyM;
  const accuracy = a < 1000 ? `±${Math.max(1, Math.round(a))} m` : `±${Math.round(a / 1000)} km`;
  return { coords, accuracy };
}

/** Translates a catalogue key (t from i18n; tests pass their own). */
export type Translate = (key: "push.near", params: Record<string, string>) => string;

/**
 * Where a location is, as a person reads it: "near Goeteborg, SE (57.71, 11.97, ±1 km)", the
 * town named by Rust from data on the device; the coordinates alone far from any town.
 */
export function whereText(l: LocationView, tr: Translate): string {
  const { coords, accuracy } = formatLocation(l);
  const numbers = accuracy ? `${coords}, ${accuracy}` : coords;
  if (!l.place) return accuracy ? `${coords} (${accuracy})` : coords;
  return `${tr("push.near", { place: l.place.name, country: l.place.country })} (${numbers})`;
}

/** The catalogue key and parameters of the "Location: …" line. */
export function locationLine(l: LocationView | null, tr: Translate):
  { key: "push.location" | "push.locationUnavailable"; params: Record<string, string> } {
  if (!l) return { key: "push.locationUnavailable", params: {} };
  return { key: "push.location", params: { where: whereText(l, tr) } };
}

/**
 * The fake shell's stand-in for Rust's passphrase rule (`passphrase_strength`, which is
 * twofold_core::strength, zxcvbn): built only into the browser flow tests, never into the app.
 * It estimates the entropy from the character classes used and subtracts for repetition,
 * sequences and a short list of the most common passwords; scores 0..4 like zxcvbn, and agrees
 * with it on the passwords the flows type.
 */
export type Score = 0 | 1 | 2 | 3 | 4;

const COMMON = new Set([
  "password", "passw0rd", "123456", "12345678", "123456789", "1234567890", "qwerty", "qwertyuiop",
  "abc123", "letmein", "welcome", "iloveyou", "admin", "monkey", "dragon", "football", "baseball",
  "sunshine", "princess", "trustno1", "111111", "000000", "lösenord", "losenord", "hejhej",
  "sommar", "twofold",
]);

const SEQUENCES = ["abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiop"];

function poolSize(pw: string): number {
  let pool = 0;
  if (/[a-z]/.test(pw)) pool += 26;
  if (/[A-Z]/.test(pw)) pool += 26;
  if (/[0-9]/.test(pw)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(pw)) pool += 33;
  return pool;
}

/** Number of characters that merely continue a run or a keyboard/alphabet sequence. */
function predictableChars(pw: string): number {
  const lower = pw.toLowerCase();
  let count = 0;
  for (let i = 1; i < lower.length; i++) {
    const a = lower[i - 1];
    const b = lower[i];
    if (a === b) {
      count++;
      continue;
    }
    const pair = a + b;
    const rev = b + a;
    if (SEQUENCES.some((s) => s.includes(pair) || s.includes(rev))) count++;
  }
  return count;
}

/** Estimated entropy in bits. */
export function entropyBits(pw: string): number {
  if (!pw) return 0;
  const lower = pw.toLowerCase();
  if (COMMON.has(lower) || COMMON.has(lower.replace(/[0-9!]+$/, ""))) return Math.min(10, pw.length);
  const pool = poolSize(pw);
  const effective = Math.max(1, pw.length - predictableChars(pw) * 0.75);
  const unique = new Set(pw).size;
  const uniqueFactor = Math.min(1, unique / Math.min(pw.length, 8));
  return effective * Math.log2(pool) * uniqueFactor;
}

export function passwordScore(pw: string): Score {
  const bits = entropyBits(pw);
  if (bits < 28) return 0;
  if (bits < 40) return 1;
  if (bits < 55) return 2;
  if (bits < 70) return 3;
  return 4;
}

/** The lowest score accepted (twofold_core::strength::MIN_SCORE). */
export const MIN_SCORE: Score = 2;

import type { OtpKind } from "./types";

/**
 * Groups a numeric code in threes from the right so it can be read and typed easily:
 * "123456" → "123 456", "12345678" → "12 345 678", "1234567" → "1 234 567".
 * Steam codes (5 letters and digits) are shown as they are.
 */
export function groupCode(code: string, kind: OtpKind = "totp"): string {
  if (kind === "steam" || code.length <= 4) return code;
  const parts: string[] = [];
  for (let end = code.length; end > 0; end -= 3) parts.unshift(code.slice(Math.max(0, end - 3), end));
  return parts.join(" ");
}

/** The text to put on the clipboard: the code without grouping spaces. */
export function plainCode(code: string): string {
  return code.replace(/\s+/g, "");
}

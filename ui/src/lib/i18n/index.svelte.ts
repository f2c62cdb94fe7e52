import { en, type MessageKey } from "./en";
import { sv } from "./sv";
import type { Language } from "../types";

export type Locale = "en" | "sv";
export const catalogues: Record<Locale, Record<MessageKey, string>> = { en, sv };

/** Chooses the locale for a setting; "system" follows the browser's languages. */
export function resolveLocale(setting: Language, languages: readonly string[] = navigatorLanguages()): Locale {
  if (setting === "en" || setting === "sv") return setting;
  for (const l of languages) {
    const base = l.toLowerCase().split("-")[0];
    if (base === "sv") return "sv";
    if (base === "en") return "en";
  }
  return "en";
}

function navigatorLanguages(): readonly string[] {
  return typeof navigator !== "undefined" ? navigator.languages ?? [navigator.language] : [];
}

export function format(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** The current locale; reading it in a template makes the template follow language changes. */
export const i18n = $state({ locale: "en" as Locale });

export function setLocale(locale: Locale): void {
  i18n.locale = locale;
  if (typeof document !== "undefined") document.documentElement.lang = locale;
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return format(catalogues[i18n.locale][key] ?? en[key], params);
}

/** A date and time (Unix seconds) in the current locale, as the settings screens show them. */
export function formatTime(secs: number): string {
  return new Intl.DateTimeFormat(i18n.locale === "sv" ? "sv-SE" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(secs * 1000);
}

export type { MessageKey };

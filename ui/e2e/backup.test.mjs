// Browser flow of Settings → Automatic backups: the last backup's restore drill ("verified",
// or what is wrong), the changes no backup holds, and the banner of a failed drill, in English
// and Swedish, with the fake Rust side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BANK, GITHUB, shot, unlockedWith, useApp } from "./harness.mjs";

const { withApp } = useApp();

const WORDS = {
  en: {
    settings: "Settings", backUpNow: "Back up now",
    changes: /2 changes not in any backup/, none: /Every change is in a backup/,
    verified: /Last backup: .+, 2 accounts, verified/, broken: /It does not open again: its checksum does not match/,
    banner: /The newest backup would not restore your accounts: the backup .+ does not restore the vault: 1 account\(s\) missing/,
  },
  sv: {
    settings: "Inställningar", backUpNow: "Säkerhetskopiera nu",
    changes: /2 ändringar finns inte i någon säkerhetskopia/, none: /Alla ändringar finns i en säkerhetskopia/,
    verified: /Senaste säkerhetskopia: .+, 2 konton, kontrollerad/, broken: /Den går inte att öppna igen: its checksum does not match/,
    banner: /Den senaste säkerhetskopian skulle inte återställa dina konton: the backup .+ 1 account\(s\) missing/,
  },
};

test("settings: last backup verified, changes outside any backup, a failed restore drill (en, sv)", async () => {
  for (const language of ["en", "sv"]) {
    const w = WORDS[language];
    const fake = unlockedWith([GITHUB, BANK], { language, settings: { backupFolder: "/home/me/backups" } });
    await withApp(fake, {}, async ({ page }) => {
      await page.getByRole("button", { name: w.settings }).click();
      const status = page.getByTestId("backup-status");
      await page.getByTestId("backup-changes").filter({ hasText: w.changes }).waitFor();

      // A backup whose drill passes: date, number of accounts, verified; nothing outside it.
      await page.getByRole("button", { name: w.backUpNow }).click();
      await page.getByTestId("backup-verified").filter({ hasText: w.verified }).waitFor();
      assert.match(await status.textContent(), new RegExp(String(new Date().getFullYear())));
      await page.getByTestId("backup-changes").filter({ hasText: w.none }).waitFor();
      await shot(page, `40-backup-verified-light-${language}`);

      // The next backup comes back damaged: the drill says what is wrong.
      await page.evaluate(() => (window.__twofoldFake.state.drillFails = true));
      await page.getByRole("button", { name: w.backUpNow }).click();
      await page.getByTestId("backup-drill-failed").filter({ hasText: w.broken }).waitFor();

      // An automatic backup that fails its drill is a banner, in the person's language.
      await page.evaluate(() => window.__twofoldFake.emit("backup-failed", {
        kind: "check",
        message: "the backup /home/me/backups/twofold-backup.json does not restore the vault: 1 account(s) missing, 0 different",
      }));
      const banner = page.getByTestId("backup-banner");
      await banner.filter({ hasText: w.banner }).waitFor();
      await shot(page, `41-backup-drill-failed-light-${language}`);
    });
  }
});

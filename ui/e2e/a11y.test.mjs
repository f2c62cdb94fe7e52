// Automated accessibility checks (axe-core) on the main screens, light and dark, English and
// Swedish. Serious and critical findings fail; colour contrast is part of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit, GITHUB, HOTP, PASSWORD, useApp } from "./harness.mjs";

const ACCOUNTS = [GITHUB, HOTP];

const { open } = useApp();

for (const colorScheme of ["light", "dark"]) {
  test(`axe: first run, unlock, accounts, edit sheet and settings (${colorScheme})`, async () => {
    const first = await open({}, { colorScheme });
    try {
      const { page } = first;
      await page.getByRole("button", { name: "Accept" }).waitFor();
      await audit(page, "privacy");
      await page.getByRole("button", { name: "Accept" }).click();
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByLabel("Password", { exact: true }).fill("abc");
      await audit(page, "protect");
    } finally {
      await first.close();
    }
    const locked = await open({ firstRunDone: true, vaultPassword: PASSWORD, accounts: ACCOUNTS }, { colorScheme });
    try {
      const { page } = locked;
      await page.getByLabel("Password").fill("wrong");
      await page.getByRole("button", { name: "Unlock" }).click();
      await page.getByRole("alert").waitFor();
      await audit(page, "unlock with error");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Unlock" }).click();
      await page.getByTestId("account").nth(1).waitFor();
      await audit(page, "accounts");
      await page.getByRole("button", { name: "Edit GitHub (octo@example.com)" }).click();
      await page.getByTestId("edit-sheet").waitFor();
      await audit(page, "edit sheet");
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "Settings" }).click();
      await page.getByRole("heading", { name: "Settings" }).waitFor();
      await audit(page, "settings");
      // The password prompt before a plain export (the minute since unlocking has passed).
      await page.evaluate(() => (window.__twofoldFake.state.authAt = 0));
      await page.getByLabel("Format", { exact: true }).last().selectOption("otpauth-list");
      await page.getByRole("button", { name: "Export…" }).click();
      await page.getByTestId("reauth").waitFor();
      await page.getByLabel("Vault password").fill("wrong");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByTestId("reauth").getByRole("alert").waitFor();
      await audit(page, "re-authentication before a plain export");
      await page.getByRole("button", { name: "Cancel" }).click();
      await page.getByRole("button", { name: "Choose folder…" }).click();
      await page.getByTestId("backup-folder").waitFor();
      await audit(page, "settings with a backup folder");
    } finally {
      await locked.close();
    }
  });
}

test("axe: Swedish add screen and manual entry", async () => {
  const app = await open({ firstRunDone: true, vaultPassword: PASSWORD, unlocked: true, accounts: ACCOUNTS, language: "sv" });
  try {
    const { page } = app;
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Arbets- eller skolkonto" }).click();
    await audit(page, "add (sv)");
    await page.getByRole("button", { name: "Ange kod manuellt" }).click();
    await audit(page, "manual (sv)");
  } finally {
    await app.close();
  }
});

for (const colorScheme of ["light", "dark"]) {
  test(`axe: push approval screen with number matching, and the push accounts (${colorScheme})`, async () => {
    const app = await open({
      firstRunDone: true, vaultPassword: PASSWORD, unlocked: true, accounts: ACCOUNTS,
      pushAccounts: [{ serial: "PIPU0001", issuer: "Example Corp", label: "alice", insecureTls: true }],
      pushChallenges: [{ nonce: "n1", stored: true, options: ["17", "42", "93"], correct: "42", count: 2 }],
    }, { colorScheme });
    try {
      const { page } = app;
      await page.getByTestId("push-account").waitFor();
      await audit(page, "accounts with push");
      await page.getByTestId("push-requests").click();
      await page.getByTestId("push-option").first().waitFor();
      await page.getByText("Location unavailable").waitFor();
      await audit(page, "push approval");
      await page.getByTestId("push-option").filter({ hasText: "17" }).click();
      await page.getByText("That number was wrong, try again.").waitFor();
      await audit(page, "push approval, wrong number");
      assert.deepEqual(app.errors, []);
    } finally {
      await app.close();
    }
  });
}

// Browser flow tests: the built UI in Debian Chromium at 390×844 with the fake Rust side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BANK, GITHUB, HOTP, PASSWORD, shot, totp, pngBytes, unlockedWith, useApp } from "./harness.mjs";

const SECRET = "JBSWY3DPEHPK3PXP";
const STEAM = `otpauth://totp/Steam:gamer?secret=KRUGKIDROVUWG2ZAMJZG653OEBTG66BANJ2W24DTEBXXMZLS&issuer=Steam&encoder=steam`;

const { withApp } = useApp();

/** The code shown for the row whose text contains `who`, without grouping spaces. */
async function shownCode(page, who) {
  const text = await page.locator('[data-testid="account"]', { hasText: who }).locator('[data-testid="code"]').textContent();
  return text.replace(/\s/g, "");
}

test("first run: Accept → Continue → password → Create vault → Scan QR Code → the code appears", async () => {
  await withApp({}, {}, async ({ page }) => {
    // The guide's words, in the guide's order.
    await page.getByRole("button", { name: "Accept" }).waitFor();
    await shot(page, "01-privacy-light-en");
    await page.getByRole("button", { name: "Accept" }).click();
    await page.getByRole("heading", { name: "Set up your account" }).waitFor();
    await shot(page, "02-setup-light-en");
    await page.getByRole("button", { name: "Continue" }).click();

    // A weak password is refused, a mismatch is refused, then the vault is created.
    await page.getByLabel("Password", { exact: true }).fill("abc123");
    await page.getByLabel("Confirm password").fill("abc123");
    // Rated by the shell (the core's rule): the meter shows its answer.
    await page.locator('[data-testid="strength"][data-score="0"]').waitFor();
    await page.getByRole("button", { name: "Create vault" }).click();
    await page.getByRole("alert").filter({ hasText: "stronger password" }).waitFor();
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Confirm password").fill(PASSWORD + "x");
    await page.locator('[data-testid="strength"][data-score="4"]').waitFor();
    await page.getByRole("button", { name: "Create vault" }).click();
    await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
    await page.getByLabel("Confirm password").fill(PASSWORD);
    await shot(page, "03-protect-light-en");
    await page.getByRole("button", { name: "Create vault" }).click();

    await page.getByRole("button", { name: "Scan QR Code" }).waitFor();
    await page.getByRole("button", { name: "Enter code manually" }).waitFor();
    await shot(page, "04-first-account-light-en");
    // The button opens the file chooser; a real PNG is chosen.
    const chooser = page.waitForEvent("filechooser");
    await page.getByRole("button", { name: "Scan QR Code" }).click();
    await (await chooser).setFiles({ name: "qr.png", mimeType: "image/png", buffer: pngBytes() });

    const row = page.getByTestId("account").filter({ hasText: "Example" });
    await row.waitFor();
    const now = Date.now();
    const code = await shownCode(page, "Example");
    assert.ok([totp(SECRET, now), totp(SECRET, now - 1000), totp(SECRET, now + 1000)].includes(code), `code ${code}`);
    assert.match(await row.getByTestId("code").textContent(), /^\d{3} \d{3}$/);
    await shot(page, "05-accounts-light-en");

    // "if that option is missing press +, choose Work or school account, then Scan QR Code"
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Work or school account" }).waitFor();
    await shot(page, "06-plus-menu-light-en");
    await page.getByRole("button", { name: "Work or school account" }).click();
    await page.getByRole("heading", { name: "Work or school account" }).waitFor();
    await page.getByRole("button", { name: "Scan QR Code" }).waitFor();
    await shot(page, "06b-add-work-light-en");
  });
});

test("scanning: a pasted screenshot is scanned, an image without a QR code is refused", async () => {
  await withApp(unlockedWith([]), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Scan QR Code" }).click(); // empty list offers scanning
    await page.getByTestId("scan-file").setInputFiles({ name: "notes.txt", mimeType: "image/png", buffer: Buffer.from("not an image") });
    await page.getByRole("alert").filter({ hasText: "No QR code was found" }).waitFor();
    await shot(page, "07-scan-error-light-en");
    // Paste a PNG the way the OS clipboard delivers a screenshot.
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], "shot.png", { type: "image/png" }));
      window.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt }));
    }, [...pngBytes()]);
    await page.getByTestId("account").filter({ hasText: "Example" }).waitFor();
    // A link pasted on the list is added too.
    await page.evaluate((uri) => {
      const dt = new DataTransfer();
      dt.setData("text/plain", uri);
      window.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt }));
    }, GITHUB);
    await page.getByTestId("account").filter({ hasText: "GitHub" }).waitFor();
  });
});

test("migration QR codes: asks for the next batch, then shows every account; a push QR enrols and the push section shows it", async () => {
  const scans = [
    { migration: { uris: [GITHUB], batchId: 7, batchIndex: 0, batchSize: 2 } },
    { migration: { uris: [BANK, "otpauth://totp/Broken?secret=1"], batchId: 7, batchIndex: 1, batchSize: 2 } },
    { push: "PIPU0001" },
  ];
  await withApp(unlockedWith([], { scans }), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Scan QR Code" }).click();
    await page.getByTestId("scan-file").setInputFiles({ name: "a.png", mimeType: "image/png", buffer: pngBytes() });
    await page.getByText("Scan the next QR code (2 of 2)").waitFor();
    await shot(page, "08-migration-light-en");
    await page.getByTestId("scan-file").setInputFiles({ name: "b.png", mimeType: "image/png", buffer: pngBytes() });
    // An entry the core could not read is reported, not dropped silently; the user moves on.
    await page.getByText("Not added: Broken (secret is not valid Base32)").waitFor();
    await page.getByText("Added 1 account.").waitFor();
    await page.getByRole("button", { name: "Back" }).click();
    await page.getByTestId("account").nth(1).waitFor();
    assert.equal(await page.getByTestId("account").count(), 2);
    assert.equal((await page.getByTestId("account").filter({ hasText: "Bank" }).getByTestId("code").textContent()).length, 10); // "12 345 678"
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Other account" }).click();
    await page.getByTestId("scan-file").setInputFiles({ name: "c.png", mimeType: "image/png", buffer: pngBytes() });
    // docs/ipc-push.md: enrolled only once confirmed.
    await page.getByRole("button", { name: "Set up push sign-in" }).click();
    await page.getByText("Push sign-in is set up for PIPU0001").waitFor();
    await page.getByRole("button", { name: "Back" }).click();
    await page.getByTestId("push-account").filter({ hasText: "PIPU0001" }).waitFor();
  });
});

test("add manually: an invalid secret is refused by the field, a valid one is added; HOTP refresh", async () => {
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Personal account" }).click();
    await page.getByRole("button", { name: "Enter code manually" }).click();
    await page.getByLabel("Issuer (service)").fill("Forum");
    await page.getByLabel("Account name").fill("me");
    await page.getByLabel("Secret key").fill("not base32!");
    await page.getByRole("button", { name: "Add account" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.textContent(), /does not look right/);
    await shot(page, "09-manual-invalid-light-en");
    await page.getByLabel("Secret key").fill("gezd gnbv gy3t qojq gezd gnbv gy3t qojq");
    await page.getByText("Advanced").click();
    await page.getByLabel("Type").selectOption("hotp");
    await page.getByRole("button", { name: "Add account" }).click();
    const row = page.getByTestId("account").filter({ hasText: "Forum" });
    await row.waitFor();
    // RFC 4226 appendix D: secret "12345678901234567890", counter 0 → 755224, 1 → 287082
    assert.equal(await shownCode(page, "Forum"), "755224");
    await row.getByTestId("hotp-next").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="account"]:last-child [data-testid="code"]')?.textContent === "287 082");
  });
});

test("search filters by issuer and name; favourites come first; groups filter", async () => {
  await withApp(unlockedWith([GITHUB, BANK, STEAM, HOTP]), {}, async ({ page }) => {
    await page.getByTestId("account").nth(3).waitFor();
    const issuers = () => page.getByTestId("account").getByTestId("issuer").allTextContents();
    assert.deepEqual(await issuers(), ["GitHub", "Bank", "Steam", "Forum"]);
    assert.match(await page.getByTestId("account").filter({ hasText: "Steam" }).getByTestId("code").textContent(), /^[2-9BCDFGHJKMNPQRTVWXY]{5}$/);
    await page.getByPlaceholder("Search accounts").fill("octo");
    assert.deepEqual(await issuers(), ["GitHub"]);
    await page.getByPlaceholder("Search accounts").fill("BANK");
    assert.deepEqual(await issuers(), ["Bank"]);
    await page.getByPlaceholder("Search accounts").fill("zzz");
    await page.getByText("No account matches your search.").waitFor();
    await page.getByPlaceholder("Search accounts").fill("");
    // Mark Steam favourite and put it in a group via the edit sheet.
    await page.getByRole("button", { name: "Edit Steam (gamer)" }).click();
    await page.getByLabel("Favourite").check();
    await page.getByLabel("Groups (comma separated)").fill("Games");
    await shot(page, "10-edit-light-en");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("toast").filter({ hasText: "Saved" }).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="account"] [data-testid="issuer"]')?.textContent === "Steam");
    assert.deepEqual(await issuers(), ["Steam", "GitHub", "Bank", "Forum"]);
    await page.getByRole("button", { name: "Games" }).click();
    assert.equal(await page.getByTestId("account").count(), 1);
    await page.getByRole("button", { name: "All" }).click();
    assert.equal(await page.getByTestId("account").count(), 4);
    await shot(page, "11-accounts-groups-light-en");
  });
});

test("copy: tap copies the code, says Copied, and clears the clipboard later", async () => {
  await withApp(unlockedWith([GITHUB]), { init: { clipboardClearMs: 1500 } }, async ({ page }) => {
    const row = page.getByTestId("account").first();
    await row.waitFor();
    const code = await shownCode(page, "GitHub");
    await row.getByRole("button", { name: /GitHub/ }).first().click();
    await page.getByTestId("toast").filter({ hasText: "Copied" }).waitFor();
    await shot(page, "12-copied-light-en");
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(clip === code || clip.length === 6, `clipboard holds the code without spaces: ${clip}`);
    assert.doesNotMatch(clip, /\s/);
    assert.ok((await page.evaluate(() => window.__twofoldFake.state.calls)).includes("code_copy"), "copied by Rust");
    await page.waitForFunction(async () => (await navigator.clipboard.readText()) === "", null, { timeout: 5000, polling: 200 });
    await page.getByTestId("toast").filter({ hasText: "Clipboard cleared" }).waitFor();
  });
});

test("copy: locking clears the copied code at once; text copied since is left alone", async () => {
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    const row = page.getByTestId("account").first();
    await row.waitFor();
    await row.getByRole("button", { name: /GitHub/ }).first().click();
    await page.getByTestId("toast").filter({ hasText: "Copied" }).waitFor();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^\d{6}$/);
    await page.evaluate(() => window.__twofoldFake.lockIdle());
    await page.getByRole("button", { name: "Unlock" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "");

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Unlock" }).click();
    await row.getByRole("button", { name: /GitHub/ }).first().click();
    await page.getByTestId("toast").filter({ hasText: "Copied" }).waitFor();
    await page.evaluate(() => navigator.clipboard.writeText("my own text"));
    await page.evaluate(() => window.__twofoldFake.lockIdle());
    await page.getByRole("button", { name: "Unlock" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "my own text");
  });
});

test("unlock: a wrong password is refused in an alert, the right one opens; vault-locked returns to unlock", async () => {
  await withApp({ firstRunDone: true, vaultPassword: PASSWORD, accounts: [GITHUB] }, {}, async ({ page }) => {
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Unlock" }).click();
    const alert = page.locator('[role="alert"]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /Wrong password/);
    await shot(page, "13-unlock-wrong-light-en");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByTestId("account").first().waitFor();
    await page.evaluate(() => window.__twofoldFake.lockIdle());
    await page.getByRole("button", { name: "Unlock" }).waitFor();
    await page.getByText("Locked after a while without use.").waitFor();
    assert.equal(await page.getByTestId("account").count(), 0);
  });
});

test("settings: import asks for the password, reports skipped entries; export errors are shown; backup failure banner", async () => {
  await withApp(unlockedWith([GITHUB], { saveFolder: "/nonexistent/dir", pickFolder: "/media/readonly" }), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    const encrypted = JSON.stringify({ encrypted: true, uris: [BANK, "otpauth://totp/Bad?secret=!!"] });
    await page.getByTestId("import-file").setInputFiles({ name: "aegis.json", mimeType: "application/json", buffer: Buffer.from(encrypted) });
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByLabel("Password of the export file").fill("nope");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong password" }).waitFor();
    await page.getByLabel("Password of the export file").fill("export-pass");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    const report = page.getByTestId("import-report");
    await report.waitFor();
    assert.match(await report.textContent(), /Added 1\. Duplicates: 0\. Skipped: 1\./);
    assert.match(await report.textContent(), /line 2: secret is not valid Base32/);
    await page.getByTestId("import-file").setInputFiles({ name: "x.bin", mimeType: "application/octet-stream", buffer: Buffer.from("garbage") });
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "not recognised" }).waitFor();

    // The save dialog is Rust's (here it answers a folder that cannot be written).
    await page.getByLabel("Password for the encrypted file").fill("file password");
    await page.getByRole("button", { name: "Export…" }).click();
    await page.getByRole("alert").filter({ hasText: "Could not read or write a file" }).waitFor();
    assert.match(await page.getByRole("alert").filter({ hasText: "Could not" }).textContent(), /\/nonexistent\/dir\/twofold-aegis-encrypted/);
    assert.equal(await page.getByLabel(/file path/).count(), 0, "no path field: the webview names no path");

    // The backup folder comes from Rust's folder dialog, never from a text field.
    assert.equal(await page.getByRole("textbox", { name: "Backup folder" }).count(), 0);
    await page.getByText("Backups are off until you choose a folder.").waitFor();
    await page.getByRole("button", { name: "Choose folder…" }).click();
    await page.getByTestId("toast").filter({ hasText: "Settings saved" }).waitFor();
    assert.equal(await page.getByTestId("backup-folder").textContent(), "/media/readonly");
    await page.getByRole("button", { name: "Back up now" }).click();
    await page.getByTestId("backup-banner").waitFor();
    assert.match(await page.getByTestId("backup-banner").textContent(), /permission denied/);
    assert.match(await page.getByTestId("version").textContent(), /0\.1\.0-fake/);
    await shot(page, "14-settings-light-en");
    await page.evaluate(() => (window.__twofoldFake.state.pickFolder = "/home/me/backups"));
    await page.getByRole("button", { name: "Choose folder…" }).click();
    await page.getByTestId("backup-folder").filter({ hasText: "/home/me/backups" }).waitFor();
    await page.getByRole("button", { name: "Back up now" }).click();
    const status = page.getByTestId("backup-status");
    await status.filter({ hasText: "Last backup:" }).waitFor();
    assert.match(await status.textContent(), new RegExp(String(new Date().getFullYear())), "lastOkAt is read as Unix seconds");
    await page.getByLabel("Lock after").selectOption("0");
    assert.equal(await page.evaluate(() => window.__twofoldFake.state.settings.lockTimeoutSecs), 0);
    await page.evaluate(() => window.__twofoldFake.emit("backup-failed", { message: "disk full" }));
    await page.getByTestId("backup-banner").filter({ hasText: "disk full" }).waitFor();
  });
});

test("Swedish: the first run and the list speak Swedish; the language can be switched in settings", async () => {
  await withApp({ language: "sv" }, {}, async ({ page }) => {
    await page.getByRole("button", { name: "Godkänn" }).click();
    await page.getByRole("button", { name: "Fortsätt" }).click();
    await page.getByLabel("Lösenord", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Bekräfta lösenord").fill(PASSWORD);
    await shot(page, "15-protect-light-sv");
    await page.getByRole("button", { name: "Skapa valv" }).click();
    await page.getByRole("button", { name: "Skanna QR-kod" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "sv");
    await page.getByTestId("scan-file").setInputFiles({ name: "qr.png", mimeType: "image/png", buffer: pngBytes() });
    await page.getByTestId("account").first().waitFor();
    await page.getByPlaceholder("Sök konton").waitFor();
    await shot(page, "16-accounts-light-sv");
    await page.getByRole("button", { name: "Inställningar" }).click();
    await page.getByLabel("Språk").selectOption("en");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
  });
});

test("dark theme follows the system and can be overridden; touch targets are at least 44 px", async () => {
  await withApp(unlockedWith([GITHUB, BANK, HOTP]), { colorScheme: "dark" }, async ({ page }) => {
    await page.getByTestId("account").nth(2).waitFor();
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await bg(), "rgb(16, 19, 24)");
    await shot(page, "17-accounts-dark-en");
    const small = await page.evaluate(() =>
      [...document.querySelectorAll("button, select, input:not([type=file]), summary")]
        .map((el) => ({ el, r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
        .map(({ el }) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(small, []);
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByLabel("Theme").selectOption("light");
    assert.equal(await bg(), "rgb(246, 247, 249)");
    await page.getByLabel("Theme").selectOption("dark");
    await shot(page, "18-settings-dark-en");
  });
});

test("dark first run in Swedish, and a phone: camera scan, biometrics offered", async () => {
  await withApp({ platform: "android", language: "sv" }, { colorScheme: "dark" }, async ({ page }) => {
    await page.getByRole("button", { name: "Godkänn" }).click();
    // The permission step (issue 11): everything asked, the OS allows.
    await page.getByRole("heading", { name: "Behörigheter" }).waitFor();
    await page.getByRole("button", { name: "Fortsätt" }).click();
    await page.getByRole("heading", { name: "Konfigurera ditt konto" }).waitFor();
    await shot(page, "19-setup-dark-sv");
    await page.getByRole("button", { name: "Fortsätt" }).click();
    await page.getByLabel("Lås upp med biometri").waitFor();
    await page.getByLabel("Lösenord", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Bekräfta lösenord").fill(PASSWORD);
    await shot(page, "20-protect-phone-dark-sv");
    await page.getByRole("button", { name: "Skapa valv" }).click();
    await page.getByRole("button", { name: "Skanna QR-kod" }).click(); // the barcode-scanner plugin on phones
    await page.getByTestId("account").first().waitFor();
    const settings = await page.evaluate(() => window.__twofoldFake.state.settings.biometrics);
    assert.equal(settings, true);
    await shot(page, "21-accounts-dark-sv");
  });
});

test("countdown: the next code is previewed in the last 5 s and replaces the code when the period rolls over", async () => {
  const start = Math.floor(1_800_000_000_000 / 30_000) * 30_000 + 25_500; // 4.5 s left in the period
  await withApp(unlockedWith([GITHUB]), { clockAt: start }, async ({ page }) => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBV";
    const row = page.getByTestId("account").first();
    await row.waitFor();
    assert.equal(await shownCode(page, "GitHub"), totp(secret, start));
    const next = row.getByTestId("next-code");
    await next.waitFor();
    assert.equal((await next.textContent()).replace(/\D/g, ""), totp(secret, start + 30_000));
    assert.match(await row.getByTestId("ring").getAttribute("aria-label"), /^[1-5] seconds left$/);
    await shot(page, "22-next-code-preview-light-en");
    const asked = () => page.evaluate(() => window.__twofoldFake.state.calls.filter((c) => c === "codes_now").length);
    const before = await asked();
    await page.clock.runFor(5_000);
    await page.waitForFunction((n) => window.__twofoldFake.state.calls.filter((c) => c === "codes_now").length > n, before);
    await page.waitForFunction((code) => document.querySelector('[data-testid="code"]')?.textContent?.replace(/\s/g, "") === code,
      totp(secret, start + 30_000));
    assert.equal(await next.count(), 0);
  });
});

test("edit: show as QR code warns about the secret and uses an image; delete asks for confirmation", async () => {
  await withApp(unlockedWith([GITHUB, BANK]), {}, async ({ page }) => {
    await page.getByTestId("account").nth(1).waitFor();
    await page.getByRole("button", { name: "Edit GitHub (octo@example.com)" }).click();
    // The secret is shown only after the password is entered again (Rust answers AuthRequired).
    await page.getByRole("button", { name: "Show as QR code" }).click();
    await page.getByText("The QR code shows the account's secret. Enter your vault password to show it.").waitFor();
    assert.equal(await page.getByTestId("qr").count(), 0);
    await shot(page, "23a-show-qr-reauth-light-en");
    await page.getByLabel("Vault password").fill("not it");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByTestId("reauth").getByRole("alert").filter({ hasText: "Wrong password" }).waitFor();
    assert.equal(await page.getByTestId("qr").count(), 0);
    await page.getByLabel("Vault password").fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    const img = page.getByRole("img", { name: "QR code for GitHub (octo@example.com)" });
    await img.waitFor();
    assert.match(await img.getAttribute("src"), /^data:image\/svg\+xml/);
    assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), "the SVG renders as an image");
    await page.getByText("contains the account's secret").waitFor();
    await shot(page, "23-show-qr-light-en");
    await page.getByRole("button", { name: "Hide QR code" }).click();
    await page.getByRole("button", { name: "Delete account" }).click();
    await page.getByText("Delete GitHub (octo@example.com)?").waitFor();
    await shot(page, "24-delete-confirm-light-en");
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByTestId("toast").filter({ hasText: "Account deleted" }).waitFor();
    assert.equal(await page.getByTestId("account").count(), 1);
    // Renaming goes through account_update and shows what the core returned.
    await page.getByRole("button", { name: "Edit Bank (me)" }).click();
    await page.getByLabel("Issuer").fill("My Bank");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("issuer").filter({ hasText: "My Bank" }).waitFor();
  });
});

test("phones: the camera scan adds through add_uri, a migration export asks for the next code", async () => {
  const scans = [
    { migration: { uris: [GITHUB], batchId: 9, batchIndex: 1, batchSize: 2 } },
    { migration: { uris: [BANK], batchId: 9, batchIndex: 0, batchSize: 2 } },
  ];
  await withApp({ platform: "android", firstRunDone: true, vaultPassword: PASSWORD, unlocked: true, scans }, {}, async ({ page }) => {
    await page.getByRole("button", { name: "Scan QR Code" }).click(); // the empty list leads to the add screen
    await page.getByRole("heading", { name: "Add account" }).waitFor();
    await page.getByRole("button", { name: "Scan QR Code" }).click();
    await page.getByText("Scan the next QR code (2 of 2)").waitFor();
    await page.getByRole("button", { name: "Scan QR Code" }).click();
    await page.getByTestId("account").nth(1).waitFor();
    const calls = await page.evaluate(() => window.__twofoldFake.state.calls);
    assert.ok(calls.includes("plugin:barcode-scanner|scan") && calls.includes("add_uri") && !calls.includes("scan_camera"), calls.join());
    // A push enrolment code from the camera enrols once confirmed (docs/ipc-push.md), no file chooser.
    await page.evaluate(() => window.__twofoldFake.state.scans.splice(0, Infinity, { push: "PIPU0002" }));
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Work or school account" }).click();
    await page.getByRole("button", { name: "Scan QR Code" }).click();
    await page.getByRole("button", { name: "Set up push sign-in" }).click();
    await page.getByText("Push sign-in is set up for PIPU0002").waitFor();
    assert.equal(await page.getByText("No camera here").count(), 0);
  });
});

test("phones: biometric unlock at start; no camera falls back to the image chooser", async () => {
  const fake = { platform: "ios", firstRunDone: true, vaultPassword: PASSWORD, accounts: [GITHUB], settings: { biometrics: true }, camera: false };
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor(); // vault_unlock_biometric ran by itself
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Work or school account" }).click();
    const chooser = page.waitForEvent("filechooser");
    await page.getByRole("button", { name: "Scan QR Code" }).click();
    await page.getByText("No camera here. Choose an image of the QR code instead.").waitFor();
    await (await chooser).setFiles({ name: "qr.png", mimeType: "image/png", buffer: pngBytes() });
    await page.getByTestId("account").filter({ hasText: "alice@example.com" }).waitFor();
  });
});

test("activity calls touch; a command answered Locked returns to the unlock screen", async () => {
  await withApp(unlockedWith([HOTP]), {}, async ({ page }) => {
    const row = page.getByTestId("account").first();
    await row.waitFor();
    await page.getByPlaceholder("Search accounts").click();
    await page.waitForFunction(() => window.__twofoldFake.state.calls.includes("touch"));
    // The shell locked without the UI hearing the event: the next command says Locked.
    await page.evaluate(() => (window.__twofoldFake.state.unlocked = false));
    await row.getByTestId("hotp-next").click();
    await page.getByRole("button", { name: "Unlock" }).waitFor();
    await page.getByText("The vault is locked. Unlock it to continue.").waitFor();
    assert.equal(await page.locator('[role="alert"]').count(), 0);
    await shot(page, "25-unlock-after-locked-light-en");
  });
});

test("settings: change password refuses a wrong current password, then changes it", async () => {
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByText("Change password", { exact: true }).first().click();
    await page.getByLabel("Current password").fill("not it");
    await page.getByLabel("New password", { exact: true }).fill("a much longer new passphrase");
    await page.getByLabel("Confirm new password").fill("a much longer new passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong password" }).waitFor();
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByTestId("toast").filter({ hasText: "Password changed" }).waitFor();
    assert.equal(await page.evaluate(() => window.__twofoldFake.state.password), "a much longer new passphrase");
  });
});

test("language 'system' follows the browser: Swedish for sv-SE", async () => {
  await withApp({ language: "system" }, { locale: "sv-SE" }, async ({ page }) => {
    await page.getByRole("button", { name: "Godkänn" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "sv");
  });
});

test("plain export: asks for the password again, then Rust's save dialog writes it; encrypted needs no re-entry", async () => {
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Settings" }).click();
    const exports = () => page.evaluate(() => window.__twofoldFake.state.exports.map((e) => e.path));
    // Encrypted: no re-entry (the file has a password of its own).
    await page.getByLabel("Password for the encrypted file").fill("file password");
    await page.getByRole("button", { name: "Export…" }).click();
    await page.getByText("Exported to /home/me/Documents/twofold-aegis-encrypted.txt").waitFor();
    // Plain: the password first; a wrong one is refused and nothing is written.
    await page.getByLabel("Format", { exact: true }).last().selectOption("otpauth-list");
    await page.getByText("This file will not be encrypted").waitFor();
    await page.getByRole("button", { name: "Export…" }).click();
    const reauth = page.getByTestId("reauth");
    await reauth.getByText("A file that is not encrypted holds all your secrets. Enter your vault password to export it.").waitFor();
    await shot(page, "14a-export-reauth-light-en");
    await reauth.getByLabel("Vault password").fill("wrong");
    await reauth.getByRole("button", { name: "Continue" }).click();
    await reauth.getByRole("alert").filter({ hasText: "Wrong password" }).waitFor();
    assert.deepEqual(await exports(), ["/home/me/Documents/twofold-aegis-encrypted.txt"]);
    // Cancel leaves the export form; the right password exports.
    await reauth.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Export…" }).click();
    await reauth.getByLabel("Vault password").fill(PASSWORD);
    await reauth.getByRole("button", { name: "Continue" }).click();
    await page.getByText("Exported to /home/me/Documents/twofold-otpauth-list.txt").waitFor();
    assert.deepEqual(await exports(), ["/home/me/Documents/twofold-aegis-encrypted.txt", "/home/me/Documents/twofold-otpauth-list.txt"]);
    // Within the minute, no second prompt; a cancelled dialog writes nothing and says nothing.
    await page.evaluate(() => (window.__twofoldFake.state.saveFolder = null));
    await page.getByRole("button", { name: "Export…" }).click();
    await page.waitForFunction(() => window.__twofoldFake.state.calls.filter((c) => c === "export_file").length === 5);
    assert.equal(await page.getByTestId("reauth").count(), 0);
    assert.equal(await page.getByText("Exported to").count(), 0);
    assert.equal((await exports()).length, 2);
  });
});

test("Swedish: the password prompts before a QR code and a plain export", async () => {
  await withApp(unlockedWith([GITHUB], { language: "sv" }), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Redigera GitHub (octo@example.com)" }).click();
    await page.getByRole("button", { name: "Visa som QR-kod" }).click();
    await page.getByText("QR-koden visar kontots hemlighet. Ange valvets lösenord för att visa den.").waitFor();
    await page.getByLabel("Valvets lösenord").fill(PASSWORD);
    await page.getByRole("button", { name: "Fortsätt" }).click();
    await page.getByTestId("qr").waitFor();
    await page.keyboard.press("Escape");
    await page.evaluate(() => (window.__twofoldFake.state.authAt = 0));
    await page.getByRole("button", { name: "Inställningar" }).click();
    await page.getByLabel("Format", { exact: true }).last().selectOption("aegis-plain");
    await page.getByRole("button", { name: "Exportera…" }).click();
    await page.getByText("En okrypterad fil innehåller alla dina hemligheter. Ange valvets lösenord för att exportera den.").waitFor();
    await shot(page, "14b-export-reauth-light-sv");
  });
});

test("what is true: the location stays on the device; earlier backups keep the old password (en, sv)", async () => {
  for (const language of ["en", "sv"]) {
    const fake = unlockedWith([GITHUB], {
      language, pushAccounts: [{ serial: "PIPU0001", issuer: "Example Corp", label: "alice" }], pushChallenges: [{ nonce: "n1", stored: true }],
    });
    await withApp(fake, {}, async ({ page }) => {
      await page.getByTestId("push-requests").click();
      const where = page.getByTestId("push-location");
      await where.waitFor();
      const text = await where.textContent();
      if (language === "en") {
        assert.match(text, /Your location is not sent with your answer: it stays on this device, in the encrypted activity log/);
        assert.doesNotMatch(text, /is sent with your answer/);
      } else {
        assert.match(text, /Din plats skickas inte med svaret: den stannar på enheten, i den krypterade aktivitetsloggen/);
      }
      await shot(page, `26-push-location-light-${language}`);
    });
    await withApp(unlockedWith([GITHUB], { language }), {}, async ({ page }) => {
      await page.getByRole("button", { name: language === "en" ? "Settings" : "Inställningar" }).click();
      await page.getByText(language === "en" ? "Change password" : "Byt lösenord", { exact: true }).first().click();
      const note = page.getByTestId("old-backups-note");
      await note.waitFor();
      assert.match(await note.textContent(), language === "en"
        ? /Earlier automatic backups keep the old password/
        : /Tidigare automatiska säkerhetskopior behåller det gamla lösenordet/);
    });
  }
});

test("phones: biometric unlock in Settings; changed biometrics turn it off and the password opens (English)", async () => {
  await withApp(unlockedWith([GITHUB], { platform: "ios" }), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Settings" }).click();
    const option = page.getByLabel("Unlock with biometrics");
    assert.equal(await option.isChecked(), false);
    await option.check();
    await page.waitForFunction(() => window.__twofoldFake.state.settings.biometrics === true);
    await page.getByTestId("push-locked-note").getByText("kept in Keychain").waitFor();
    // The push registration (docs/ipc-push.md, `push_registration`): none on this device yet.
    await page.getByTestId("push-registration").getByText("no push service Twofold can use yet").waitFor();
  });
  const changed = {
    platform: "ios", firstRunDone: true, vaultPassword: PASSWORD, accounts: [GITHUB],
    settings: { biometrics: true }, biometricsChanged: true,
  };
  await withApp(changed, {}, async ({ page }) => {
    await page.getByTestId("biometrics-changed").getByText("The biometrics on this device changed").waitFor();
    assert.equal(await page.getByRole("button", { name: "Unlock with biometrics" }).count(), 0);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await page.getByTestId("account").first().waitFor();
    await page.getByRole("button", { name: "Settings" }).click();
    assert.equal(await page.getByLabel("Unlock with biometrics").isChecked(), false);
  });
});

test("phones in Swedish: changed biometrics are told; desktop without a key store says requests wait for the unlock", async () => {
  const changed = {
    platform: "android", language: "sv", firstRunDone: true, vaultPassword: PASSWORD, accounts: [GITHUB],
    settings: { biometrics: true }, biometricsChanged: true,
  };
  await withApp(changed, {}, async ({ page }) => {
    await page.getByTestId("biometrics-changed").getByText("Biometrin på den här enheten har ändrats").waitFor();
    await page.getByLabel("Lösenord", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Lås upp", exact: true }).click();
    await page.getByTestId("account").first().waitFor();
    await page.getByRole("button", { name: "Inställningar" }).click();
    assert.equal(await page.getByLabel("Lås upp med biometri").isChecked(), false);
    await page.getByLabel("Lås upp med biometri").check();
    await page.waitForFunction(() => window.__twofoldFake.state.settings.biometrics === true);
    const locked = page.getByLabel("Ta emot inloggningsförfrågningar när valvet är låst");
    assert.equal(await locked.isChecked(), true);
    await page.getByTestId("push-locked-note").getByText("förvaras i Android Keystore").waitFor();
    await page.getByTestId("push-locked-note").getByText("ett program som kan läsa Android Keystore kan godkänna deras inloggningar utan ditt lösenord").waitFor();
    await page.getByTestId("push-registration").getByText("ingen push-tjänst som Twofold kan använda").waitFor();
  });
  await withApp(unlockedWith([GITHUB], { language: "sv", pushKeyStore: null }), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Inställningar" }).click();
    await page.getByTestId("push-locked-note").getByText("ingen säker nyckellagring").waitFor();
    assert.equal(await page.getByLabel("Ta emot inloggningsförfrågningar när valvet är låst").count(), 0);
    assert.equal(await page.getByLabel("Lås upp med biometri").count(), 0);
  });
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Settings" }).click();
    const locked = page.getByLabel("Receive sign-in requests while locked");
    await locked.uncheck();
    await page.waitForFunction(() => window.__twofoldFake.state.settings.pushWhileLocked === false);
    await page.getByTestId("push-locked-note").getByText("kept in Secret Service").waitFor();
    // What a reader of that storage can do, and the way to keep every key in the vault.
    await page.getByTestId("push-locked-note").getByText("any program that can read Secret Service can approve their sign-ins without your password").waitFor();
    await page.getByTestId("push-locked-note").getByText("Turn this off to keep every key in the vault").waitFor();
    await page.getByLabel("Keep running in the system tray when the window is closed").check();
    await page.waitForFunction(() => window.__twofoldFake.state.settings.keepInTray === true);
  });
  await withApp(unlockedWith([GITHUB], { language: "sv", tray: false }), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Inställningar" }).click();
    const tray = page.getByLabel("Fortsätt köras i systemfältet när fönstret stängs");
    await tray.click(); // refused: the box unticks itself
    await page.getByText("Enheten kan inte göra det").first().waitFor();
    assert.equal(await tray.isChecked(), false);
    assert.equal(await page.evaluate(() => window.__twofoldFake.state.settings.keepInTray), false);
  });
});

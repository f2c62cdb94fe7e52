// Browser flows of privacyIDEA token containers (docs/containers.md, "In the app") against the
// fake shell, at 390×844, in English and Swedish, with axe on every screen: the confirmation
// before registering (server, passphrase with the server's prompt), the "Managed by" badge on OTP
// and push accounts, an account and a push sign-in the organization forbids deleting, and
// Settings → Organizations (Sync now, Move to a new phone, Renew this phone's keys, Unregister).
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit, GITHUB, PASSWORD, pngBytes, shot, unlockedWith, useApp } from "./harness.mjs";

const UNI_MAIL = "otpauth://totp/ACME:alice-mail?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20University";
const UNI_VPN = "otpauth://totp/ACME:alice-vpn?secret=GEZDGNBVGY3TQOJQ&issuer=ACME%20University";

const { withApp } = useApp();

const fakeState = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.__twofoldFake.state)));

const container = (extra = {}) => ({
  serial: "SMPH0001", issuer: "ACME University", host: "pi.acme.edu", accounts: [UNI_MAIL], later: [UNI_VPN],
  policies: { rollover: true, deleteTokens: false, unregister: true }, ...extra,
});

async function scanContainer(page, work) {
  await page.getByTestId("account").first().waitFor();
  await page.getByTestId("add").click();
  await page.getByRole("button", { name: work }).click();
  await page.getByTestId("scan-file").setInputFiles({ name: "c.png", mimeType: "image/png", buffer: pngBytes() });
  await page.getByTestId("container-confirm").waitFor();
}

test("containers (en): confirm, passphrase with the server's prompt, managed badge, no Delete, Organizations", async () => {
  const fake = unlockedWith([GITHUB], {
    scans: [{ container: true }],
    container: container({ passphrasePrompt: "Your university PIN", passphrase: "2468" }),
    pushAccounts: [{ serial: "PIPU0001", issuer: "ACME University", label: "alice", container: "SMPH0001", managedBy: "ACME University", deletable: false }],
  });
  await withApp(fake, {}, async ({ page }) => {
    await scanContainer(page, "Work or school account");
    const confirm = page.getByTestId("container-confirm");
    assert.equal(await page.getByTestId("container-confirm-host").textContent(), "Server: pi.acme.edu");
    await confirm.getByText("ACME University wants to register this device.", { exact: false }).waitFor();
    assert.equal(await page.getByTestId("container-prompt").textContent(), "The server asks: Your university PIN");
    let state = await fakeState(page);
    assert.deepEqual(state.containerRegistrations, [], "nothing sent before the confirmation");
    await audit(page, "container confirm (en)");
    await shot(page, "60-container-confirm-en");

    // No passphrase: said by the field, nothing sent. A wrong one: the server refuses.
    await page.getByRole("button", { name: "Register this device" }).click();
    await confirm.getByRole("alert").filter({ hasText: "Enter the passphrase the server asks for." }).waitFor();
    await page.getByLabel("Passphrase").fill("1111");
    await page.getByRole("button", { name: "Register this device" }).click();
    await confirm.getByRole("alert").filter({ hasText: "Check the passphrase" }).waitFor();
    await audit(page, "container wrong passphrase (en)");
    await page.getByLabel("Passphrase").fill("2468");
    await page.getByRole("button", { name: "Register this device" }).click();
    await page.getByTestId("toast").filter({ hasText: "Registered with ACME University. Accounts added: 1." }).waitFor();
    state = await fakeState(page);
    assert.deepEqual(state.containerRegistrations, ["SMPH0001"]);

    // The managed account carries the badge; the organization forbids deleting it.
    const managed = page.getByTestId("account").filter({ hasText: "alice-mail" });
    await managed.getByTestId("managed-badge").filter({ hasText: "Managed by ACME University" }).waitFor();
    assert.equal(await page.getByTestId("account").filter({ hasText: "GitHub" }).getByTestId("managed-badge").count(), 0);
    await audit(page, "managed badge (en)");
    await shot(page, "61-container-managed-en");
    await managed.getByRole("button", { name: /^Edit / }).click();
    await page.getByTestId("managed-no-delete").filter({ hasText: "Your organization manages this account; it cannot be deleted here." }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Delete account" }).count(), 0);
    await audit(page, "managed account sheet (en)");
    await page.getByRole("button", { name: "Close" }).click();

    // The organization's push sign-in carries the badge too, and says it cannot be removed.
    const pushRow = page.getByTestId("push-account");
    await pushRow.getByTestId("managed-badge").filter({ hasText: "Managed by ACME University" }).waitFor();
    await pushRow.getByRole("button", { name: "Remove ACME University · alice" }).click();
    const sheet = page.getByTestId("push-remove-sheet");
    await sheet.getByTestId("managed-no-delete").filter({ hasText: "Your organization manages this sign-in; it cannot be removed here." }).waitFor();
    assert.equal(await sheet.getByRole("button", { name: "Remove", exact: true }).count(), 0);
    await audit(page, "managed push sign-in sheet (en)");
    await sheet.getByRole("button", { name: "Close" }).last().click();
    assert.equal((await fakeState(page)).pushAccounts.length, 1);

    // Settings → Organizations: last sync, Sync now brings the next account.
    await page.getByRole("button", { name: "Settings" }).click();
    const org = page.getByTestId("organizations");
    await org.getByRole("heading", { name: "Organizations" }).waitFor();
    await org.getByRole("heading", { name: "ACME University" }).waitFor();
    await org.getByTestId("org-last-sync").getByText(/^Last sync: /).waitFor();
    await org.getByText("Accounts: 1").waitFor();
    await audit(page, "organizations (en)");
    await org.getByRole("button", { name: "Sync now" }).click();
    await page.getByTestId("toast").filter({ hasText: "Synced: 1 added, 0 removed." }).waitFor();
    await org.getByText("Accounts: 2").waitFor();

    // Move to a new phone: the password first, then the QR code and the link.
    await org.getByRole("button", { name: "Move to a new phone" }).click();
    await org.getByLabel("Vault password").fill(PASSWORD);
    await org.getByRole("button", { name: "Continue" }).click();
    await org.getByTestId("org-transfer").waitFor();
    assert.match(await org.getByTestId("org-transfer-link").textContent(), /^pia:\/\/container\/SMPH0001\?/);
    await org.getByRole("img", { name: "QR code to move ACME University's accounts to a new phone" }).waitFor();
    await audit(page, "transfer (en)");
    await shot(page, "62-container-transfer-en");
    await org.getByRole("button", { name: "Done" }).click();

    // Renew this phone's keys (rollover in place) behind a confirmation; cancel sends nothing.
    await org.getByRole("button", { name: "Renew this phone's keys" }).click();
    await org.getByText("Renew this phone's keys for ACME University? This phone gets a new key and each of its accounts here (2) a new secret; the old secrets stop working at once.").waitFor();
    await audit(page, "renew confirm (en)");
    await org.getByRole("button", { name: "Cancel" }).click();
    assert.deepEqual((await fakeState(page)).containerRollovers, []);
    await org.getByRole("button", { name: "Renew this phone's keys" }).click();
    await org.getByRole("button", { name: "Renew keys" }).click();
    await page.getByTestId("toast").filter({ hasText: "Keys renewed. Accounts with new secrets: 2." }).waitFor();
    assert.deepEqual((await fakeState(page)).containerRollovers, ["SMPH0001"]);

    // Unregister behind a confirmation: the organization's accounts leave this device.
    await org.getByRole("button", { name: "Unregister this device" }).click();
    await org.getByText("Unregister this device from ACME University? The accounts it manages here (2) will be removed from this device.").waitFor();
    await audit(page, "unregister confirm (en)");
    await org.getByRole("button", { name: "Unregister", exact: true }).click();
    await page.getByTestId("toast").filter({ hasText: "Unregistered. Accounts removed: 2." }).waitFor();
    await org.getByText("No organization manages accounts on this device.", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Back", exact: true }).click();
    await page.getByTestId("account").filter({ hasText: "GitHub" }).waitFor();
    assert.equal(await page.getByTestId("account").count(), 1);
  });
});

test("containers (sv): cancel sends nothing; unregistering forbidden by the organization is not offered", async () => {
  const fake = unlockedWith([GITHUB], {
    language: "sv",
    scans: [{ container: true }],
    container: container({ policies: { rollover: false, deleteTokens: false, unregister: false } }),
    pushAccounts: [{ serial: "PIPU0001", issuer: "ACME University", label: "alice", container: "SMPH0001", managedBy: "ACME University", deletable: true }],
  });
  await withApp(fake, { locale: "sv-SE" }, async ({ page }) => {
    await scanContainer(page, "Arbets- eller skolkonto");
    await page.getByText("Låta din organisation hantera konton på den här enheten?").waitFor();
    assert.equal(await page.getByLabel("Lösenfras").count(), 0, "no passphrase asked when the QR asks none");
    // The existing account may be offered, but is not ticked by default.
    await page.getByText("Erbjud konton du redan har (valfritt, ikryssade: 0)").click();
    await page.getByRole("group", { name: "Dina befintliga konton" }).waitFor();
    assert.equal(await page.getByRole("checkbox", { name: "GitHub (octo@example.com)" }).isChecked(), false);
    await audit(page, "container confirm (sv)");
    await page.getByRole("button", { name: "Avbryt" }).click();
    await page.getByText("Enheten registrerades inte.").waitFor();
    assert.deepEqual((await fakeState(page)).containerRegistrations, []);

    await page.getByTestId("scan-file").setInputFiles({ name: "c.png", mimeType: "image/png", buffer: pngBytes() });
    await page.getByRole("button", { name: "Registrera den här enheten" }).click();
    await page.getByTestId("toast").filter({ hasText: "Registrerad hos ACME University" }).waitFor();
    await page.getByTestId("account").getByTestId("managed-badge").filter({ hasText: "Hanteras av ACME University" }).waitFor();
    await page.getByTestId("push-account").getByTestId("managed-badge").filter({ hasText: "Hanteras av ACME University" }).waitFor();
    await audit(page, "managed badge (sv)");
    await shot(page, "63-container-managed-sv");

    await page.getByRole("button", { name: "Inställningar" }).click();
    const org = page.getByTestId("organizations");
    await org.getByRole("heading", { name: "Organisationer" }).waitFor();
    await org.getByText("Din organisation tillåter inte att den här enheten avregistreras här.").waitFor();
    assert.equal(await org.getByRole("button", { name: "Avregistrera den här enheten" }).count(), 0);
    assert.equal(await org.getByRole("button", { name: "Flytta till en ny telefon" }).count(), 0);
    assert.equal(await org.getByRole("button", { name: "Förnya telefonens nycklar" }).count(), 0);
    await org.getByRole("button", { name: "Synkronisera nu" }).click();
    await page.getByTestId("toast").filter({ hasText: "Synkroniserad: 1 tillagda, 0 borttagna." }).waitFor();
    await audit(page, "organizations (sv)");
    await shot(page, "64-container-organizations-sv");
  });
});

test("containers (en): the organization's initial transfer takes only the accounts the user ticks", async () => {
  const OLD_VPN = "otpauth://totp/ACME:alice-old-vpn?secret=KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ&issuer=ACME%20University";
  const fake = unlockedWith([GITHUB, OLD_VPN], {
    scans: [{ container: true }],
    container: container({ initialTransfer: true, knows: ["alice-old-vpn", "octo@example.com"] }),
  });
  await withApp(fake, {}, async ({ page }) => {
    await scanContainer(page, "Work or school account");
    // Folded until asked for: most registrations offer nothing.
    assert.equal(await page.getByRole("group", { name: "Your existing accounts" }).isVisible(), false);
    await page.getByText("Offer accounts you already have (optional, ticked: 0)").click();
    const offer = page.getByRole("group", { name: "Your existing accounts" });
    await offer.getByText("Codes of accounts you do not tick never leave this device.", { exact: false }).waitFor();
    const vpn = offer.getByRole("checkbox", { name: "ACME University (alice-old-vpn)" });
    const github = offer.getByRole("checkbox", { name: "GitHub (octo@example.com)" });
    assert.equal(await vpn.isChecked(), false, "none ticked by default");
    assert.equal(await github.isChecked(), false, "none ticked by default");
    await vpn.check();
    await page.getByText("Offer accounts you already have (optional, ticked: 1)").waitFor();
    await audit(page, "container offer (en)");
    await shot(page, "65-container-offer-en");
    await page.getByRole("button", { name: "Register this device" }).click();
    await page.getByTestId("toast")
      .filter({ hasText: "Registered with ACME University. Accounts added: 1. Accounts of yours it now manages: 1." }).waitFor();
    const state = await fakeState(page);
    assert.equal(state.containerOffers.length, 1);
    assert.equal(state.containerOffers[0].length, 1, "only the ticked account was offered");
    // The ticked account is now the organization's; GitHub (known to the server, not ticked) is not.
    await page.getByTestId("account").filter({ hasText: "alice-old-vpn" }).getByTestId("managed-badge")
      .filter({ hasText: "Managed by ACME University" }).waitFor();
    assert.equal(await page.getByTestId("account").filter({ hasText: "GitHub" }).getByTestId("managed-badge").count(), 0);
    assert.equal(await page.getByTestId("account").count(), 3);
  });
});

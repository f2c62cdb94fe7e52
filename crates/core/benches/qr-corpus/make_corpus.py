#!/usr/bin/env python3
"""Generate a deterministic corpus of degraded QR code images for decoder benchmarks.

Usage: python3 make_corpus.py OUT_DIR [--count-per-kind N] [--seed S]

Every image holds a realistic authenticator payload (otpauth://totp, otpauth://hotp,
long URIs with extra parameters, otpauth-migration://offline batches) encoded with
segno at error level M (sometimes L), quiet zone 4 modules.  OUT_DIR/manifest.json
lists {"file", "kind", "text"} for each image; "text" is the exact payload.

Degradation kinds (N images each; "px/module" is the rendered module size):
  scaled        rendered at 6 px/module, then area-resampled (Pillow BOX filter) to
                1.5 px/module (size rounded to whole pixels), so module edges become
                grey.  Below zbar's limit: it reads almost none (it reads ~all at 2).
  blur          4-6 px/module, Gaussian blur of radius 0.6-0.8 module, i.e. standard
                deviation 0.3-0.4 module (Pillow's GaussianBlur takes the std dev).
                zbar fails abruptly above ~0.45 module; a std dev of 0.6+ module
                leaves no readable code.
  rotated       4-8 px/module, rotated 5-30 degrees either way (bicubic), white fill.
  perspective   4-8 px/module, perspective warp: each corner moved inwards (x and y
                independently) by 5-15 % of the image size, as if photographed at
                an angle; white fill.  (5-20 % drops zbar to ~75 %.)
  jpeg30        3-5 px/module, saved as JPEG quality 30 (visible block artefacts).
  noise         4-6 px/module, additive Gaussian noise, sigma 25-45 grey levels.
  low_contrast  4-6 px/module, dark modules grey 110-140 on a light grey 150-180.
  inverted      4-6 px/module, light modules (215-245) on a dark background (15-45),
                like a QR shown in a dark-mode UI.
  screenshot    5-7 px/module QR pasted at a random place into a 1080x2340 RGB
                "phone screenshot" with a coloured header bar, text-like grey bars
                and rounded buttons.
Files are PNG, except jpeg30 (JPEG).  The same seed always gives the same corpus.
"""
import argparse
import base64
import json
import os
import random
import sys
from urllib.parse import quote

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter

KINDS = ["scaled", "blur", "rotated", "perspective", "jpeg30", "noise",
         "low_contrast", "inverted", "screenshot"]
ISSUERS = ["GitHub", "Google", "ACME Co", "Example Bank", "Dropbox", "AWS",
           "My Company VPN", "Proton", "Fastmail", "Heinz & Söhne", "GitLab"]
USERS = ["alice@example.com", "bob.smith@example.com", "carol+2fa@example.org",
         "dave", "erin.o'neil@example.net", "frank@example.co.uk"]
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def q(s):
    return quote(s, safe="")  # spaces -> %20, '@' -> %40, etc.


def make_payload(rng):
    r = rng.random()
    issuer, user = rng.choice(ISSUERS), rng.choice(USERS)
    secret = "".join(rng.choice(B32) for _ in range(rng.randint(16, 32)))
    label = f"{q(issuer)}:{q(user) if rng.random() < 0.5 else user}"
    if r < 0.45:  # plain TOTP, sometimes with non-default parameters
        extra = ""
        if rng.random() < 0.4:
            extra += "&algorithm=" + rng.choice(["SHA1", "SHA256", "SHA512"])
        if rng.random() < 0.3:
            extra += "&digits=" + rng.choice(["6", "8"])
        if rng.random() < 0.3:
            extra += "&period=" + rng.choice(["30", "60", "15"])
        return f"otpauth://totp/{label}?secret={secret}&issuer={q(issuer)}{extra}"
    if r < 0.6:  # HOTP
        return (f"otpauth://hotp/{label}?secret={secret}&issuer={q(issuer)}"
                f"&counter={rng.randint(0, 100000)}")
    if r < 0.75:  # long URI with extra parameters, ~250 chars
        image = q(f"https://cdn.example.com/brand/{issuer.lower().replace(' ', '-')}"
                  f"/logo-{rng.randint(1000, 9999)}.png?size=256&format=png")
        uri = (f"otpauth://totp/{label}?secret={secret}&issuer={q(issuer)}"
               f"&algorithm=SHA256&digits=8&period=30&image={image}")
        while len(uri) < 240:
            uri += f"&x{rng.randint(0, 99)}=" + "".join(rng.choice(B32) for _ in range(12))
        return uri
    data = bytes(rng.getrandbits(8) for _ in range(rng.randint(60, 400)))
    return "otpauth-migration://offline?data=" + q(base64.b64encode(data).decode())


def modules(text, rng):
    """0/1 numpy matrix (1 = dark) including the 4-module quiet zone."""
    err = "l" if rng.random() < 0.15 else "m"
    qr = segno.make(text, error=err, micro=False, boost_error=False)
    return np.array(list(qr.matrix_iter(scale=1, border=4)), dtype=np.uint8)


def render(mat, scale, dark=0, light=255):
    grey = np.where(mat == 1, dark, light).astype(np.uint8)
    return Image.fromarray(np.kron(grey, np.ones((scale, scale), np.uint8)), "L")


def perspective_coeffs(dst, src):
    """Coefficients for Image.transform(PERSPECTIVE): maps output dst -> input src."""
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    return np.linalg.solve(np.array(a, float), np.array(b, float)).tolist()


def screenshot(qr_img, rng):
    W, H = 1080, 2340
    img = Image.new("RGB", (W, H), rng.choice([(255, 255, 255), (246, 246, 248)]))
    d = ImageDraw.Draw(img)
    header = rng.choice([(33, 150, 243), (76, 175, 80), (103, 58, 183), (244, 67, 54)])
    d.rectangle([0, 0, W, 90], fill=tuple(c // 2 for c in header))  # status bar
    d.rectangle([0, 90, W, 250], fill=header)  # app bar
    d.rectangle([60, 150, 60 + rng.randint(250, 500), 190], fill=(255, 255, 255))
    for _ in range(rng.randint(12, 25)):  # text-like grey lines
        x, y = rng.randint(40, 400), rng.randint(280, H - 200)
        g = rng.randint(90, 200)
        d.rectangle([x, y, x + rng.randint(150, 600), y + rng.randint(18, 34)], fill=(g, g, g))
    for _ in range(rng.randint(2, 4)):  # rounded buttons
        x, y = rng.randint(40, W - 500), rng.randint(300, H - 250)
        d.rounded_rectangle([x, y, x + rng.randint(250, 450), y + 110], radius=55,
                            fill=rng.choice([header, (230, 230, 235), (0, 121, 107)]))
    d.rectangle([0, H - 140, W, H], fill=(235, 235, 240))  # navigation bar
    x = rng.randint(0, W - qr_img.width)
    y = rng.randint(260, H - 150 - qr_img.height)
    img.paste(qr_img.convert("RGB"), (x, y))
    return img


def degrade(kind, mat, rng, nrng):
    """Return (PIL image, file extension) for one degradation kind."""
    n = mat.shape[0]
    if kind == "scaled":
        big = render(mat, 6)
        size = round(n * 1.5)
        return big.resize((size, size), Image.BOX), "png"
    if kind == "blur":
        s = rng.randint(4, 6)
        sigma = s * rng.uniform(0.6, 0.8) / 2  # radius 0.6-0.8 module = 2 std devs
        return render(mat, s).filter(ImageFilter.GaussianBlur(sigma)), "png"
    if kind == "rotated":
        angle = rng.uniform(5, 30) * rng.choice([-1, 1])
        return render(mat, rng.randint(4, 8)).rotate(
            angle, Image.BICUBIC, expand=True, fillcolor=255), "png"
    if kind == "perspective":
        img = render(mat, rng.randint(4, 8))
        S = img.width
        src = [(0, 0), (S, 0), (S, S), (0, S)]
        signs = [(1, 1), (-1, 1), (-1, -1), (1, -1)]  # move each corner inwards
        move = lambda: rng.uniform(0.05, 0.15) * S
        dst = [(x + sx * move(), y + sy * move()) for (x, y), (sx, sy) in zip(src, signs)]
        return img.transform((S, S), Image.PERSPECTIVE, perspective_coeffs(dst, src),
                             Image.BICUBIC, fillcolor=255), "png"
    if kind == "jpeg30":
        return render(mat, rng.randint(3, 5)), "jpg"
    if kind == "noise":
        a = np.asarray(render(mat, rng.randint(4, 6)), np.float32)
        a += nrng.normal(0, rng.uniform(25, 45), a.shape)
        return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L"), "png"
    if kind == "low_contrast":
        return render(mat, rng.randint(4, 6), rng.randint(110, 140), rng.randint(150, 180)), "png"
    if kind == "inverted":
        return render(mat, rng.randint(4, 6), rng.randint(215, 245), rng.randint(15, 45)), "png"
    if kind == "screenshot":
        return screenshot(render(mat, rng.randint(5, 7)), rng), "png"
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--count-per-kind", type=int, default=25)
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng, nrng = random.Random(args.seed), np.random.default_rng(args.seed)
    manifest = []
    for kind in KINDS:
        for i in range(args.count_per_kind):
            text = make_payload(rng)
            img, ext = degrade(kind, modules(text, rng), rng, nrng)
            name = f"{kind}_{i:03d}.{ext}"
            path = os.path.join(args.out_dir, name)
            if ext == "jpg":
                img.save(path, "JPEG", quality=30)
            else:
                img.save(path, "PNG", optimize=False)
            manifest.append({"file": name, "kind": kind, "text": text})
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(manifest)} images to {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()

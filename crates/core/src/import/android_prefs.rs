//! Android SharedPreferences XML (`<map><string name="...">value</string>...</map>`), where
//! several apps keep their tokens: FreeOTP, Authy, Battle.net, TOTP Authenticator.
//!
//! Only `<string>` preferences are read; other types (`<int>`, `<boolean>`, ...) carry no
//! secrets. This is a small reader for that one shape, not a general XML parser.

use super::common::{malformed, text};
use super::{Format, ImportError};

/// True when the bytes look like a SharedPreferences file.
pub(super) fn looks_like(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with("<?xml") || t.starts_with("<map")) && t.contains("<map")
}

/// The `<string>` preferences of the file, in file order, values unescaped.
pub(super) fn strings(bytes: &[u8], format: Format) -> Result<Vec<(String, String)>, ImportError> {
    let text = text(bytes, format)?;
    if !looks_like(text) {
        return Err(malformed(format, "not an Android preferences XML file"));
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<string") {
        rest = &rest[at + "<string".len()..];
        let end = rest
            .find('>')
            .ok_or_else(|| malformed(format, "unterminated <string> tag"))?;
        let attributes = &rest[..end];
        let name = attribute(attributes, "name")
            .ok_or_else(|| malformed(format, "<string> without a name"))?;
        if attributes.trim_end().ends_with('/') {
            out.push((unescape(name), String::new()));
            rest = &rest[end + 1..];
            continue;
        }
        let body = &rest[end + 1..];
        let close = body
            .find("</string>")
            .ok_or_else(|| malformed(format, "unterminated <string> element"))?;
        out.push((unescape(name), unescape(&body[..close])));
        rest = &body[close..];
    }
    Ok(out)
}

/// The value of `key="..."` (or `key='...'`) in a tag's attributes.
fn attribute<'a>(attributes: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = attributes;
    loop {
        let at = rest.find(key)?;
        let after = rest[at + key.len()..].trim_start();
        let before_ok = at == 0 || rest[..at].ends_with(char::is_whitespace);
        if let (true, Some(value)) = (before_ok, after.strip_prefix('=')) {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let value = &value[1..];
                return value.find(quote).map(|end| &value[..end]);
            }
        }
        rest = &rest[at + key.len()..];
    }
}

/// Replaces XML's character and entity references.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "quot" => Some('"'),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of the string preference `name`, if present.
pub(super) fn get<'a>(strings: &'a [(String, String)], name: &str) -> Option<&'a str> {
    strings
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings() {
        let xml = br#"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>
<map>
    <int name="n" value="1" />
    <string name="a&amp;b">{&quot;x&quot;:&#49;&#x32;}</string>
    <string name='empty' />
    <string name="raw">1 &amp 2 &bogus; 3</string>
</map>"#;
        let s = strings(xml, Format::FreeOtp).unwrap();
        assert_eq!(get(&s, "a&b"), Some(r#"{"x":12}"#));
        assert_eq!(get(&s, "empty"), Some(""));
        assert_eq!(get(&s, "raw"), Some("1 &amp 2 &bogus; 3"));
        assert_eq!(get(&s, "n"), None);
    }

    #[test]
    fn malformed_xml() {
        for bad in [
            &b"{}"[..],
            b"<map><string>x</string></map>",
            b"<map><string name=\"a\">x",
        ] {
            assert!(matches!(
                strings(bad, Format::FreeOtp),
                Err(ImportError::Malformed { .. })
            ));
        }
    }
}

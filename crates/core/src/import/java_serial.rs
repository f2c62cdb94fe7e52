//! The one Java serialization stream FreeOTP 2 writes: a `java.util.HashMap<String, String>`
//! (Java Object Serialization Specification, protocol version 2, stream version 5).
//!
//! This reads exactly that shape (class descriptor of `java.util.HashMap`, its
//! `loadFactor`/`threshold` fields, the block with capacity and size, then key/value strings,
//! including back-references to earlier strings) and refuses everything else. It never builds
//! arbitrary objects, so it cannot be tricked into more than reading strings.

const MAGIC: u16 = 0xACED;
const VERSION: u16 = 5;
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_LONGSTRING: u8 = 0x7C;
const BASE_HANDLE: u32 = 0x7E_0000;
/// More entries than any token store holds; stops absurd sizes early.
const MAX_ENTRIES: u32 = 100_000;
/// The most string bytes one stream may decode to, back-references counted each time they
/// are used: 16 MiB. A FreeOTP 2 token is a few hundred bytes, so 100,000 of them fit; a
/// 2 MB file of back-references to one 1 MB string would otherwise expand to hundreds of GB.
pub(super) const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// True when the bytes start like a Java serialization stream.
pub(super) fn looks_like(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && u16::from_be_bytes([bytes[0], bytes[1]]) == MAGIC
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Objects by handle, in the order the stream assigns them; `None` for non-strings.
    handles: Vec<Option<String>>,
    /// String bytes produced so far (each back-reference counted again), at most
    /// [`MAX_DECODED_BYTES`].
    decoded: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("the stream ends early")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn tag(&mut self, byte: u8, what: &str) -> Result<(), String> {
        match self.u8()? {
            b if b == byte => Ok(()),
            b => Err(format!("expected {what}, found byte 0x{b:02x}")),
        }
    }
    fn utf(&mut self, len: usize) -> Result<String, String> {
        let bytes = self.take(len)?;
        modified_utf8(bytes).ok_or_else(|| "a string is not valid modified UTF-8".to_owned())
    }
    /// Counts `n` more decoded bytes against [`MAX_DECODED_BYTES`], before they are copied.
    fn spend(&mut self, n: usize) -> Result<(), String> {
        self.decoded = self
            .decoded
            .checked_add(n)
            .filter(|&d| d <= MAX_DECODED_BYTES)
            .ok_or_else(|| {
                format!("the stream decodes to more than {MAX_DECODED_BYTES} bytes of strings")
            })?;
        Ok(())
    }
    fn string_object(&mut self) -> Result<String, String> {
        match self.u8()? {
            TC_STRING => {
                let len = usize::from(self.u16()?);
                self.spend(len)?;
                let s = self.utf(len)?;
                self.handles.push(Some(s.clone()));
                Ok(s)
            }
            TC_LONGSTRING => {
                let b = self.take(8)?;
                let len = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                let len = usize::try_from(len).map_err(|_| "a string is too long")?;
                self.spend(len)?;
                let s = self.utf(len)?;
                self.handles.push(Some(s.clone()));
                Ok(s)
            }
            TC_REFERENCE => {
                let handle = self.u32()?;
                let len = handle
                    .checked_sub(BASE_HANDLE)
                    .and_then(|i| self.handles.get(i as usize))
                    .and_then(Option::as_ref)
                    .map(String::len)
                    .ok_or_else(|| "a reference to an unknown string".to_owned())?;
                // Counted before the copy is made.
                self.spend(len)?;
                let i = (handle - BASE_HANDLE) as usize;
                Ok(self.handles[i].clone().unwrap_or_default())
            }
            TC_NULL => Err("a null key or value".to_owned()),
            b => Err(format!("expected a string, found byte 0x{b:02x}")),
        }
    }
}

/// The key/value pairs of a serialized `HashMap<String, String>`, in stream order.
pub(super) fn string_map(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut r = Reader {
        bytes,
        at: 0,
        handles: Vec::new(),
        decoded: 0,
    };
    if r.u16()? != MAGIC || r.u16()? != VERSION {
        return Err("not a Java serialization stream (version 5)".to_owned());
    }
    r.tag(TC_OBJECT, "an object")?;
    r.tag(TC_CLASSDESC, "a class descriptor")?;
    let class_len = usize::from(r.u16()?);
    if r.utf(class_len)? != "java.util.HashMap" {
        return Err("the object is not a java.util.HashMap".to_owned());
    }
    r.take(8)?; // serialVersionUID
    r.handles.push(None); // the class descriptor
    r.take(1)?; // flags
    let mut field_bytes = 0usize;
    for _ in 0..r.u16()? {
        let size = match r.u8()? {
            b'F' | b'I' => 4,
            b'J' | b'D' => 8,
            b'Z' | b'B' => 1,
            b'S' | b'C' => 2,
            t => return Err(format!("unexpected HashMap field type 0x{t:02x}")),
        };
        let name_len = usize::from(r.u16()?);
        r.take(name_len)?;
        field_bytes += size;
    }
    r.tag(TC_ENDBLOCKDATA, "the end of the class annotations")?;
    r.tag(TC_NULL, "no superclass")?;
    r.handles.push(None); // the map itself
    r.take(field_bytes)?; // loadFactor, threshold
    r.tag(TC_BLOCKDATA, "the map's data block")?;
    let block = usize::from(r.u8()?);
    if block < 8 {
        return Err("the map's data block is too short".to_owned());
    }
    r.u32()?; // capacity
    let size = r.u32()?;
    r.take(block - 8)?;
    if size > MAX_ENTRIES {
        return Err(format!("the map claims {size} entries"));
    }
    let mut out = Vec::with_capacity(size as usize);
    for _ in 0..size {
        let key = r.string_object()?;
        let value = r.string_object()?;
        out.push((key, value));
    }
    r.tag(TC_ENDBLOCKDATA, "the end of the map")?;
    Ok(out)
}

/// Java's modified UTF-8 (NUL as `C0 80`, characters outside the BMP as surrogate pairs).
fn modified_utf8(bytes: &[u8]) -> Option<String> {
    let mut units = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let cont = |k: usize| {
            bytes
                .get(i + k)
                .filter(|c| *c & 0xC0 == 0x80)
                .map(|c| u16::from(c & 0x3F))
        };
        if b & 0x80 == 0 && b != 0 {
            units.push(u16::from(b));
            i += 1;
        } else if b & 0xE0 == 0xC0 {
            units.push((u16::from(b & 0x1F) << 6) | cont(1)?);
            i += 2;
        } else if b & 0xF0 == 0xE0 {
            units.push((u16::from(b & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?);
            i += 3;
        } else {
            return None;
        }
    }
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream as `ObjectOutputStream` writes a `HashMap` (bytes taken from the spec's layout).
    pub(crate) fn stream(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut b = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        let class = b"java.util.HashMap";
        b.extend((class.len() as u16).to_be_bytes());
        b.extend(class);
        b.extend(362_498_820_763_181_265i64.to_be_bytes());
        b.extend([0x03, 0x00, 0x02, b'F']);
        b.extend(10u16.to_be_bytes());
        b.extend(b"loadFactor");
        b.push(b'I');
        b.extend(9u16.to_be_bytes());
        b.extend(b"threshold");
        b.extend([TC_ENDBLOCKDATA, TC_NULL]);
        b.extend(0.75f32.to_be_bytes());
        b.extend(12u32.to_be_bytes());
        b.extend([TC_BLOCKDATA, 8]);
        b.extend(16u32.to_be_bytes());
        b.extend((pairs.len() as u32).to_be_bytes());
        for (k, v) in pairs {
            for s in [k, v] {
                b.push(TC_STRING);
                b.extend((s.len() as u16).to_be_bytes());
                b.extend(s.as_bytes());
            }
        }
        b.push(TC_ENDBLOCKDATA);
        b
    }

    #[test]
    fn reads_a_map() {
        let bytes = stream(&[("a", "1"), ("b", "two")]);
        assert!(looks_like(&bytes));
        let map = string_map(&bytes).unwrap();
        assert_eq!(map, [("a".into(), "1".into()), ("b".into(), "two".into())]);
    }

    #[test]
    fn back_references_resolve() {
        let mut bytes = stream(&[("a", "x")]);
        // Replace the value by a reference to the key ("a" has handle base + 2).
        let end = bytes.len();
        bytes.truncate(end - 1 - 4);
        bytes.push(TC_REFERENCE);
        bytes.extend((BASE_HANDLE + 2).to_be_bytes());
        bytes.push(TC_ENDBLOCKDATA);
        assert_eq!(string_map(&bytes).unwrap(), [("a".into(), "a".into())]);
    }

    /// A map whose every key and value refers back to one long string.
    pub(crate) fn back_reference_bomb(string_len: usize, pairs: u32) -> Vec<u8> {
        let mut bytes = stream(&[]);
        bytes.pop(); // TC_ENDBLOCKDATA
        let size_at = bytes.len() - 4;
        bytes[size_at..].copy_from_slice(&pairs.to_be_bytes());
        bytes.push(TC_LONGSTRING);
        bytes.extend((string_len as u64).to_be_bytes());
        bytes.extend(std::iter::repeat_n(b'a', string_len));
        for _ in 0..(2 * pairs - 1) {
            bytes.push(TC_REFERENCE);
            bytes.extend((BASE_HANDLE + 2).to_be_bytes());
        }
        bytes.push(TC_ENDBLOCKDATA);
        bytes
    }

    #[test]
    fn back_reference_bombs_stop_at_the_decoded_byte_cap() {
        let bytes = back_reference_bomb(1 << 20, 100_000);
        let start = std::time::Instant::now();
        let err = string_map(&bytes).unwrap_err();
        assert!(err.contains("more than"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        // Small references still resolve.
        assert_eq!(string_map(&back_reference_bomb(3, 2)).unwrap().len(), 2);
    }

    #[test]
    fn modified_utf8_decodes_nul_and_surrogates() {
        assert_eq!(modified_utf8(&[0x61, 0xC0, 0x80]).unwrap(), "a\0");
        // U+1F600 as a CESU-8 surrogate pair.
        let smile = [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80];
        assert_eq!(modified_utf8(&smile).unwrap(), "\u{1F600}");
        assert!(modified_utf8(&[0xFF]).is_none());
    }

    #[test]
    fn truncations_are_errors_not_panics() {
        let bytes = stream(&[("key", "value")]);
        for n in 0..bytes.len() {
            assert!(string_map(&bytes[..n]).is_err(), "prefix {n}");
        }
    }
}

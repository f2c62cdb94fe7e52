//! A folder reached through a document API instead of paths: Android's storage access
//! framework (a tree URI the user chose in the system's folder picker), where documents are
//! listed, opened, created, renamed and removed one by one and a rename never replaces an
//! existing document. [`Documents`] is that small API; [`DocumentFolder`] keeps the folder
//! target's rules on top of it (`docs/sync.md` "Files in the target"): every `*.twofold-sync`
//! file is read, capped before reading; this device's replica is written as a new temporary
//! document first and only then takes the replica's name, so a reader never sees a
//! half-written replica under it.
//!
//! The app implements [`Documents`] on Android over tauri-plugin-android-fs; [`DirDocuments`]
//! implements it over a plain directory with the same rules (no replacing rename), for tests of
//! the store on any machine.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use twofold_core::rng::Rng;
use twofold_core::sync::session::{MAX_FILES, SUFFIX};
use twofold_core::sync::{DeviceId, TargetFile};

use crate::budget::{Budget, read_order};
use crate::{Listing, Store, TargetError};

/// One child of a document folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its display name.
    pub name: String,
    /// How the document API finds it again (a document URI, a path).
    pub id: String,
    /// A file, not a folder.
    pub is_file: bool,
    /// Its size as the provider reports it, if it does (reading is capped either way).
    pub len: Option<u64>,
}

/// The few operations a sync needs from a folder reached through a document API.
pub trait Documents {
    /// How the folder is named in errors (no secret: a URI or a path).
    fn place(&self) -> String;
    /// The folder's direct children.
    fn children(&mut self) -> io::Result<Vec<Document>>;
    /// Opens a child for reading.
    fn open(&mut self, doc: &Document) -> io::Result<Box<dyn Read>>;
    /// Creates a new document named `name` (never replacing one; a provider may pick another
    /// name, which the answer tells) holding `bytes`, written through to storage.
    fn create(&mut self, name: &str, bytes: &[u8]) -> io::Result<Document>;
    /// Removes a child.
    fn remove(&mut self, doc: &Document) -> io::Result<()>;
    /// Gives a child another name; never replaces an existing document (the answer is the
    /// renamed document, whose name a provider may have changed).
    fn rename(&mut self, doc: &Document, name: &str) -> io::Result<Document>;
}

impl<D: Documents + ?Sized> Documents for Box<D> {
    fn place(&self) -> String {
        (**self).place()
    }
    fn children(&mut self) -> io::Result<Vec<Document>> {
        (**self).children()
    }
    fn open(&mut self, doc: &Document) -> io::Result<Box<dyn Read>> {
        (**self).open(doc)
    }
    fn create(&mut self, name: &str, bytes: &[u8]) -> io::Result<Document> {
        (**self).create(name, bytes)
    }
    fn remove(&mut self, doc: &Document) -> io::Result<()> {
        (**self).remove(doc)
    }
    fn rename(&mut self, doc: &Document, name: &str) -> io::Result<Document> {
        (**self).rename(doc, name)
    }
}

/// A folder target over [`Documents`].
#[derive(Debug)]
pub struct DocumentFolder<D> {
    docs: D,
}

impl<D: Documents> DocumentFolder<D> {
    /// The folder `docs` reaches.
    pub fn new(docs: D) -> DocumentFolder<D> {
        DocumentFolder { docs }
    }
}

fn failed(what: &'static str, place: String) -> impl FnOnce(io::Error) -> TargetError {
    move |source| TargetError::Io {
        what,
        path: place,
        source,
    }
}

/// `name` is one of this device's temporary replicas (`.<device>.<random>.tmp.twofold-sync`).
fn own_temporary(name: &str, device: DeviceId) -> bool {
    name.strip_prefix(&format!(".{device}."))
        .is_some_and(|rest| rest.ends_with(&format!(".tmp{SUFFIX}")))
}

/// Reads at most `cap` bytes from `r`; `None` when there are more.
pub(crate) fn read_capped(r: impl Read, cap: usize) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    r.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= cap).then_some(bytes))
}

impl<D: Documents> Store for DocumentFolder<D> {
    fn list(&mut self) -> Result<Listing, TargetError> {
        let mut listing = Listing::default();
        let mut children = self
            .docs
            .children()
            .map_err(failed("read the folder", self.docs.place()))?;
        children.retain(|doc| doc.is_file && doc.name.ends_with(SUFFIX));
        if children.len() > MAX_FILES {
            return Err(TargetError::TooManyFiles);
        }
        read_order(&mut children, |d| &d.name, |d| d.len);
        let mut budget = Budget::new();
        for doc in children {
            if let Err(skip) = budget.admit(doc.len) {
                listing.warnings.push(skip.warning(doc.name));
                continue;
            }
            let where_ = format!("{} in {}", doc.name, self.docs.place());
            let place = || where_.clone();
            let reader = match self.docs.open(&doc) {
                Ok(r) => r,
                // Gone since the listing (another device's sync tool): simply not there.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(failed("read", place())(e)),
            };
            match read_capped(reader, budget.cap()).map_err(failed("read", place()))? {
                Some(bytes) => {
                    budget.spend(bytes.len());
                    listing.files.push(TargetFile {
                        name: doc.name,
                        bytes,
                    })
                }
                None => listing.warnings.push(budget.past_cap().warning(doc.name)),
            }
        }
        listing.files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    /// The new bytes go into a new temporary document; then the old document of that name (if
    /// any) is removed and the temporary one renamed to it. A document API has no replacing
    /// rename, so for a moment the name is missing, never half-written. Readers skip temporary
    /// names (on a plain folder they may be half-written), so until the rename other devices
    /// see no replica of this one: nothing is lost, since this device's vault holds all of it
    /// and its next sync writes the replica again. One left by an interrupted sync is removed
    /// by the next.
    fn put(
        &mut self,
        file: &TargetFile,
        device: DeviceId,
        rng: &dyn Rng,
    ) -> Result<(), TargetError> {
        let tmp_name = crate::folder::temporary_name(device, rng)?;
        let where_ = format!("{} in {}", file.name, self.docs.place());
        let place = || where_.clone();
        let tmp = self
            .docs
            .create(&tmp_name, &file.bytes)
            .map_err(failed("write", place()))?;
        let children = match self.docs.children() {
            Ok(c) => c,
            Err(e) => {
                let _ = self.docs.remove(&tmp);
                return Err(failed("read the folder", self.docs.place())(e));
            }
        };
        if let Some(old) = children.iter().find(|d| d.is_file && d.name == file.name)
            && let Err(e) = self.docs.remove(old)
        {
            let _ = self.docs.remove(&tmp);
            return Err(failed("replace", place())(e));
        }
        // From here on the temporary document is kept on a failure: it may be the only copy.
        if let Err(e) = self.docs.rename(&tmp, &file.name) {
            // A provider that cannot rename (some cloud folders): the replica is written under
            // its name directly (the old one is gone, so the name is free), and the complete
            // temporary copy is removed only once that worked.
            self.docs
                .create(&file.name, &file.bytes)
                .map_err(|_| failed("rename the new copy to", place())(e))?;
            let _ = self.docs.remove(&tmp);
        }
        // Temporary replicas an interrupted sync of this device left: older than the one just
        // written, so nothing is lost with them.
        for doc in children
            .iter()
            .filter(|d| d.is_file && d.id != tmp.id && own_temporary(&d.name, device))
        {
            let _ = self.docs.remove(doc);
        }
        Ok(())
    }
}

/// [`Documents`] over a plain directory, with a document API's rules: a rename never replaces
/// (a hard link then an unlink), files are created exclusively and synced. The twin of the
/// Android store, for tests on any machine.
#[derive(Debug, Clone)]
pub struct DirDocuments {
    dir: PathBuf,
}

impl DirDocuments {
    /// The directory `dir`.
    pub fn new(dir: PathBuf) -> DirDocuments {
        DirDocuments { dir }
    }
}

impl Documents for DirDocuments {
    fn place(&self) -> String {
        self.dir.display().to_string()
    }

    fn children(&mut self) -> io::Result<Vec<Document>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let meta = entry.metadata()?;
            out.push(Document {
                name,
                id: entry.path().display().to_string(),
                is_file: meta.is_file(),
                len: Some(meta.len()),
            });
        }
        Ok(out)
    }

    fn open(&mut self, doc: &Document) -> io::Result<Box<dyn Read>> {
        Ok(Box::new(std::fs::File::open(&doc.id)?))
    }

    fn create(&mut self, name: &str, bytes: &[u8]) -> io::Result<Document> {
        let path = self.dir.join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let written = f.write_all(bytes).and_then(|()| f.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(Document {
            name: name.to_owned(),
            id: path.display().to_string(),
            is_file: true,
            len: Some(bytes.len() as u64),
        })
    }

    fn remove(&mut self, doc: &Document) -> io::Result<()> {
        std::fs::remove_file(&doc.id)
    }

    fn rename(&mut self, doc: &Document, name: &str) -> io::Result<Document> {
        let to = self.dir.join(name);
        std::fs::hard_link(&doc.id, &to)?;
        std::fs::remove_file(&doc.id)?;
        Ok(Document {
            name: name.to_owned(),
            id: to.display().to_string(),
            ..doc.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    //! The folder store's behaviour, run against both [`crate::Folder`] (paths) and
    //! [`DocumentFolder`] over [`DirDocuments`] (the document API's rules).

    use std::path::Path;

    use twofold_core::rng::SystemRng;
    use twofold_core::sync::replica::MAX_REPLICA_BYTES;
    use twofold_core::vault::{KdfParams, Vault};
    use zeroize::Zeroizing;

    use super::*;
    use crate::{Folder, Target};

    type Make = fn(&Path) -> Box<dyn Store>;

    fn folder(dir: &Path) -> Box<dyn Store> {
        Box::new(Folder::new(dir.to_owned()))
    }

    fn documents(dir: &Path) -> Box<dyn Store> {
        Box::new(DocumentFolder::new(DirDocuments::new(dir.to_owned())))
    }

    const STORES: [(&str, Make); 2] = [("folder", folder), ("documents", documents)];

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    }

    fn device(rng: &SystemRng) -> DeviceId {
        DeviceId::random(rng).unwrap()
    }

    #[test]
    fn lists_only_sync_files_sorted_and_caps_before_reading() {
        for (kind, make) in STORES {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            std::fs::write(d.join("b.twofold-sync"), b"second").unwrap();
            std::fs::write(d.join("a (conflicted copy).twofold-sync"), b"first").unwrap();
            std::fs::write(d.join("notes.txt"), b"not ours").unwrap();
            std::fs::create_dir(d.join("folder.twofold-sync")).unwrap();
            let big = std::fs::File::create(d.join("big.twofold-sync")).unwrap();
            big.set_len(MAX_REPLICA_BYTES as u64 + 1).unwrap();
            let listing = make(d).list().unwrap();
            let got: Vec<(&str, &[u8])> = listing
                .files
                .iter()
                .map(|f| (f.name.as_str(), f.bytes.as_slice()))
                .collect();
            assert_eq!(
                got,
                [
                    ("a (conflicted copy).twofold-sync", &b"first"[..]),
                    ("b.twofold-sync", &b"second"[..])
                ],
                "{kind}"
            );
            assert_eq!(listing.warnings.len(), 1, "{kind}");
            assert_eq!(listing.warnings[0].file, "big.twofold-sync", "{kind}");
        }
    }

    #[test]
    fn one_listing_holds_at_most_the_budget_and_names_what_it_skipped() {
        for (kind, make) in STORES {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            // Six sparse junk files of a replica's full size, and a replica's own name that
            // is read first however the junk is named.
            for i in 0..6 {
                let junk = std::fs::File::create(d.join(format!("{i}.twofold-sync"))).unwrap();
                junk.set_len(MAX_REPLICA_BYTES as u64).unwrap();
            }
            let own = format!("{}.twofold-sync", "ee".repeat(16));
            std::fs::write(d.join(&own), b"a real replica").unwrap();
            let listing = make(d).list().unwrap();
            let held: usize = listing.files.iter().map(|f| f.bytes.len()).sum();
            assert!(held <= crate::MAX_SYNC_BYTES, "{kind}: {held}");
            assert!(listing.files.iter().any(|f| f.name == own), "{kind}");
            assert_eq!(
                listing.files.len(),
                4,
                "{kind}: the replica and three junk files"
            );
            assert_eq!(listing.warnings.len(), 3, "{kind}");
            for w in &listing.warnings {
                assert!(w.reason.contains("256 MiB"), "{kind}: {w:?}");
            }
        }
    }

    #[test]
    fn more_files_than_a_sync_set_can_hold_is_an_error() {
        for (kind, make) in STORES {
            let dir = tempfile::tempdir().unwrap();
            for i in 0..=MAX_FILES {
                std::fs::write(dir.path().join(format!("{i}.twofold-sync")), b"x").unwrap();
            }
            assert!(
                matches!(make(dir.path()).list(), Err(TargetError::TooManyFiles)),
                "{kind}"
            );
        }
    }

    #[test]
    fn put_replaces_whole_and_leaves_no_temporary_file() {
        let rng = SystemRng::new();
        for (kind, make) in STORES {
            let dir = tempfile::tempdir().unwrap();
            let me = device(&rng);
            let name = format!("{me}.twofold-sync");
            let mut store = make(dir.path());
            for bytes in [&b"generation one, the longer one"[..], b"two"] {
                store
                    .put(
                        &TargetFile {
                            name: name.clone(),
                            bytes: bytes.to_vec(),
                        },
                        me,
                        &rng,
                    )
                    .unwrap();
                assert_eq!(names(dir.path()), std::slice::from_ref(&name), "{kind}");
                assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), bytes);
            }
        }
    }

    #[test]
    fn put_through_documents_clears_only_its_own_leftover_temporaries() {
        let rng = SystemRng::new();
        let dir = tempfile::tempdir().unwrap();
        let (me, other) = (device(&rng), device(&rng));
        let mine = format!(".{me}.00aa.tmp.twofold-sync");
        let theirs = format!(".{other}.00bb.tmp.twofold-sync");
        std::fs::write(dir.path().join(&mine), b"interrupted").unwrap();
        std::fs::write(dir.path().join(&theirs), b"another device's").unwrap();
        documents(dir.path())
            .put(
                &TargetFile {
                    name: format!("{me}.twofold-sync"),
                    bytes: b"new".to_vec(),
                },
                me,
                &rng,
            )
            .unwrap();
        let mut want = vec![theirs, format!("{me}.twofold-sync")];
        want.sort();
        assert_eq!(names(dir.path()), want);
    }

    /// A provider that cannot rename.
    struct NoRename(DirDocuments);

    impl Documents for NoRename {
        fn place(&self) -> String {
            self.0.place()
        }
        fn children(&mut self) -> io::Result<Vec<Document>> {
            self.0.children()
        }
        fn open(&mut self, doc: &Document) -> io::Result<Box<dyn Read>> {
            self.0.open(doc)
        }
        fn create(&mut self, name: &str, bytes: &[u8]) -> io::Result<Document> {
            self.0.create(name, bytes)
        }
        fn remove(&mut self, doc: &Document) -> io::Result<()> {
            self.0.remove(doc)
        }
        fn rename(&mut self, _doc: &Document, _name: &str) -> io::Result<Document> {
            Err(io::Error::new(io::ErrorKind::Unsupported, "no rename here"))
        }
    }

    #[test]
    fn a_provider_that_cannot_rename_still_gets_one_whole_replica() {
        let rng = SystemRng::new();
        let dir = tempfile::tempdir().unwrap();
        let me = device(&rng);
        let name = format!("{me}.twofold-sync");
        let mut store = DocumentFolder::new(NoRename(DirDocuments::new(dir.path().to_owned())));
        for bytes in [&b"first"[..], b"second"] {
            let file = TargetFile {
                name: name.clone(),
                bytes: bytes.to_vec(),
            };
            store.put(&file, me, &rng).unwrap();
            assert_eq!(names(dir.path()), std::slice::from_ref(&name));
            assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), bytes);
        }
    }

    #[test]
    fn a_failed_write_leaves_the_old_replica() {
        // A document that cannot be created (the folder is gone) changes nothing there.
        let rng = SystemRng::new();
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let me = device(&rng);
        let file = TargetFile {
            name: format!("{me}.twofold-sync"),
            bytes: b"x".to_vec(),
        };
        let err = documents(&gone).put(&file, me, &rng).unwrap_err();
        assert!(
            matches!(err, TargetError::Io { what: "write", .. }),
            "{err}"
        );
    }

    fn vault_with(rng: &SystemRng, n: u64) -> Vault {
        let mut v = Vault::create(b"pw", KdfParams::MIN, rng).unwrap();
        let secret = "JBSWY3DPEHPK3PXP";
        for i in 0..n {
            let otp = twofold_core::uri::parse(&format!(
                "otpauth://totp/Issuer{n}:user{i}?secret={secret}&issuer=Issuer{n}"
            ))
            .unwrap();
            v.add(otp, 1_700_000_000, rng).unwrap();
        }
        v
    }

    fn ids(v: &Vault) -> Vec<String> {
        let mut ids: Vec<String> = v.accounts().iter().map(|a| a.id.clone()).collect();
        ids.sort();
        ids
    }

    /// Three vaults sync through one folder with each store and converge; the folder holds
    /// the key file and one replica per device, nothing else.
    #[test]
    fn three_vaults_converge_through_either_store() {
        let rng = SystemRng::new();
        for (kind, make) in STORES {
            let dir = tempfile::tempdir().unwrap();
            let target = Target::Folder(dir.path().to_owned());
            let mut vaults = [
                vault_with(&rng, 2),
                vault_with(&rng, 3),
                vault_with(&rng, 4),
            ];
            let mut ask = |_need: crate::Need| {
                Ok((
                    Zeroizing::new("tangerine orbit velvet ladder".to_owned()),
                    KdfParams::MIN,
                ))
            };
            for round in 0..2 {
                for (i, v) in vaults.iter_mut().enumerate() {
                    let now = twofold_core::FixedClock(1_700_000_000 + round * 3 + i as u64);
                    crate::run(
                        v,
                        &target,
                        &mut *make(dir.path()),
                        &mut ask,
                        None,
                        &now,
                        &rng,
                    )
                    .unwrap_or_else(|e| panic!("{kind}: {e}"));
                }
            }
            assert_eq!(ids(&vaults[0]).len(), 9, "{kind}");
            assert_eq!(ids(&vaults[0]), ids(&vaults[1]), "{kind}");
            assert_eq!(ids(&vaults[1]), ids(&vaults[2]), "{kind}");
            let files = names(dir.path());
            assert_eq!(files.len(), 4, "{kind}: {files:?}");
            assert_eq!(
                files.iter().filter(|f| f.starts_with("key-")).count(),
                1,
                "{kind}"
            );
            assert!(files.iter().all(|f| f.ends_with(SUFFIX)), "{kind}");
        }
    }
}

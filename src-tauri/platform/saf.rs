//! Android: a sync folder through the storage access framework (tauri-plugin-android-fs,
//! called from Rust only). The system's folder picker (`ACTION_OPEN_DOCUMENT_TREE`) answers
//! with a tree URI; its read-write access is made persistent at once, so later syncs (after a
//! restart too) reach the folder without asking again. The folder's documents are listed,
//! read, created, renamed and removed through the plugin's document API; the rules of a sync
//! folder (which files, caps, how this device's replica is replaced) are
//! [`twofold_sync::DocumentFolder`]'s, tested on any machine over a plain directory.

use std::io::{self, Read, Write};

use tauri::{AppHandle, Runtime};
use tauri_plugin_android_fs::{AndroidFsExt, Entry, FsUri, UriPermission};
use twofold_sync::{Document, Documents, Target};

use crate::error::{AppError, AppResult, ErrorKind};

/// The picker, then persistent read-write access to what was chosen; `None` when cancelled.
pub fn choose<R: Runtime>(app: &AppHandle<R>) -> AppResult<Option<Target>> {
    let api = app.android_fs();
    let failed = |e: tauri_plugin_android_fs::Error| {
        AppError::new(ErrorKind::Io, format!("the folder picker failed: {e}"))
    };
    let Some(dir) = api.picker().pick_dir(None, false).map_err(failed)? else {
        return Ok(None);
    };
    let Some(tree) = dir.document_top_tree_uri.clone() else {
        return Err(AppError::unsupported(
            "the folder picker answered with something other than a folder",
        ));
    };
    api.picker().persist_uri_permission(&dir).map_err(failed)?;
    Ok(Some(Target::Saf(tree)))
}

/// The folder of `tree`, which must still be readable and writable by the app.
pub fn documents<R: Runtime>(app: &AppHandle<R>, tree: &str) -> AppResult<Box<dyn Documents>> {
    let uri = twofold_sync::saf_document_uri(tree)
        .ok_or_else(|| AppError::invalid("the sync folder's address is not a folder's"))?;
    let dir = FsUri {
        uri,
        document_top_tree_uri: Some(tree.to_owned()),
    };
    let allowed = app
        .android_fs()
        .picker()
        .check_persisted_uri_permission(&dir, UriPermission::ReadAndWrite)
        .map_err(|e| {
            AppError::new(
                ErrorKind::Io,
                format!("cannot check the access to the sync folder: {e}"),
            )
        })?;
    if !allowed {
        return Err(AppError::new(
            ErrorKind::Io,
            "the app may no longer read and write the sync folder (the access was taken back, or the folder moved): turn sync off and choose the folder again",
        ));
    }
    Ok(Box::new(Saf {
        app: app.clone(),
        dir,
    }))
}

/// A folder chosen in the picker.
struct Saf<R: Runtime> {
    app: AppHandle<R>,
    dir: FsUri,
}

impl<R: Runtime> Saf<R> {
    fn uri(&self, doc: &Document) -> FsUri {
        FsUri {
            uri: doc.id.clone(),
            document_top_tree_uri: self.dir.document_top_tree_uri.clone(),
        }
    }

    fn document(&self, uri: FsUri, fallback_name: &str, len: Option<u64>) -> Document {
        // The provider may have changed the name (made it unique, sanitised it).
        let name = self
            .app
            .android_fs()
            .get_name(&uri)
            .unwrap_or_else(|_| fallback_name.to_owned());
        Document {
            name,
            id: uri.uri,
            is_file: true,
            len,
        }
    }
}

fn io_error(e: tauri_plugin_android_fs::Error) -> io::Error {
    e.into()
}

impl<R: Runtime> Documents for Saf<R> {
    fn place(&self) -> String {
        self.dir
            .document_top_tree_uri
            .as_deref()
            .map(|t| Target::Saf(t.to_owned()).describe())
            .unwrap_or_default()
    }

    fn children(&mut self) -> io::Result<Vec<Document>> {
        let entries = self
            .app
            .android_fs()
            .read_dir(&self.dir)
            .map_err(io_error)?;
        Ok(entries
            .into_iter()
            .map(|e: Entry| Document {
                name: e.name().to_owned(),
                id: e.uri().uri.clone(),
                is_file: e.is_file(),
                len: e.file_len(),
            })
            .collect())
    }

    fn open(&mut self, doc: &Document) -> io::Result<Box<dyn Read>> {
        let file = self
            .app
            .android_fs()
            .open_file_readable(&self.uri(doc))
            .map_err(io_error)?;
        Ok(Box::new(file))
    }

    fn create(&mut self, name: &str, bytes: &[u8]) -> io::Result<Document> {
        let api = self.app.android_fs();
        let uri = api
            .create_new_file(&self.dir, name, Some("application/octet-stream"))
            .map_err(io_error)?;
        let written = (|| {
            let mut file = api.open_file_writable(&uri).map_err(io_error)?;
            file.write_all(bytes)?;
            match file.sync_all() {
                // A provider may hand over a pipe (a cloud folder), which cannot be synced:
                // it stores what was written once the pipe is closed.
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
                other => other,
            }
        })();
        if let Err(e) = written {
            let _ = api.remove_file(&uri);
            return Err(e);
        }
        Ok(self.document(uri, name, Some(bytes.len() as u64)))
    }

    fn remove(&mut self, doc: &Document) -> io::Result<()> {
        self.app
            .android_fs()
            .remove_file(&self.uri(doc))
            .map_err(io_error)
    }

    fn rename(&mut self, doc: &Document, name: &str) -> io::Result<Document> {
        let uri = self
            .app
            .android_fs()
            .rename(&self.uri(doc), name)
            .map_err(io_error)?;
        Ok(self.document(uri, name, doc.len))
    }
}

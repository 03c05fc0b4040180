//! Secrets kept outside the database: the audit chain's key and the seal
//! key live in files of their own (mode 0600), so a copy or a dump of the
//! database holds neither.

use std::io::Write;
use std::path::Path;

/// Permission bits a key file must not have: nobody but its owner reads it.
pub const FORBIDDEN_KEY_MODE: u32 = 0o077;

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the key file {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("the key file {path} is readable by others (mode {mode:o}); make it 0600")]
    Exposed { path: String, mode: u32 },
    #[error("the key file {path} holds no key of the expected form")]
    Malformed { path: String },
    #[error("no key file {path}")]
    Missing { path: String },
}

/// Reads a key file's text; refuses a file others may read.
pub fn read_key_file(path: &Path) -> Result<Option<String>, KeyFileError> {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyFileError::Read {
                path: shown,
                source,
            })
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & FORBIDDEN_KEY_MODE != 0 {
            return Err(KeyFileError::Exposed { path: shown, mode });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|source| KeyFileError::Read {
            path: shown,
            source,
        })
}

/// Writes a new key file, readable by its owner only; never replaces one.
pub fn create_key_file(path: &Path, text: &str) -> Result<(), KeyFileError> {
    let shown = path.display().to_string();
    let err = |source| KeyFileError::Create {
        path: shown.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.write_all(b"\n").map_err(err)?;
    f.sync_all().map_err(err)
}

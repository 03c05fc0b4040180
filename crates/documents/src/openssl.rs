//! The `openssl` command (OpenSSL 3) with the gost engine (Debian's
//! `libengine-gost-openssl`): what checks ГОСТ Р 34.10-2012 signatures and
//! every certificate's revocation. Why a separate process and not a linked
//! library: docs/adr/0004-gost-through-the-openssl-command.md.
//!
//! Everything handed to it is hostile: it runs with no shell, on files in a
//! fresh private directory, with a time limit ([`TIME_LIMIT`]); its answer is
//! read only from its exit status and the error codes `openssl verify`
//! prints (`error N at D depth lookup: …`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest one `openssl` run may take before it is killed.
pub const TIME_LIMIT: Duration = Duration::from_secs(20);

/// How to run `openssl`.
#[derive(Debug, Clone)]
pub struct OpenSsl {
    program: PathBuf,
}

impl Default for OpenSsl {
    fn default() -> Self {
        OpenSsl {
            program: std::env::var_os("RTMS_OPENSSL")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("openssl")),
        }
    }
}

/// Does the certificate chain up to one of the roots (links' signatures
/// checked, validity dates not: those are judged at the signing time apart)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Trusted,
    /// No configured root issued it (self-signed, or an unknown issuer).
    UnknownRoot,
    /// A link does not hold (a forged certificate, a broken signature).
    Broken,
}

/// Is the signer's certificate on a revocation list of its issuer?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    NotRevoked,
    Revoked,
    /// No list of its issuer is loaded (or the list does not verify).
    Unknown,
}

/// A failure to run the check at all (no `openssl`, no gost engine, a time-out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("openssl: {0}")]
pub struct ToolError(pub String);

/// A private directory for one run's files, removed afterwards.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new() -> Result<Scratch, ToolError> {
        use rand::Rng;
        let name = format!("rtms-openssl-{:016x}", rand::thread_rng().gen::<u64>());
        let dir = std::env::temp_dir().join(name);
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&dir)
            .map_err(|e| ToolError(format!("scratch directory: {e}")))?;
        Ok(Scratch { dir })
    }

    fn file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, ToolError> {
        let path = self.dir.join(name);
        let mut f = std::fs::File::create(&path).map_err(|e| ToolError(format!("{name}: {e}")))?;
        f.write_all(bytes)
            .map_err(|e| ToolError(format!("{name}: {e}")))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// PEM of DER certificates or CRLs, one after another.
pub fn pem(label: &str, ders: &[Vec<u8>]) -> Vec<u8> {
    use base64::Engine;
    let mut out = String::new();
    for der in ders {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        out.push_str(&format!("-----BEGIN {label}-----\n"));
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
    }
    out.into_bytes()
}

/// The first `error N at D depth lookup` code `openssl verify` printed, if any.
fn verify_error(output: &str) -> Option<u32> {
    output.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("error ")?;
        let (code, tail) = rest.split_once(' ')?;
        if !tail.starts_with("at ") {
            return None;
        }
        code.parse().ok()
    })
}

impl OpenSsl {
    pub fn new(program: impl Into<PathBuf>) -> OpenSsl {
        OpenSsl {
            program: program.into(),
        }
    }

    /// Runs `openssl args…` in `dir`; (exit success, stdout + stderr).
    fn run(&self, dir: &Path, args: &[&str]) -> Result<(bool, String), ToolError> {
        let mut child = Command::new(&self.program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ToolError(format!("cannot run {}: {e}", self.program.display())))?;
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() > TIME_LIMIT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(ToolError(format!(
                        "no answer in {} s",
                        TIME_LIMIT.as_secs()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(ToolError(e.to_string())),
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| ToolError(e.to_string()))?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok((out.status.success(), text))
    }

    /// Is the gost engine there? (`openssl engine -t gost`.)
    pub fn gost_available(&self) -> Result<(), ToolError> {
        let s = Scratch::new()?;
        let (ok, text) = self.run(&s.dir, &["engine", "-t", "gost"])?;
        if ok && text.contains("available") {
            Ok(())
        } else {
            Err(ToolError(format!(
                "the gost engine is not available: {}",
                text.trim()
            )))
        }
    }

    /// Does the detached CMS signature (DER) match the document? The
    /// signer's certificate is not judged here (`-noverify`): see [`OpenSsl::chain`].
    pub fn signature_matches(&self, signature: &[u8], document: &[u8]) -> Result<bool, ToolError> {
        let s = Scratch::new()?;
        s.file("sig.der", signature)?;
        s.file("doc", document)?;
        let (ok, text) = self.run(
            &s.dir,
            &[
                "cms",
                "-verify",
                "-engine",
                "gost",
                "-binary",
                "-inform",
                "DER",
                "-in",
                "sig.der",
                "-content",
                "doc",
                "-noverify",
                "-out",
                "out",
            ],
        )?;
        if ok {
            return Ok(true);
        }
        if text.contains("Verification failure") || text.contains("verify error") {
            return Ok(false);
        }
        Err(ToolError(
            text.lines().take(3).collect::<Vec<_>>().join(" / "),
        ))
    }

    /// Does `leaf` chain up to one of `roots` (through `intermediates`)?
    pub fn chain(
        &self,
        leaf: &[u8],
        intermediates: &[Vec<u8>],
        roots: &[Vec<u8>],
    ) -> Result<Chain, ToolError> {
        if roots.is_empty() {
            return Ok(Chain::UnknownRoot);
        }
        let (ok, text) = self.verify(leaf, intermediates, roots, &[])?;
        if ok {
            return Ok(Chain::Trusted);
        }
        Ok(match verify_error(&text) {
            // Unable to get the issuer (2, 20), to verify the leaf (21),
            // self-signed (18, 19): nobody configured vouches for it.
            Some(2 | 18 | 19 | 20 | 21) => Chain::UnknownRoot,
            Some(_) => Chain::Broken,
            None => {
                return Err(ToolError(
                    text.lines().take(3).collect::<Vec<_>>().join(" / "),
                ))
            }
        })
    }

    /// Is `leaf` on a revocation list of its issuer among `crls` (DER)?
    /// Meaningful only for a chain that is [`Chain::Trusted`].
    pub fn revocation(
        &self,
        leaf: &[u8],
        intermediates: &[Vec<u8>],
        roots: &[Vec<u8>],
        crls: &[Vec<u8>],
    ) -> Result<Revocation, ToolError> {
        if crls.is_empty() || roots.is_empty() {
            return Ok(Revocation::Unknown);
        }
        let (ok, text) = self.verify(leaf, intermediates, roots, crls)?;
        if ok {
            return Ok(Revocation::NotRevoked);
        }
        Ok(match verify_error(&text) {
            Some(23) => Revocation::Revoked,
            _ => Revocation::Unknown,
        })
    }

    fn verify(
        &self,
        leaf: &[u8],
        intermediates: &[Vec<u8>],
        roots: &[Vec<u8>],
        crls: &[Vec<u8>],
    ) -> Result<(bool, String), ToolError> {
        let s = Scratch::new()?;
        s.file("leaf.pem", &pem("CERTIFICATE", &[leaf.to_vec()]))?;
        s.file("roots.pem", &pem("CERTIFICATE", roots))?;
        let mut args = vec![
            "verify",
            "-engine",
            "gost",
            "-no_check_time",
            "-CAfile",
            "roots.pem",
        ];
        if !intermediates.is_empty() {
            s.file("chain.pem", &pem("CERTIFICATE", intermediates))?;
            args.extend(["-untrusted", "chain.pem"]);
        }
        if !crls.is_empty() {
            s.file("crls.pem", &pem("X509 CRL", crls))?;
            args.extend(["-crl_check", "-CRLfile", "crls.pem"]);
        }
        args.push("leaf.pem");
        self.run(&s.dir, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_errors_are_read_from_their_lines_only() {
        let out = "CN = x\nerror 23 at 0 depth lookup: certificate revoked\nerror leaf.pem: verification failed\n";
        assert_eq!(verify_error(out), Some(23));
        assert_eq!(verify_error("error leaf.pem: verification failed"), None);
        assert_eq!(verify_error("leaf.pem: OK"), None);
        // A subject name that looks like an error line does not count.
        assert_eq!(
            verify_error("subject=CN = error 7 of mine\nerror 20 at 0 depth lookup: x"),
            Some(20)
        );
    }

    #[test]
    fn pem_wraps_at_64() {
        let p = String::from_utf8(pem("CERTIFICATE", &[vec![0u8; 100]])).unwrap();
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().unwrap(), &"-----END CERTIFICATE-----");
    }
}

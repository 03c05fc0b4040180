//! A test certification authority made with the `openssl` command: RSA, or
//! ГОСТ Р 34.10-2012 with the gost engine (Debian `libengine-gost-openssl`).
//! It issues signers' certificates (with a СНИЛС, past or present dates),
//! revokes them, publishes its CRL and signs documents as a signer would
//! (detached CMS, DER, with the signing time). Shared by the documents
//! crate's tests and the server's (`#[path]`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Which keys the authority and its signers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rsa,
    /// ГОСТ Р 34.10-2012: the CA 256-bit, signers 512-bit, Стрибог digests.
    Gost,
}

pub struct Pki {
    pub dir: PathBuf,
    pub alg: Alg,
    serial: u32,
}

/// Runs `openssl` in `dir`; panics with its message when it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A signer's certificate, as issued.
pub struct Signer {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub serial: String,
}

impl Pki {
    /// A root CA named `name` in `dir` (its files: `<name>.crt`, `<name>.key`).
    pub fn new(dir: &Path, name: &str, alg: Alg) -> Pki {
        let p = Pki {
            dir: dir.to_path_buf(),
            alg,
            serial: 0x1000,
        };
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
        let md = p.cert_md();
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = test\n[test]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\n\
                 serial = serial\ncrlnumber = crlnumber\ndefault_md = {md}\ndefault_crl_days = 30\npolicy = any\n\
                 unique_subject = no\ncopy_extensions = none\nemail_in_dn = no\n\
                 [any]\ncommonName = supplied\nsurname = optional\ngivenName = optional\nSNILS = optional\n\
                 [v3_ca]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\n\
                 [v3_signer]\nbasicConstraints = CA:false\nkeyUsage = critical,digitalSignature,nonRepudiation\n"
            ),
        )
        .unwrap();
        let key = format!("{name}.key");
        p.genkey(&key, true);
        let crt = format!("{name}.crt");
        let subj = format!("/CN={name}");
        let md_flag = format!("-{md}");
        let args = vec![
            "req",
            "-new",
            "-x509",
            "-key",
            &key,
            "-subj",
            &subj,
            "-days",
            "3650",
            "-config",
            "ca.cnf",
            "-extensions",
            "v3_ca",
            "-out",
            &crt,
            &md_flag,
        ];
        p.run(&args);
        std::fs::copy(dir.join(&crt), dir.join("ca.crt")).unwrap();
        std::fs::copy(dir.join(&key), dir.join("ca.key")).unwrap();
        p
    }

    /// Runs `openssl` in the authority's directory, with the gost engine for ГОСТ.
    fn run(&self, args: &[&str]) -> String {
        let mut args = args.to_vec();
        if self.alg == Alg::Gost {
            args.extend(["-engine", "gost"]);
        }
        openssl(&self.dir, &args)
    }

    fn cert_md(&self) -> &'static str {
        match self.alg {
            Alg::Rsa => "sha256",
            Alg::Gost => "md_gost12_256",
        }
    }

    fn genkey(&self, out: &str, ca: bool) {
        match self.alg {
            Alg::Rsa => {
                openssl(
                    &self.dir,
                    &[
                        "genpkey",
                        "-algorithm",
                        "RSA",
                        "-pkeyopt",
                        "rsa_keygen_bits:2048",
                        "-out",
                        out,
                    ],
                );
            }
            Alg::Gost => {
                let alg = if ca { "gost2012_256" } else { "gost2012_512" };
                openssl(
                    &self.dir,
                    &[
                        "genpkey",
                        "-engine",
                        "gost",
                        "-algorithm",
                        alg,
                        "-pkeyopt",
                        "paramset:A",
                        "-out",
                        out,
                    ],
                );
            }
        }
    }

    /// The CA's certificate (PEM).
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir.join("ca.crt")).unwrap()
    }

    /// Issues a signer's certificate for `cn` with a surname, given names and
    /// a СНИЛС, valid from `start` to `end` (`YYYYMMDDHHMMSSZ`), or for a
    /// year from now.
    pub fn issue(
        &mut self,
        cn: &str,
        surname: &str,
        given: &str,
        snils: &str,
        dates: Option<(&str, &str)>,
    ) -> Signer {
        self.serial += 1;
        let tag = format!("s{:x}", self.serial);
        let key = format!("{tag}.key");
        self.genkey(&key, false);
        let csr = format!("{tag}.csr");
        let subj = format!("/CN={cn}/SN={surname}/GN={given}/SNILS={snils}");
        let args = vec![
            "req", "-new", "-key", &key, "-subj", &subj, "-utf8", "-out", &csr,
        ];
        self.run(&args);
        let crt = format!("{tag}.crt");
        let serial = format!("{:X}", self.serial);
        std::fs::write(self.dir.join("serial"), format!("{serial}\n")).unwrap();
        let mut args = vec![
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-keyfile",
            "ca.key",
            "-cert",
            "ca.crt",
            "-in",
            &csr,
            "-out",
            &crt,
            "-extensions",
            "v3_signer",
            "-notext",
            "-utf8",
        ];
        let days;
        match dates {
            Some((start, end)) => args.extend(["-startdate", start, "-enddate", end]),
            None => {
                days = "365".to_string();
                args.extend(["-days", &days]);
            }
        }
        self.run(&args);
        Signer {
            cert: self.dir.join(&crt),
            key: self.dir.join(&key),
            serial,
        }
    }

    /// A self-signed certificate with the same subject fields: nobody vouches for it.
    pub fn self_signed(&mut self, cn: &str, surname: &str, given: &str, snils: &str) -> Signer {
        self.serial += 1;
        let tag = format!("self{:x}", self.serial);
        let key = format!("{tag}.key");
        self.genkey(&key, false);
        let crt = format!("{tag}.crt");
        let subj = format!("/CN={cn}/SN={surname}/GN={given}/SNILS={snils}");
        let args = vec![
            "req", "-new", "-x509", "-key", &key, "-subj", &subj, "-utf8", "-days", "365", "-out",
            &crt,
        ];
        self.run(&args);
        Signer {
            cert: self.dir.join(&crt),
            key: self.dir.join(&key),
            serial: String::new(),
        }
    }

    /// Revokes a certificate it issued.
    pub fn revoke(&self, s: &Signer) {
        let cert = s.cert.to_string_lossy().into_owned();
        let args = vec![
            "ca", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt",
            "-revoke", &cert,
        ];
        self.run(&args);
    }

    /// Its current revocation list (PEM).
    pub fn crl(&self) -> String {
        let args = vec![
            "ca", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt",
            "-gencrl", "-out", "ca.crl",
        ];
        self.run(&args);
        std::fs::read_to_string(self.dir.join("ca.crl")).unwrap()
    }

    /// A detached CMS signature (DER) of `doc` by `s`, with the signing time.
    pub fn sign(&self, s: &Signer, doc: &[u8]) -> Vec<u8> {
        self.sign_with(s, doc, &[])
    }

    /// The same with more `openssl cms` options (`-noattr`: no signing time).
    pub fn sign_with(&self, s: &Signer, doc: &[u8], extra: &[&str]) -> Vec<u8> {
        let doc_path = self.dir.join("doc.bin");
        std::fs::write(&doc_path, doc).unwrap();
        let cert = s.cert.to_string_lossy().into_owned();
        let key = s.key.to_string_lossy().into_owned();
        let md = match self.alg {
            Alg::Rsa => "sha256",
            Alg::Gost => "md_gost12_512",
        };
        let mut args = vec![
            "cms", "-sign", "-binary", "-in", "doc.bin", "-signer", &cert, "-inkey", &key, "-md",
            md, "-outform", "DER", "-out", "doc.p7s",
        ];
        args.extend(extra);
        self.run(&args);
        std::fs::read(self.dir.join("doc.p7s")).unwrap()
    }
}

//! Signers' own signatures (CMS, УКЭП) as the request page and `/verify`
//! show them: who, over what, and each verdict apart.

use super::i18n::tr;

/// A signer's signature on the page: who, what, valid, and the separate
/// verdicts (text, holds).
pub(crate) type CmsLine = (String, String, bool, Vec<(String, bool)>);

/// The signers' own signatures as the request page and `/verify` show them.
pub(crate) fn cms_lines(
    lang: rtms_domain::Lang,
    cms: &[rtms_service::documents::CmsSignatureView],
) -> Vec<CmsLine> {
    cms.iter()
        .map(|c| {
            let checked = c.status == "valid";
            let summary = tr(
                lang,
                match c.status.as_str() {
                    "valid" => "cms-valid",
                    "untrusted" => "cms-not-valid",
                    _ => "cms-unsupported",
                },
            );
            let target = tr(
                lang,
                if c.target == "semd" {
                    "cms-target-semd"
                } else {
                    "cms-target-pdf"
                },
            );
            let what = format!(
                "{target} \u{b7} {} \u{b7} {} {} {} \u{b7} {} {} \u{b7} {summary}",
                algorithm_label(lang, &c.algorithm),
                tr(lang, "cms-certificate"),
                tr(lang, "number-sign"),
                c.serial,
                tr(lang, "cms-valid-until"),
                c.not_after
            );
            (c.signer.clone(), what, checked, cms_verdicts(lang, c))
        })
        .collect()
}

/// A signature's algorithm as stored (`ГОСТ Р 34.10-2012 (512)`, `RSA/SHA-256`),
/// with the standard's name in the reader's language.
fn algorithm_label(lang: rtms_domain::Lang, algorithm: &str) -> String {
    match lang {
        rtms_domain::Lang::En => {
            algorithm.replace("\u{413}\u{41e}\u{421}\u{422} \u{420}", "GOST R")
        }
        _ => algorithm.to_string(),
    }
}

/// The separate verdicts of a signer's signature, each with whether it holds.
fn cms_verdicts(
    lang: rtms_domain::Lang,
    c: &rtms_service::documents::CmsSignatureView,
) -> Vec<(String, bool)> {
    let v = |key: String, ok: bool| (tr(lang, &key), ok);
    vec![
        v(
            format!("cms-v-integrity-{}", c.integrity),
            c.integrity == "ok",
        ),
        v(format!("cms-v-trust-{}", c.trust), c.trust == "trusted"),
        v(
            format!("cms-v-time-{}", c.time_validity),
            c.time_validity == "valid_at_signing",
        ),
        v(
            format!("cms-v-revocation-{}", c.revocation),
            c.revocation == "not_revoked",
        ),
        v(
            format!("cms-v-signer-{}", c.signer_match),
            c.signer_match == "matches",
        ),
    ]
}

//! СЭМД «Протокол консультации» (CDA) Редакция 7: НСИ 1.2.643.5.1.13.13.11.1520
//! code 290, templateId 1.2.643.5.1.13.13.15.13.7 — the structured electronic
//! medical document a region's МИС registers in РЭМД (ЕГИСЗ).
//!
//! One readable mapping: [`SemdDoc`] holds the consultation as the document
//! needs it (every code already chosen from its НСИ dictionary by the caller,
//! which also decides what is unknown), [`render`] writes the XML. The layout
//! follows the Ministry's implementation guide and passes the official XSD and
//! Schematron v1.7 (`reference/semd-290/`, checked by `scripts/semd-validate.py`
//! in the tests). What the product does not know is written with the
//! `nullFlavor` the Schematron accepts there; nothing is invented.
//!
//! Notable rules of this edition, which shape the data:
//! * one `author` (the consultant who writes it); there is no legal
//!   authenticator — the signers are named by their signatures at registration.
//!   A consilium's members are `serviceEvent/performer[@typeCode='PPRF']`;
//! * sections have no narrative text, only coded entries; line breaks in the
//!   texts are kept as character references so the template's indentation can
//!   never leak into a value;
//! * exactly one established diagnosis in the DGN section;
//! * a telemedicine consultation is «Место проведения» = НСИ 1008 code 8
//!   «Дистанционно».

use std::fmt::Write;

/// A code from an НСИ dictionary: `(OID, name, version)` of the dictionary.
type CodeSystem = (&'static str, &'static str, &'static str);

/// The dictionaries this document uses, with the versions the official
/// example and guide cite (the Schematron requires a non-empty version; РЭМД
/// checks codes against НСИ).
pub mod nsi {
    use super::CodeSystem;
    pub const DOC_KINDS: CodeSystem = (
        "1.2.643.5.1.13.13.11.1520",
        "Электронные медицинские документы",
        "12.66",
    );
    pub const SEMD_KINDS: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.1079",
        "Виды структурированных электронных медицинских документов",
        "2.3",
    );
    pub const CONFIDENTIALITY: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.285",
        "Уровень конфиденциальности медицинского документа",
        "1.2",
    );
    pub const IDENTITY_DOCS: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.48",
        "Документы, удостоверяющие личность",
        "7.2",
    );
    pub const POLICY_KINDS: CodeSystem = (
        "1.2.643.5.1.13.13.11.1035",
        "Виды полиса обязательного медицинского страхования",
        "1.3",
    );
    pub const REGIONS: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.206",
        "Субъекты Российской Федерации",
        "6.5",
    );
    pub const SEX: CodeSystem = ("1.2.643.5.1.13.13.11.1040", "Пол пациента", "2.1");
    pub const POSITIONS: CodeSystem = (
        "1.2.643.5.1.13.13.11.1002",
        "Должности медицинских и фармацевтических работников",
        "9.12",
    );
    pub const MEDICAL_DOCS: CodeSystem = (
        "1.2.643.5.1.13.13.11.1522",
        "Виды медицинской документации",
        "9.1",
    );
    pub const EVENTS: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.726",
        "Типы документированных событий",
        "3.50",
    );
    pub const FORMS_OF_CARE: CodeSystem = (
        "1.2.643.5.1.13.13.11.1551",
        "Формы оказания медицинской помощи",
        "1.1",
    );
    pub const CARD_KINDS: CodeSystem =
        ("1.2.643.5.1.13.13.99.2.723", "Типы медицинских карт", "1.1");
    pub const SECTIONS: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.197",
        "Секции электронных медицинских документов",
        "4.38",
    );
    pub const FIELDS: CodeSystem = (
        "1.2.643.5.1.13.13.99.2.166",
        "Кодируемые поля CDA документов",
        "5.69",
    );
    pub const VISIT_KINDS: CodeSystem = (
        "1.2.643.5.1.13.13.11.1007",
        "Вид случая госпитализации или обращения (первичный, повторный)",
        "2.1",
    );
    pub const PLACES: CodeSystem = (
        "1.2.643.5.1.13.13.11.1008",
        "Место оказания медицинской помощи",
        "5.1",
    );
    pub const CONDITIONS: CodeSystem = (
        "1.2.643.5.1.13.13.11.1006",
        "Степень тяжести состояния пациента",
        "2.4",
    );
    pub const NOSOLOGY: CodeSystem = (
        "1.2.643.5.1.13.13.11.1077",
        "Виды нозологических единиц диагноза",
        "2.2",
    );
    pub const ICD10: CodeSystem = (
        "1.2.643.5.1.13.13.11.1005",
        "Международная статистическая классификация болезней и проблем, связанных со здоровьем (10-й пересмотр)",
        "2.27",
    );
}

/// A code with its display name.
#[derive(Debug, Clone, PartialEq)]
pub struct Coded {
    pub code: String,
    pub name: String,
}

impl Coded {
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        Coded {
            code: code.into(),
            name: name.into(),
        }
    }
}

/// A person's name as the document splits it.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub family: String,
    pub given: String,
    pub patronymic: String,
}

/// An organization: its ФРМО OID, name, address as text and phone.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub oid: String,
    pub name: String,
    /// Empty: no address is written (where the document allows that).
    pub address: String,
    pub phone: String,
}

/// A member of staff who took part.
#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    /// The user's id in this system (under `<mis root>.70`).
    pub staff_id: String,
    pub snils: Option<String>,
    /// НСИ 1002.
    pub position: Coded,
    pub name: Name,
}

/// A patient's identity document.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityDoc {
    /// НСИ 48.
    pub kind: Coded,
    pub series: String,
    pub number: String,
    pub issuer: String,
    /// `YYYYMMDD`.
    pub issued: String,
}

/// The patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    /// The request's patient under `<mis root>.10`.
    pub id: String,
    pub name: Name,
    /// НСИ 1040; `None` when unknown.
    pub sex: Option<Coded>,
    /// `YYYYMMDD`; `None` when unknown.
    pub birth_date: Option<String>,
    pub snils: Option<String>,
    pub identity_doc: Option<IdentityDoc>,
    /// The ОМС policy: kind (НСИ 1035) and number.
    pub policy: Option<(Coded, String)>,
}

/// The referral: the request as the referring doctor sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    /// The request's number (its id in this system).
    pub number: String,
    /// `YYYYMMDDHHMM+ZZZZ`.
    pub created: String,
    /// The referring organization, with the referring doctor when their
    /// position code is known (the participant needs it).
    pub organization: Option<Org>,
    pub doctor: Option<Staff>,
    /// The referral's diagnosis and question, as a note on the referral.
    pub note: String,
}

/// Everything a «Протокол консультации» prints.
#[derive(Debug, Clone, PartialEq)]
pub struct SemdDoc {
    /// `<custodian OID>.100.<МИС number>.<instance number>`; ids end in
    /// `.51` (document), `.50` (set), `.10` (patient), `.70` (staff),
    /// `.15` (case), `.52` (parts of the document).
    pub mis_root: String,
    /// The referring organization's root (same МИС, its OID), when it has one.
    pub referring_root: Option<String>,
    pub document_id: String,
    /// The first version's document id: every version shares it.
    pub set_id: String,
    pub version: i32,
    /// Signed at, `YYYYMMDDHHMM+ZZZZ`.
    pub created: String,
    /// When the consultation began (the request reached the consultant).
    pub started: String,
    /// НСИ 206: the region of the organizations' addresses.
    pub region: Coded,
    pub patient: Patient,
    /// The organization that gives the consultation and keeps the document.
    pub custodian: Org,
    /// The consultants; the first writes the document (the author).
    pub consultants: Vec<Staff>,
    pub referral: Referral,
    /// НСИ 1551.
    pub form_of_care: Option<Coded>,
    /// НСИ 1007: first or repeated.
    pub visit_kind: Coded,
    /// НСИ 1006.
    pub condition: Coded,
    pub complaints: String,
    pub anamnesis: String,
    /// МКБ-10 code and name (НСИ 1005), and the consultant's wording.
    pub diagnosis: Coded,
    pub diagnosis_wording: String,
    pub conclusion: String,
    pub recommendations: String,
}

/// Element text: characters XML 1.0 forbids dropped, `& < >` escaped, line
/// breaks and tabs as character references.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// An attribute value (written in double quotes).
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Lines of XML with indentation.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }
    fn open(&mut self, s: &str) {
        self.line(s);
        self.depth += 1;
    }
    fn close(&mut self, s: &str) {
        self.depth -= 1;
        self.line(s);
    }
    /// `<tag code=… codeSystem=… …/>` (extra attributes go first).
    fn coded(&mut self, tag: &str, extra: &str, cs: CodeSystem, code: &str, name: &str) {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<{tag}{extra} code="{}" codeSystem="{}" codeSystemName="{}" codeSystemVersion="{}" displayName="{}"/>"#,
            attr(code),
            cs.0,
            cs.1,
            cs.2,
            attr(name)
        );
        self.line(&s);
    }
    fn text(&mut self, tag: &str, value: &str) {
        self.line(&format!("<{tag}>{}</{tag}>", esc(value)));
    }
    fn text_or_ni(&mut self, tag: &str, value: &str) {
        if value.trim().is_empty() {
            self.line(&format!(r#"<{tag} nullFlavor="NI"/>"#));
        } else {
            self.text(tag, value.trim());
        }
    }
}

/// The document's XML, UTF-8.
pub fn render(d: &SemdDoc) -> String {
    let mut x = Xml {
        out: String::with_capacity(16 * 1024),
        depth: 0,
    };
    x.line(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.open(r#"<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:identity="urn:hl7-ru:identity" xmlns:address="urn:hl7-ru:address" xmlns:medService="urn:hl7-ru:medService" xmlns:fias="urn:hl7-ru:fias">"#);
    x.line(r#"<realmCode code="RU"/>"#);
    x.line(r#"<typeId root="2.16.840.1.113883.1.3" extension="POCD_MT000040"/>"#);
    x.line(r#"<templateId root="1.2.643.5.1.13.13.15.13.7"/>"#);
    x.line(&format!(
        r#"<id root="{}.51" extension="{}"/>"#,
        d.mis_root,
        attr(&d.document_id)
    ));
    let k = nsi::DOC_KINDS;
    x.open(&format!(
        r#"<code code="290" codeSystem="{}" codeSystemName="{}" codeSystemVersion="{}" displayName="Протокол консультации (CDA) Редакция 7">"#,
        k.0, k.1, k.2
    ));
    x.coded(
        "translation",
        "",
        nsi::SEMD_KINDS,
        "13",
        "Протокол консультации",
    );
    x.close("</code>");
    x.line("<title>Протокол консультации</title>");
    x.line(&format!(r#"<effectiveTime value="{}"/>"#, d.created));
    x.coded(
        "confidentialityCode",
        "",
        nsi::CONFIDENTIALITY,
        "N",
        "Обычный",
    );
    x.line(r#"<languageCode code="ru-RU"/>"#);
    x.line(&format!(
        r#"<setId root="{}.50" extension="{}"/>"#,
        d.mis_root,
        attr(&d.set_id)
    ));
    x.line(&format!(r#"<versionNumber value="{}"/>"#, d.version));
    record_target(&mut x, d);
    author(&mut x, d);
    custodian(&mut x, d);
    x.open("<informationRecipient>");
    x.open("<intendedRecipient>");
    x.open("<receivedOrganization>");
    x.line(r#"<id root="1.2.643.5.1.13"/>"#);
    x.line("<name>Министерство здравоохранения Российской Федерации</name>");
    x.close("</receivedOrganization>");
    x.close("</intendedRecipient>");
    x.close("</informationRecipient>");
    referrer(&mut x, d);
    in_fulfillment_of(&mut x, d);
    documentation_of(&mut x, d);
    component_of(&mut x, d);
    body(&mut x, d);
    x.close("</ClinicalDocument>");
    x.out
}

fn name(x: &mut Xml, n: &Name, unknown_allowed: bool) {
    x.open("<name>");
    for (tag, v) in [("family", &n.family), ("given", &n.given)] {
        if v.trim().is_empty() && unknown_allowed {
            x.line(&format!(r#"<{tag} nullFlavor="UNK"/>"#));
        } else {
            x.text(tag, v.trim());
        }
    }
    if !n.patronymic.trim().is_empty() {
        x.text("identity:Patronymic", n.patronymic.trim());
    }
    x.close("</name>");
}

fn org_addr(x: &mut Xml, o: &Org, region: &Coded) {
    x.open("<addr>");
    x.text("streetAddressLine", o.address.trim());
    x.coded(
        "address:stateCode",
        "",
        nsi::REGIONS,
        &region.code,
        &region.name,
    );
    x.line(r#"<postalCode nullFlavor="NI"/>"#);
    x.line(r#"<fias:Address nullFlavor="NI"/>"#);
    x.close("</addr>");
}

fn telecom(x: &mut Xml, o: &Org) {
    let phone: String = o
        .phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    if !phone.is_empty() {
        x.line(&format!(
            r#"<telecom use="WP" value="tel:{}"/>"#,
            attr(&phone)
        ));
    }
}

/// An organization's id, name, phone and (when known) address.
fn org_body(x: &mut Xml, o: &Org, region: &Coded) {
    x.line(&format!(r#"<id root="{}"/>"#, attr(&o.oid)));
    x.text("name", o.name.trim());
    telecom(x, o);
    if !o.address.trim().is_empty() {
        org_addr(x, o, region);
    }
}

fn staff_ids(x: &mut Xml, root: &str, s: &Staff) {
    x.line(&format!(
        r#"<id root="{root}.70" extension="{}"/>"#,
        attr(&s.staff_id)
    ));
}

fn position(x: &mut Xml, s: &Staff) {
    x.coded(
        "code",
        "",
        nsi::POSITIONS,
        &s.position.code,
        &s.position.name,
    );
}

fn record_target(x: &mut Xml, d: &SemdDoc) {
    let p = &d.patient;
    x.open("<recordTarget>");
    x.open("<patientRole>");
    x.line(&format!(
        r#"<id root="{}.10" extension="{}"/>"#,
        d.mis_root,
        attr(&p.id)
    ));
    match &p.snils {
        Some(s) => x.line(&format!(
            r#"<id root="1.2.643.100.3" extension="{}"/>"#,
            attr(s)
        )),
        None => x.line(r#"<id nullFlavor="NI"/>"#),
    }
    match &p.identity_doc {
        Some(doc) => {
            x.open("<identity:IdentityDoc>");
            x.coded(
                "identity:IdentityCardType",
                "",
                nsi::IDENTITY_DOCS,
                &doc.kind.code,
                &doc.kind.name,
            );
            x.text_or_ni("identity:Series", &doc.series);
            x.text("identity:Number", doc.number.trim());
            x.text_or_ni("identity:IssueOrgName", &doc.issuer);
            x.line(r#"<identity:IssueOrgCode nullFlavor="NI"/>"#);
            x.line(&format!(r#"<identity:IssueDate value="{}"/>"#, doc.issued));
            x.close("</identity:IdentityDoc>");
        }
        None => x.line(r#"<identity:IdentityDoc nullFlavor="NI"/>"#),
    }
    match &p.policy {
        Some((kind, number)) => {
            x.open("<identity:InsurancePolicy>");
            x.coded(
                "identity:InsurancePolicyType",
                "",
                nsi::POLICY_KINDS,
                &kind.code,
                &kind.name,
            );
            x.text("identity:Number", number);
            x.close("</identity:InsurancePolicy>");
        }
        None => x.line(r#"<identity:InsurancePolicy nullFlavor="NI"/>"#),
    }
    // The patient's address would need its kind (НСИ 1504) and region, which
    // the request does not hold: written as not given.
    x.line(r#"<addr nullFlavor="NI"/>"#);
    x.open("<patient>");
    name(x, &p.name, true);
    match &p.sex {
        Some(s) => x.coded("administrativeGenderCode", "", nsi::SEX, &s.code, &s.name),
        None => x.line(r#"<administrativeGenderCode nullFlavor="UNK"/>"#),
    }
    match &p.birth_date {
        Some(b) => x.line(&format!(r#"<birthTime value="{b}"/>"#)),
        None => x.line(r#"<birthTime nullFlavor="UNK"/>"#),
    }
    x.close("</patient>");
    x.open("<providerOrganization>");
    x.line(&format!(r#"<id root="{}"/>"#, attr(&d.custodian.oid)));
    x.line(r#"<identity:Props nullFlavor="NI"/>"#);
    x.text("name", d.custodian.name.trim());
    telecom(x, &d.custodian);
    org_addr(x, &d.custodian, &d.region);
    x.close("</providerOrganization>");
    x.close("</patientRole>");
    x.close("</recordTarget>");
}

fn author(x: &mut Xml, d: &SemdDoc) {
    let a = &d.consultants[0];
    x.open("<author>");
    x.line(r#"<time nullFlavor="NI"/>"#);
    x.open("<assignedAuthor>");
    staff_ids(x, &d.mis_root, a);
    x.line(&format!(
        r#"<id root="1.2.643.100.3" extension="{}"/>"#,
        attr(a.snils.as_deref().unwrap_or_default())
    ));
    position(x, a);
    x.open("<assignedPerson>");
    name(x, &a.name, false);
    x.close("</assignedPerson>");
    x.open(r#"<representedOrganization classCode="ORG">"#);
    org_body(x, &d.custodian, &d.region);
    x.close("</representedOrganization>");
    x.close("</assignedAuthor>");
    x.close("</author>");
}

fn custodian(x: &mut Xml, d: &SemdDoc) {
    x.open("<custodian>");
    x.open("<assignedCustodian>");
    x.open(r#"<representedCustodianOrganization classCode="ORG">"#);
    x.line(&format!(r#"<id root="{}"/>"#, attr(&d.custodian.oid)));
    x.text("name", d.custodian.name.trim());
    telecom(x, &d.custodian);
    org_addr(x, &d.custodian, &d.region);
    x.close("</representedCustodianOrganization>");
    x.close("</assignedCustodian>");
    x.close("</custodian>");
}

/// The referring doctor, when their position is known (the participant
/// requires it).
fn referrer(x: &mut Xml, d: &SemdDoc) {
    let Some(r) = &d.referral.doctor else {
        return;
    };
    x.open(r#"<participant typeCode="REF">"#);
    x.open(r#"<associatedEntity classCode="PROV">"#);
    match &d.referring_root {
        Some(root) => staff_ids(x, root, r),
        None => x.line(r#"<id nullFlavor="NI"/>"#),
    }
    match &r.snils {
        Some(s) => x.line(&format!(
            r#"<id root="1.2.643.100.3" extension="{}"/>"#,
            attr(s)
        )),
        None => x.line(r#"<id nullFlavor="NI"/>"#),
    }
    position(x, r);
    x.open("<associatedPerson>");
    name(x, &r.name, false);
    x.close("</associatedPerson>");
    if let Some(o) = &d.referral.organization {
        x.open("<scopingOrganization>");
        org_body(x, o, &d.region);
        x.close("</scopingOrganization>");
    }
    x.close("</associatedEntity>");
    x.close("</participant>");
}

const REFERRAL_KIND: (&str, &str) = (
    "3",
    "Направление на госпитализацию, восстановительное лечение, обследование, консультацию",
);

fn referral_id(x: &mut Xml, d: &SemdDoc) {
    match &d.referring_root {
        Some(root) => x.line(&format!(
            r#"<id root="{root}.51" extension="{}"/>"#,
            attr(&d.referral.number)
        )),
        None => x.line(r#"<id nullFlavor="NI"/>"#),
    }
    // The referral has no РЭМД registration number.
    x.line(r#"<id nullFlavor="NI"/>"#);
}

fn in_fulfillment_of(x: &mut Xml, d: &SemdDoc) {
    x.open("<inFulfillmentOf>");
    x.open("<order>");
    referral_id(x, d);
    x.coded(
        "code",
        "",
        nsi::MEDICAL_DOCS,
        REFERRAL_KIND.0,
        REFERRAL_KIND.1,
    );
    x.close("</order>");
    x.close("</inFulfillmentOf>");
}

fn documentation_of(x: &mut Xml, d: &SemdDoc) {
    x.open("<documentationOf>");
    x.open("<serviceEvent>");
    x.coded("code", "", nsi::EVENTS, "1", "Консультация");
    x.open("<effectiveTime>");
    x.line(&format!(r#"<low value="{}"/>"#, d.started));
    x.line(&format!(r#"<high value="{}"/>"#, d.created));
    x.close("</effectiveTime>");
    if let Some(f) = &d.form_of_care {
        x.coded(
            "medService:serviceForm",
            "",
            nsi::FORMS_OF_CARE,
            &f.code,
            &f.name,
        );
    }
    // A consilium: everyone who took part is a performer.
    if d.consultants.len() > 1 {
        for c in &d.consultants {
            x.open(r#"<performer typeCode="PPRF">"#);
            x.open("<assignedEntity>");
            staff_ids(x, &d.mis_root, c);
            position(x, c);
            x.open("<assignedPerson>");
            name(x, &c.name, false);
            x.close("</assignedPerson>");
            x.close("</assignedEntity>");
            x.close("</performer>");
        }
    }
    x.close("</serviceEvent>");
    x.close("</documentationOf>");
}

fn component_of(x: &mut Xml, d: &SemdDoc) {
    x.open("<componentOf>");
    x.open("<encompassingEncounter>");
    x.line(&format!(
        r#"<id root="{}.15" extension="{}"/>"#,
        d.mis_root,
        attr(&d.referral.number)
    ));
    // The consultation is an outpatient case of the consulting organization;
    // its record is the request, so the card number is the request's number.
    x.coded(
        "code",
        "",
        nsi::CARD_KINDS,
        "1",
        "Амбулаторная медицинская карта",
    );
    x.text("medService:DocNumber", &d.referral.number);
    x.open("<effectiveTime>");
    x.line(&format!(r#"<low value="{}"/>"#, d.referral.created));
    x.line(&format!(r#"<high value="{}"/>"#, d.created));
    x.close("</effectiveTime>");
    x.close("</encompassingEncounter>");
    x.close("</componentOf>");
}

fn section_open(x: &mut Xml, code: &str, name: &str) {
    x.open("<component>");
    x.open("<section>");
    x.coded("code", "", nsi::SECTIONS, code, name);
}

fn section_close(x: &mut Xml) {
    x.close("</section>");
    x.close("</component>");
}

/// An entry of one coded field (НСИ 166) with a coded value.
fn field_cd(x: &mut Xml, field: (&str, &str), cs: CodeSystem, value: &Coded) {
    x.open("<entry>");
    x.open(r#"<observation classCode="OBS" moodCode="EVN">"#);
    x.coded("code", "", nsi::FIELDS, field.0, field.1);
    x.coded("value", r#" xsi:type="CD""#, cs, &value.code, &value.name);
    x.close("</observation>");
    x.close("</entry>");
}

/// An entry of one coded field (НСИ 166) with a text value.
fn field_st(x: &mut Xml, field: (&str, &str), text: &str) {
    x.open("<entry>");
    x.open(r#"<observation classCode="OBS" moodCode="EVN">"#);
    x.coded("code", "", nsi::FIELDS, field.0, field.1);
    x.line(&format!(
        r#"<value xsi:type="ST">{}</value>"#,
        esc(text.trim())
    ));
    x.close("</observation>");
    x.close("</entry>");
}

fn body(x: &mut Xml, d: &SemdDoc) {
    x.open("<component>");
    x.open("<structuredBody>");

    section_open(x, "DOCINFO", "Сведения о документе");
    field_cd(x, ("800", "Обращение"), nsi::VISIT_KINDS, &d.visit_kind);
    field_cd(
        x,
        ("801", "Место проведения"),
        nsi::PLACES,
        &Coded::new("8", "Дистанционно"),
    );
    field_cd(
        x,
        ("804", "Состояние пациента"),
        nsi::CONDITIONS,
        &d.condition,
    );
    field_st(x, ("806", "Заключение консультации"), &d.conclusion);
    section_close(x);

    if !d.complaints.trim().is_empty() {
        section_open(x, "COMPLNTS", "Жалобы");
        field_st(x, ("835", "Жалобы пациента"), &d.complaints);
        section_close(x);
    }
    if !d.anamnesis.trim().is_empty() {
        section_open(x, "ANAM", "Анамнез заболевания");
        field_st(x, ("7006", "Текстовое описание"), &d.anamnesis);
        section_close(x);
    }

    section_open(x, "DGN", "Диагнозы");
    x.open("<entry>");
    x.open(r#"<observation classCode="OBS" moodCode="EVN">"#);
    x.line(&format!(
        r#"<id root="{}.52" extension="DGN1"/>"#,
        d.mis_root
    ));
    x.coded("code", "", nsi::FIELDS, "838", "Диагноз");
    x.line(&format!(r#"<effectiveTime value="{}"/>"#, d.created));
    x.open(r#"<entryRelationship typeCode="COMP">"#);
    x.open(r#"<observation classCode="OBS" moodCode="EVN">"#);
    x.coded("code", "", nsi::NOSOLOGY, "1", "Основное заболевание");
    if !d.diagnosis_wording.trim().is_empty() {
        x.text("text", d.diagnosis_wording.trim());
    }
    x.coded(
        "value",
        r#" xsi:type="CD""#,
        nsi::ICD10,
        &d.diagnosis.code,
        &d.diagnosis.name,
    );
    x.close("</observation>");
    x.close("</entryRelationship>");
    x.close("</observation>");
    x.close("</entry>");
    section_close(x);

    if !d.recommendations.trim().is_empty() {
        section_open(x, "REGIME", "Режим и рекомендации");
        field_st(x, ("7006", "Текстовое описание"), &d.recommendations);
        section_close(x);
    }

    section_open(x, "LINKDOCS", "Связанные документы");
    x.open("<entry>");
    x.open(r#"<act classCode="ACT" moodCode="EVN">"#);
    x.line(&format!(
        r#"<id root="{}.52" extension="REQ1"/>"#,
        d.mis_root
    ));
    x.coded(
        "code",
        "",
        nsi::MEDICAL_DOCS,
        REFERRAL_KIND.0,
        REFERRAL_KIND.1,
    );
    if !d.referral.note.trim().is_empty() {
        x.text("text", d.referral.note.trim());
    }
    x.line(&format!(
        r#"<effectiveTime value="{}"/>"#,
        d.referral.created
    ));
    x.open(r#"<entryRelationship typeCode="COMP">"#);
    x.open(r#"<observation classCode="OBS" moodCode="EVN">"#);
    x.coded("code", "", nsi::FIELDS, "11003", "Номер документа");
    x.line(&format!(
        r#"<value xsi:type="ST">{}</value>"#,
        esc(&d.referral.number)
    ));
    x.close("</observation>");
    x.close("</entryRelationship>");
    x.open(r#"<reference typeCode="REFR">"#);
    x.open(r#"<externalDocument classCode="DOCCLIN" moodCode="EVN">"#);
    referral_id(x, d);
    x.close("</externalDocument>");
    x.close("</reference>");
    x.close("</act>");
    x.close("</entry>");
    section_close(x);

    x.close("</structuredBody>");
    x.close("</component>");
}

/// `YYYYMMDDHHMM+ZZZZ` for a time in a given offset (the Schematron wants
/// the zone, with a plus sign for Russian zones).
pub fn cda_time(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    t.format("%Y%m%d%H%M%z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_kept_on_one_line() {
        assert_eq!(
            esc("a < b & \"c\"\r\nd\te\u{1}"),
            "a &lt; b &amp; \"c\"&#10;d&#9;e"
        );
        assert_eq!(attr("x\"y\n"), "x&quot;y ");
    }
}

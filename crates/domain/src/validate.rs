//! Parse-don't-validate newtypes and field-level validation errors.
//!
//! Every error carries the field it belongs to and a stable code; the message
//! exists in Russian and English so that a form can show it next to the field.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    /// Picks the first supported language of an `Accept-Language` header value;
    /// Russian when none matches.
    pub fn from_accept_language(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("ru") {
                return Lang::Ru;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Ru
    }
}

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `patient.snils`.
    pub field: String,
    /// Stable machine code, e.g. `snils_checksum`.
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        FieldError {
            field: field.into(),
            code,
        }
    }

    pub fn message(&self, lang: Lang) -> &'static str {
        message(self.code, lang)
    }
}

/// Collects field errors while a whole input is checked, so that the user sees
/// every problem at once rather than one per attempt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validation {
    pub errors: Vec<FieldError>,
}

impl Validation {
    pub fn push(&mut self, field: impl Into<String>, code: &'static str) {
        self.errors.push(FieldError::new(field, code));
    }

    /// Records the error of a parse result, if any, and passes the value on.
    pub fn check<T>(&mut self, field: &str, result: Result<T, &'static str>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(code) => {
                self.push(field, code);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// The text of an error code in a language. Unknown codes fall back to a generic text.
pub fn message(code: &str, lang: Lang) -> &'static str {
    let (ru, en) = match code {
        "required" => ("Обязательное поле", "This field is required"),
        "too_long" => ("Слишком длинное значение", "The value is too long"),
        "file_type" => (
            "Такой файл не принимается. Можно загрузить PDF, JPEG, PNG, DICOM (или ZIP с DICOM), MP4, DOCX или XLSX",
            "This kind of file is not accepted. Upload PDF, JPEG, PNG, DICOM (or a ZIP of DICOM), MP4, DOCX or XLSX",
        ),
        "file_too_large" => (
            "Файл больше допустимого размера",
            "The file is larger than the allowed size",
        ),
        "file_empty" => ("Файл пустой", "The file is empty"),
        "file_active_content" => (
            "Такие файлы не принимаются: программы, скрипты, веб-страницы, SVG и документы с макросами (.exe, .js, .hta, .html, .svg, .docm, .xlsm…) могут нести вредоносный код. Сохраните документ как PDF",
            "Files like this are not accepted: programs, scripts, web pages, SVG and documents with macros (.exe, .js, .hta, .html, .svg, .docm, .xlsm…) can carry harmful code. Save the document as PDF",
        ),
        "file_extension_mismatch" => (
            "Расширение в имени файла не совпадает с его содержимым: переименуйте файл по его настоящему типу (PDF, JPEG, PNG, DICOM, ZIP, MP4, DOCX, XLSX)",
            "The file name's extension does not match its content: rename the file after its real type (PDF, JPEG, PNG, DICOM, ZIP, MP4, DOCX, XLSX)",
        ),
        "verify_too_large" => (
            "Файл слишком большой для проверки (не больше 20 МБ): заключение, выданное системой, намного меньше — проверьте, тот ли файл выбран",
            "The file is too large to verify (20 MB at most): a conclusion issued by the system is much smaller; check that you chose the right file",
        ),
        "file_macro" => (
            "Документ содержит макросы или элементы ActiveX и не принимается: сохраните его без макросов (DOCX, XLSX) или как PDF",
            "The document holds macros or ActiveX controls and is not accepted: save it without macros (DOCX, XLSX) or as PDF",
        ),
        "dicom_unsupported" => (
            "Это сжатие изображений DICOM (JPEG 2000, JPEG-LS) пока не поддерживается просмотрщиком; файл можно скачать",
            "This DICOM compression (JPEG 2000, JPEG-LS) is not supported by the viewer yet; download the file instead",
        ),
        "dicom_no_image" => ("В этом файле DICOM нет изображения", "This DICOM file holds no image"),
        "dicom_unreadable" => ("Файл DICOM не удаётся прочитать", "The DICOM file cannot be read"),
        "zip_without_dicom" => (
            "В ZIP-архиве нет файлов DICOM: принимаются только архивы исследований",
            "The ZIP archive holds no DICOM files; only archives of studies are accepted",
        ),
        "zip_broken" => (
            "ZIP-архив повреждён и не открывается",
            "The ZIP archive is damaged and cannot be opened",
        ),
        "file_infected" => (
            "Антивирус нашёл в файле угрозу; файл не сохранён",
            "The virus scanner found a threat in the file; it was not kept",
        ),
        "scan_unavailable" => (
            "Антивирусная проверка сейчас недоступна; загрузка сохранена, повторите позже",
            "The virus scan is unavailable right now; the upload is kept, try again later",
        ),
        "upload_offset" => (
            "Загрузка продолжилась не с того места; клиент продолжит с сохранённой позиции",
            "The upload resumed at the wrong position; resume from the stored offset",
        ),
        "semd_not_ready" => (
            "СЭМД этой версии заключения не сформирован: при подписании не хватало данных, а регион разрешил подписывать без СЭМД",
            "No SEMD was built for this conclusion version: data were missing at signing, and the region allows signing without one",
        ),
        "semd_mis_number" => (
            "Для СЭМД администратор должен указать номер МИС в ЕГИСЗ и номер экземпляра (например, 1.1) в настройках региона",
            "For the SEMD an administrator must set the MIS number in EGISZ and its instance (e.g. 1.1) in the region settings",
        ),
        "semd_region" => (
            "Для СЭМД администратор должен указать код и название субъекта РФ (НСИ 1.2.643.5.1.13.13.99.2.206) в настройках региона",
            "For the SEMD an administrator must set the region's code and name (NSI 1.2.643.5.1.13.13.99.2.206) in the region settings",
        ),
        "semd_staff_snils" => (
            "Для СЭМД у подписывающего консультанта должен быть указан СНИЛС: его вносит администратор в карточке пользователя",
            "For the SEMD a signing consultant needs a SNILS: an administrator enters it on the user's card",
        ),
        "semd_staff_position" => (
            "Для СЭМД у подписывающего консультанта должны быть указаны должность и её код по НСИ 1.2.643.5.1.13.13.11.1002: их вносит администратор",
            "For the SEMD a signing consultant needs a position and its code (NSI 1.2.643.5.1.13.13.11.1002): an administrator enters them",
        ),
        "semd_org_oid" => (
            "Для СЭМД у консультирующей организации должен быть OID из ФРМО: его вносит администратор",
            "For the SEMD the consulting organization needs its FRMO OID: an administrator enters it",
        ),
        "semd_org_address" => (
            "Для СЭМД у консультирующей организации должен быть указан адрес: его вносит администратор",
            "For the SEMD the consulting organization needs an address: an administrator enters it",
        ),
        "semd_condition" => (
            "Укажите состояние пациента: без него не сформировать СЭМД",
            "Choose the patient's condition: the SEMD cannot be built without it",
        ),
        "semd_target" => (
            "Подпись может относиться к PDF («pdf») или к СЭМД («semd»)",
            "A signature covers the PDF (\"pdf\") or the SEMD (\"semd\")",
        ),
        "document_not_ready" => (
            "Документ будет готов, когда заключение подпишут все участники консультации",
            "The document is ready once every participant has signed the conclusion",
        ),
        "seal_unknown_pdf" => (
            "Этот файл не выдавался системой или был изменён: такого документа нет",
            "This file was not issued by the system or has been changed: no such document",
        ),
        "seal_broken" => (
            "Печать документа не сходится: файл или его содержание изменены",
            "The document's seal does not match: the file or its content was changed",
        ),
        "upload_busy" => (
            "Эта загрузка ещё принимается по другому соединению; повторите через минуту",
            "This upload is still being received on another connection; retry in a minute",
        ),
        "upload_gone" => (
            "Загрузка не найдена или устарела; начните её заново",
            "The upload was not found or has expired; start it again",
        ),
        "upload_interrupted" => (
            "Связь прервалась; полученная часть сохранена, загрузка продолжится",
            "The connection dropped; the part received is kept and the upload will resume",
        ),
        "snils_format" => (
            "СНИЛС должен состоять из 11 цифр, например 112-233-445 95",
            "SNILS must have 11 digits, e.g. 112-233-445 95",
        ),
        "snils_checksum" => (
            "Неверное контрольное число СНИЛС — проверьте номер",
            "The SNILS check number does not match; check the number",
        ),
        "oms_format" => (
            "Полис ОМС (ЕНП) должен состоять из 16 цифр",
            "The OMS policy (ENP) must have 16 digits",
        ),
        "icd10_format" => (
            "Код МКБ-10 имеет вид A00 или A00.0",
            "An ICD-10 code looks like A00 or A00.0",
        ),
        "icd10_unknown" => (
            "Такого кода нет в справочнике МКБ-10",
            "No such code in the ICD-10 reference",
        ),
        "date_format" => (
            "Дата указывается в виде ДД.ММ.ГГГГ",
            "A date is written as DD.MM.YYYY",
        ),
        "date_in_future" => (
            "Дата не может быть в будущем",
            "The date cannot be in the future",
        ),
        "date_too_old" => (
            "Неправдоподобно ранняя дата",
            "The date is implausibly early",
        ),
        "datetime_format" => (
            "Дата и время указываются в виде ГГГГ-ММ-ДДTЧЧ:ММ",
            "Date and time are written as YYYY-MM-DDTHH:MM",
        ),
        "video_conflict" => (
            "В это время участник или помещение уже заняты другой ВКС: выберите другое время",
            "A participant or the room is already booked for another video session at this time: choose another time",
        ),
        "link_template" => (
            "Ссылка должна начинаться с https:// (или http://) и не содержать пробелов; {session}, {room} и {title} подставляются",
            "The link must start with https:// (or http://) and contain no spaces; {session}, {room} and {title} are filled in",
        ),
        "cms_malformed" => (
            "Файл не похож на открепленную подпись CMS (PKCS#7, .sig или .p7s): выберите файл подписи",
            "This is not a detached CMS (PKCS#7, .sig or .p7s) signature: choose the signature file",
        ),
        "cms_mismatch" => (
            "Подпись не соответствует этому документу: подпишите PDF заключения, скачанный отсюда, без изменений",
            "The signature does not match this document: sign the conclusion PDF downloaded here, unchanged",
        ),
        "correction_not_now" => (
            "Исправить можно только подписанное заключение завершённой консультации",
            "Only the signed conclusion of a completed consultation can be corrected",
        ),
        "correction_open" => (
            "Исправление уже открыто: допишите и подпишите его",
            "A correction is already open: finish and sign it",
        ),
        "correction_none" => (
            "Нет исправления, ожидающего вашей подписи",
            "There is no correction waiting for your signature",
        ),
        "fhir_not_transaction" => (
            "Ожидается Bundle типа transaction",
            "A Bundle of type transaction is expected",
        ),
        "fhir_need_patient_and_request" => (
            "В Bundle нужны ресурсы Patient и ServiceRequest",
            "The Bundle needs a Patient and a ServiceRequest",
        ),
        "fhir_one_each" => (
            "Один Bundle — один запрос: по одному Patient и ServiceRequest",
            "One Bundle is one request: one Patient and one ServiceRequest",
        ),
        "fhir_inline_data" => (
            "Файл DocumentReference передаётся в самом Bundle (attachment.data)",
            "A DocumentReference carries its file inline (attachment.data)",
        ),
        "fhir_base64" => (
            "attachment.data не является base64",
            "attachment.data is not base64",
        ),
        "fhir_subscription" => ("Ожидается ресурс Subscription", "A Subscription resource is expected"),
        "fhir_criteria" => (
            "criteria: поддерживаются «Task» и «Task?status=…»",
            "criteria: «Task» and «Task?status=…» are supported",
        ),
        "fhir_channel" => (
            "channel: нужен type rest-hook и адрес endpoint http(s)://…",
            "channel: type rest-hook and an http(s):// endpoint are needed",
        ),
        "fhir_endpoint_not_allowed" => (
            "Этот адрес endpoint не разрешён: уведомления уходят только на адреса (origin), которые администратор РТМС внёс в список разрешённых — попросите администратора добавить ваш",
            "This endpoint is not allowed: notifications go only to origins an RTMS administrator has allowed; ask the administrator to add yours",
        ),
        "fhir_endpoint_private" => (
            "Адрес endpoint во внутренней сети (loopback, частный, link-local диапазон): такие адреса не разрешены",
            "The endpoint is an internal address (loopback, private, link-local range): such addresses are not allowed",
        ),
        "fhir_endpoint_form" => (
            "endpoint: адрес http(s):// без имени, пароля и #фрагмента, не длиннее 2048 байт",
            "endpoint: an http(s):// address without user, password or #fragment, at most 2048 bytes",
        ),
        "fhir_channel_header" => (
            "channel.header не поддерживается: уведомление содержит только ссылки на Task, подробности получатель читает своим токеном",
            "channel.header is not supported: a notification names the Tasks only, the receiver reads them with its own token",
        ),
        "fhir_subscription_owner" => (
            "Подписку оформляет система с действующим API-токеном с областью fhir",
            "A subscription needs a system with a live API token with the scope fhir",
        ),
        "fhir_too_many_subscriptions" => (
            "Не больше 10 действующих подписок на пользователя: удалите ненужные (DELETE Subscription/{id})",
            "At most 10 active subscriptions per user: delete those not needed (DELETE Subscription/{id})",
        ),
        "federal_not_connected" => (
            "Связь с федеральной системой не настроена: передайте пакет запроса вручную",
            "No federal endpoint is configured: send the request's package by other means",
        ),
        "federal_not_escalated" => (
            "Запрос не передан на федеральный уровень",
            "The request has not been escalated to the federal level",
        ),
        "escalate_federal" => (
            "Это федеральный уровень: передать запрос выше некуда",
            "This is the federal level: there is no level above it",
        ),
        "fhir_scope" => (
            "Для FHIR нужен API-токен с областью fhir",
            "FHIR needs an API token with the scope fhir",
        ),
        "video_over" => (
            "Сеанс ВКС уже закончился или отменён: его нельзя отменить",
            "This video session has already ended or been cancelled: it cannot be cancelled",
        ),
        "video_too_many" => (
            "В одной ВКС может быть не больше шести участников",
            "A video session can have at most six participants",
        ),
        "datetime_in_past" => ("Время уже прошло", "This time has already passed"),
        "unknown_value" => ("Недопустимое значение", "Not an allowed value"),
        "unknown_profile" => (
            "Такого профиля нет в справочнике",
            "No such specialty profile",
        ),
        "unknown_organization" => ("Организация не найдена", "Organization not found"),
        "unknown_user" => ("Пользователь не найден", "User not found"),
        "not_a_tkc" => (
            "Организация не является ТКЦ",
            "The organization is not a consultation centre",
        ),
        "not_a_consultant" => (
            "Пользователь не является консультантом",
            "The user is not a consultant",
        ),
        "not_in_tkc" => (
            "Консультант не работает в этом ТКЦ",
            "The consultant does not work in this centre",
        ),
        "assign_target" => (
            "Укажите ТКЦ или консультанта",
            "Choose a consultation centre or a consultant",
        ),
        "unidentified_only_emergency" => (
            "Неизвестный пациент допускается только при экстренной форме",
            "An unidentified patient is allowed only in an emergency",
        ),
        "consent_ground_required" => (
            "Без согласия пациента укажите законное основание",
            "Without the patient's consent, state the legal ground",
        ),
        "out_of_range" => (
            "Значение вне допустимого диапазона",
            "The value is out of range",
        ),
        "phone_format" => (
            "Телефон: от 5 до 15 цифр, можно с +, пробелами и скобками",
            "Phone: 5 to 15 digits, +, spaces and brackets allowed",
        ),
        "conclusion_missing" => ("Сначала заполните заключение", "Write the conclusion first"),
        "min_length" => ("Слишком короткое значение", "The value is too short"),
        "login_taken" => ("Этот логин уже занят", "This login is taken"),
        "number_format" => ("Введите число", "Enter a number"),
        "common_password" => (
            "Пароль слишком простой или содержит логин — выберите другой",
            "The password is too common or contains the login; choose another",
        ),
        "totp_wrong" => ("Неверный код подтверждения", "Wrong verification code"),
        "api_login_needs_token" => (
            "У учётной записи включён второй фактор: для программного доступа выпустите ключ API на странице «Сеансы и ключи API»",
            "This account uses a second factor: for programmatic access, issue an API key on the Sessions page",
        ),
        "password_change_first" => (
            "Сначала смените временный пароль на странице «Смена пароля»",
            "Change your temporary password first, on the password page",
        ),
        "totp_enrolment_first" => (
            "Сначала включите второй фактор (приложение-аутентификатор): этого требует регион",
            "Set up the second factor (an authenticator app) first: the region requires it",
        ),
        "login_format" => (
            "Логин: латинские буквы, цифры, точка, дефис, подчёркивание",
            "Login: Latin letters, digits, dot, hyphen, underscore",
        ),
        "role_org_mismatch" => (
            "Эта роль не бывает в организации такого типа",
            "This role does not exist in this kind of organization",
        ),
        "role_exists" => ("Эта роль уже назначена", "This role is already assigned"),
        "role_self_grant" => (
            "Нельзя назначить себе клиническую роль или роль аудитора: её назначает другой администратор",
            "You cannot grant yourself a clinical or auditor role: another administrator must do it",
        ),
        "cannot_deactivate_self" => (
            "Нельзя отключить собственную учётную запись",
            "You cannot deactivate your own account",
        ),
        "semd_mis_number_format" => (
            "Номер МИС и экземпляра — два числа через точку, например 1.1",
            "The MIS and instance numbers are two numbers with a dot, e.g. 1.1",
        ),
        "semd_region_code_format" => (
            "Код субъекта РФ по НСИ 1.2.643.5.1.13.13.99.2.206 — число, например 69",
            "A region code (NSI 1.2.643.5.1.13.13.99.2.206) is a number, e.g. 69",
        ),
        "position_code_format" => (
            "Код должности по НСИ 1.2.643.5.1.13.13.11.1002 — число, например 34",
            "A position code (NSI 1.2.643.5.1.13.13.11.1002) is a number, e.g. 34",
        ),
        "oid_format" => (
            "OID имеет вид 1.2.643.5.1…",
            "An OID looks like 1.2.643.5.1…",
        ),
        "csv_format" => (
            "Файл не удалось прочитать как CSV",
            "The file could not be read as CSV",
        ),
        "csv_header" => (
            "В первой строке нужны столбцы login, last_name, first_name, role, organization",
            "The first line needs the columns login, last_name, first_name, role, organization",
        ),
        "icd10_too_small" => (
            "Файл слишком мал для справочника МКБ-10",
            "The file is too small to be the ICD-10 reference",
        ),
        "totp_self_first" => (
            "Сначала включите второй фактор для своей учётной записи",
            "Turn on the second factor for your own account first",
        ),
        "wrong_password" => ("Неверный текущий пароль", "The current password is wrong"),
        "same_password" => (
            "Новый пароль должен отличаться от текущего",
            "The new password must differ from the current one",
        ),
        _ => ("Неверное значение", "Invalid value"),
    };
    match lang {
        Lang::Ru => ru,
        Lang::En => en,
    }
}

fn digits_only(raw: &str, allowed_separators: &[char]) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !allowed_separators.contains(&c) {
            return None;
        }
    }
    Some(out)
}

/// СНИЛС: 11 digits, the last two being the check number of the first nine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Snils(String);

impl Snils {
    /// Accepts `11223344595`, `112-233-445 95` and similar spellings.
    pub fn parse(raw: &str) -> Result<Snils, &'static str> {
        let digits = digits_only(raw, &['-', ' ']).ok_or("snils_format")?;
        if digits.len() != 11 {
            return Err("snils_format");
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let number: u64 = digits[..9].parse().map_err(|_| "snils_format")?;
        let check = d[9] * 10 + d[10];
        // Numbers up to 001-001-998 were issued before check numbers existed.
        if number > 1_001_998 && snils_check_number(&d[..9]) != check {
            return Err("snils_checksum");
        }
        Ok(Snils(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional spelling `XXX-XXX-XXX YY`.
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{} {}", &s[0..3], &s[3..6], &s[6..9], &s[9..11])
    }
}

/// The check number of the first nine digits of a СНИЛС.
pub fn snils_check_number(nine: &[u32]) -> u32 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, d)| d * (9 - i as u32))
        .sum();
    match sum {
        0..=99 => sum,
        100 | 101 => 0,
        _ => {
            let r = sum % 101;
            if r == 100 {
                0
            } else {
                r
            }
        }
    }
}

/// Полис ОМС единого образца / ЕНП: 16 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OmsPolicy(String);

impl OmsPolicy {
    pub fn parse(raw: &str) -> Result<OmsPolicy, &'static str> {
        let digits = digits_only(raw, &['-', ' ']).ok_or("oms_format")?;
        if digits.len() != 16 {
            return Err("oms_format");
        }
        Ok(OmsPolicy(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An МКБ-10 code in its canonical spelling (`I21.0`). Whether the code exists is
/// a question for the reference table, not for this type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Icd10Code(String);

impl Icd10Code {
    /// Accepts lower case, a comma instead of the dot, and Cyrillic letters that
    /// look like Latin ones (a doctor typing in the Russian keyboard layout).
    pub fn parse(raw: &str) -> Result<Icd10Code, &'static str> {
        let mut s = String::with_capacity(raw.len());
        for c in raw.trim().chars() {
            let c = match latin_lookalike(c) {
                ',' => '.',
                other => other,
            };
            s.push(c);
        }
        let b = s.as_bytes();
        let ok = match b.len() {
            3 => is_icd_head(b),
            5 | 6 => is_icd_head(b) && b[3] == b'.' && b[4..].iter().all(u8::is_ascii_digit),
            _ => false,
        };
        if ok {
            Ok(Icd10Code(s))
        } else {
            Err("icd10_format")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Latin capital a Cyrillic letter looks like (`Р` → `P`), for codes typed
/// in the Russian keyboard layout; other characters are upper-cased as they are.
pub fn latin_lookalike(c: char) -> char {
    match c.to_uppercase().next().unwrap_or(c) {
        'А' => 'A',
        'В' => 'B',
        'С' => 'C',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'Т' => 'T',
        'Х' => 'X',
        other => other,
    }
}

fn is_icd_head(b: &[u8]) -> bool {
    b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

/// Accepts `ДД.ММ.ГГГГ` (as people in Russia write it), `ГГГГ-ММ-ДД` (as
/// machines do) and the month by its English name (`4 Dec 2026`,
/// `4 December 2026`, `Dec 4, 2026`). A numeric day/month order other than
/// Russian is not guessed: `12/04/2026` is refused, not misread.
pub fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    let raw = raw.trim();
    [
        "%d.%m.%Y",
        "%Y-%m-%d",
        "%d %b %Y",
        "%d %B %Y",
        "%b %d, %Y",
        "%B %d, %Y",
    ]
    .iter()
    .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
    .ok_or("date_format")
}

/// A birth date is plausible when it is not in the future and not more than 130
/// years ago.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let date = parse_date(raw)?;
    if date > today {
        return Err("date_in_future");
    }
    if today.years_since(date).is_none_or(|years| years > 130) {
        return Err("date_too_old");
    }
    Ok(date)
}

/// A past event date (a test result, an earlier consultation).
pub fn parse_past_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let date = parse_date(raw)?;
    if date > today {
        return Err("date_in_future");
    }
    if date.year_ce().1 < 1900 {
        return Err("date_too_old");
    }
    Ok(date)
}

use chrono::Datelike;

/// A contact phone: 5 to 15 digits with the usual punctuation.
pub fn parse_phone(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    let digits = digits_only(raw, &['+', '-', ' ', '(', ')']).ok_or("phone_format")?;
    if !(5..=15).contains(&digits.len()) {
        return Err("phone_format");
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snils_accepts_valid_numbers_in_any_spelling() {
        assert_eq!(
            Snils::parse("112-233-445 95").unwrap().as_str(),
            "11223344595"
        );
        assert_eq!(
            Snils::parse("11223344595").unwrap().formatted(),
            "112-233-445 95"
        );
    }

    #[test]
    fn snils_rejects_wrong_check_number_and_format() {
        assert_eq!(Snils::parse("112-233-445 96"), Err("snils_checksum"));
        assert_eq!(Snils::parse("1122334459"), Err("snils_format"));
        assert_eq!(Snils::parse("112-233-445 9a"), Err("snils_format"));
    }

    #[test]
    fn snils_check_number_wraps_at_101() {
        // 999999999: sum = 9*45 = 405, 405 % 101 = 1
        assert_eq!(snils_check_number(&[9; 9]), 1);
        assert!(Snils::parse("999 999 999 01").is_ok());
    }

    #[test]
    fn oms_policy_is_sixteen_digits() {
        assert!(OmsPolicy::parse("1234 5678 9012 3456").is_ok());
        assert_eq!(OmsPolicy::parse("123456789012345"), Err("oms_format"));
    }

    #[test]
    fn icd10_normalizes_russian_layout_and_commas() {
        assert_eq!(Icd10Code::parse("і21.0").map(|c| c.0), Err("icd10_format"));
        assert_eq!(Icd10Code::parse("i21,0").unwrap().as_str(), "I21.0");
        assert_eq!(Icd10Code::parse("С34.1").unwrap().as_str(), "C34.1"); // Cyrillic С
        assert_eq!(Icd10Code::parse("J18").unwrap().as_str(), "J18");
        assert_eq!(Icd10Code::parse("J1"), Err("icd10_format"));
        assert_eq!(Icd10Code::parse("J18."), Err("icd10_format"));
    }

    #[test]
    fn birth_dates_must_be_plausible() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert!(parse_birth_date("01.02.1960", today).is_ok());
        assert!(parse_birth_date("1960-02-01", today).is_ok());
        assert_eq!(parse_birth_date("29.11.2026", today), Err("date_in_future"));
        assert_eq!(parse_birth_date("01.01.1890", today), Err("date_too_old"));
        assert_eq!(parse_birth_date("31.02.2000", today), Err("date_format"));
    }

    #[test]
    fn every_code_has_a_specific_message_in_both_languages() {
        for code in [
            "required",
            "snils_checksum",
            "icd10_unknown",
            "date_in_future",
        ] {
            assert_ne!(message(code, Lang::Ru), message("no-such-code", Lang::Ru));
            assert_ne!(message(code, Lang::Ru), message(code, Lang::En));
        }
    }

    #[test]
    fn accept_language_prefers_the_first_supported() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ru;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("de,ru;q=0.5"), Lang::Ru);
        assert_eq!(Lang::from_accept_language(""), Lang::Ru);
    }
}

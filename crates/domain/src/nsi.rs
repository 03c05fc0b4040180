//! Codes of the Ministry's НСИ dictionaries that people choose in the forms
//! (the СЭМД needs them; names exactly as the dictionaries write them).

/// НСИ 1006: the patient's condition, as the consultant chooses it.
pub const CONDITION_CODES: [(&str, &str); 6] = [
    ("1", "Удовлетворительное"),
    ("2", "Средней тяжести"),
    ("3", "Тяжелое"),
    ("4", "Крайне тяжелое"),
    ("5", "Клиническая смерть"),
    ("6", "Терминальное"),
];

/// НСИ 48: the identity documents the request form offers.
pub const IDENTITY_DOC_CODES: [(&str, &str); 7] = [
    ("1", "Паспорт гражданина Российской Федерации"),
    ("6", "Свидетельство о рождении"),
    ("5", "Временное удостоверение личности гражданина Российской Федерации"),
    ("42", "Заграничный паспорт гражданина Российской Федерации"),
    ("11", "Вид на жительство"),
    ("12", "Удостоверение беженца"),
    ("10", "Паспорт иностранного гражданина либо иной документ, установленный федеральным законом или признаваемый в соответствии с международным договором Российской Федерации в качестве документа, удостоверяющего личность иностранного гражданина"),
];

/// НСИ 1035: kinds of the ОМС policy.
pub const POLICY_CODES: [(&str, &str); 4] = [
    ("1", "Полис ОМС старого образца"),
    ("2", "Полис ОМС единого образца, бессрочный"),
    ("3", "Полис ОМС единого образца, со сроком действия"),
    ("4", "Временное свидетельство"),
];

/// The name of a code in one of the lists above.
pub fn name_of(list: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    list.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

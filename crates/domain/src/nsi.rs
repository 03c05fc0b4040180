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

/// The same codes as people read them in the English interface (the
/// documents always carry the dictionaries' Russian names).
pub const CONDITION_CODES_EN: [(&str, &str); 6] = [
    ("1", "Satisfactory"),
    ("2", "Moderate"),
    ("3", "Severe"),
    ("4", "Extremely severe"),
    ("5", "Clinical death"),
    ("6", "Terminal"),
];

pub const IDENTITY_DOC_CODES_EN: [(&str, &str); 7] = [
    ("1", "Passport of a citizen of the Russian Federation"),
    ("6", "Birth certificate"),
    (
        "5",
        "Temporary identity card of a citizen of the Russian Federation",
    ),
    (
        "42",
        "International passport of a citizen of the Russian Federation",
    ),
    ("11", "Residence permit"),
    ("12", "Refugee certificate"),
    (
        "10",
        "Passport of a foreign citizen or another document recognised as one",
    ),
];

pub const POLICY_CODES_EN: [(&str, &str); 4] = [
    ("1", "OMS policy of the old form"),
    ("2", "Uniform OMS policy, without expiry"),
    ("3", "Uniform OMS policy, with expiry"),
    ("4", "Temporary certificate"),
];

/// A list in the language of the interface.
pub fn in_lang(
    ru: &'static [(&'static str, &'static str)],
    en: &'static [(&'static str, &'static str)],
    lang: crate::Lang,
) -> &'static [(&'static str, &'static str)] {
    match lang {
        crate::Lang::En => en,
        _ => ru,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_lists_have_the_same_codes() {
        let codes = |l: &[(&str, &str)]| l.iter().map(|(c, _)| c.to_string()).collect::<Vec<_>>();
        assert_eq!(codes(&CONDITION_CODES), codes(&CONDITION_CODES_EN));
        assert_eq!(codes(&IDENTITY_DOC_CODES), codes(&IDENTITY_DOC_CODES_EN));
        assert_eq!(codes(&POLICY_CODES), codes(&POLICY_CODES_EN));
    }
}

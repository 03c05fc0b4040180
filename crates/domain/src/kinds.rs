//! The closed vocabularies of the domain. Each has a stable lowercase code used in
//! the database and the API, and a Russian and an English label.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a string-coded enum: `as_str`, `parse`, `ALL`, serde as the code.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $ru:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn label(self, lang: crate::Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, crate::Lang::Ru) => $ru,
                      ($name::$variant, crate::Lang::En) => $en,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

coded_enum!(
    /// What an organization is in the regional network.
    OrgKind {
        Mo = "mo", "Медицинская организация", "Medical organization";
        Tkc = "tkc", "Телемедицинский консультационный центр (ТКЦ)", "Telemedicine consultation centre";
        Ktc = "ktc", "Координационно-технический центр (КТЦ)", "Coordination and technical centre";
        Federal = "federal", "Федеральный центр", "Federal centre";
    }
);

coded_enum!(
    /// A role a user holds in one organization (a membership).
    Role {
        Admin = "admin", "Администратор", "Administrator";
        Dispatcher = "dispatcher", "Диспетчер КТЦ", "Dispatcher";
        Doctor = "doctor", "Лечащий врач", "Requesting doctor";
        Head = "head", "Руководитель МО", "Head of organization";
        Coordinator = "coordinator", "Координатор ТКЦ", "Consultation centre coordinator";
        Consultant = "consultant", "Врач-консультант", "Consultant";
        Analyst = "analyst", "Аналитик", "Analyst";
        Auditor = "auditor", "Аудитор", "Auditor";
    }
);

impl Role {
    /// Roles that work with clinical content (patient data).
    pub fn is_clinical(self) -> bool {
        matches!(
            self,
            Role::Dispatcher | Role::Doctor | Role::Head | Role::Coordinator | Role::Consultant
        )
    }
}

coded_enum!(
    /// Форма оказания медицинской помощи.
    FormOfCare {
        Emergency = "emergency", "Экстренная", "Emergency";
        Urgent = "urgent", "Неотложная", "Urgent";
        Planned = "planned", "Плановая", "Planned";
    }
);

coded_enum!(
    /// Real-time (video) or deferred (written) consultation.
    Mode {
        Realtime = "realtime", "В режиме реального времени", "Real-time";
        Deferred = "deferred", "Отложенная", "Deferred";
    }
);

coded_enum!(
    Sex {
        Male = "male", "Мужской", "Male";
        Female = "female", "Женский", "Female";
        Unknown = "unknown", "Не указан", "Unknown";
    }
);

coded_enum!(
    /// The lifecycle states of a consultation request.
    Status {
        Draft = "draft", "Черновик", "Draft";
        AwaitingApproval = "awaiting_approval", "На согласовании у руководителя", "Awaiting approval";
        Submitted = "submitted", "Направлен", "Submitted";
        InReview = "in_review", "На проверке у диспетчера", "In review";
        Returned = "returned", "Возвращён на доработку", "Returned for revision";
        Assigned = "assigned", "Назначен", "Assigned";
        Accepted = "accepted", "Принят консультантом", "Accepted";
        Scheduled = "scheduled", "Запланирована ВКС", "Scheduled";
        InProgress = "in_progress", "Консультация идёт", "In progress";
        Completed = "completed", "Заключение готово", "Completed";
        Closed = "closed", "Закрыт", "Closed";
        Cancelled = "cancelled", "Отменён", "Cancelled";
        Rejected = "rejected", "Отклонён", "Rejected";
        Escalated = "escalated", "Передан на федеральный уровень", "Escalated";
    }
);

impl Status {
    /// Open states: the request is with the region and not answered yet. The
    /// deadline clock runs from submission (not while awaiting the head's
    /// approval), so only an open request with a deadline can be overdue.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Draft
                | Status::Completed
                | Status::Closed
                | Status::Cancelled
                | Status::Rejected
        )
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled | Status::Rejected)
    }
}

coded_enum!(
    /// Everything a person can do to a request. One row of the transition table
    /// names one of these.
    Action {
        Submit = "submit", "Отправить", "Submit";
        Approve = "approve", "Согласовать", "Approve";
        SendBack = "send_back", "Вернуть врачу", "Send back";
        Take = "take", "Взять в работу", "Take";
        Return = "return", "Вернуть на доработку", "Return for revision";
        Resubmit = "resubmit", "Отправить повторно", "Resubmit";
        Reject = "reject", "Отклонить", "Reject";
        Assign = "assign", "Назначить", "Assign";
        Accept = "accept", "Принять", "Accept";
        Decline = "decline", "Отказаться", "Decline";
        Schedule = "schedule", "Запланировать ВКС", "Schedule a video session";
        Start = "start", "Начать консультацию", "Start";
        Ask = "ask", "Задать вопрос", "Ask a question";
        Answer = "answer", "Ответить", "Answer";
        Sign = "sign", "Подписать заключение", "Sign the conclusion";
        Acknowledge = "acknowledge", "Ознакомлен", "Acknowledge";
        Escalate = "escalate", "Передать на федеральный уровень", "Escalate to the federal level";
        RecordFederalConclusion = "record_federal_conclusion", "Внести федеральное заключение", "Record the federal conclusion";
        Cancel = "cancel", "Отменить", "Cancel";
    }
);

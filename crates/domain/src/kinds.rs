//! The closed vocabularies of the domain. Each has a stable lowercase code used in
//! the database and the API; its Russian and English labels are in the Fluent
//! catalogues as `kind-<vocabulary>-<code>` (`rtms_i18n::Label`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A closed vocabulary: its name in the catalogues and each value's code.
pub trait Coded: Copy {
    const KIND: &'static str;
    fn code(self) -> &'static str;
}

/// Declares a string-coded enum: `as_str`, `parse`, `ALL`, serde as the code.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident / $kind:literal { $($variant:ident = $code:literal;)+ }) => {
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

        }

        impl Coded for $name {
            const KIND: &'static str = $kind;

            fn code(self) -> &'static str {
                self.as_str()
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
    OrgKind / "org-kind" {
        Mo = "mo";
        Tkc = "tkc";
        Ktc = "ktc";
        Federal = "federal";
    }
);

coded_enum!(
    /// A role a user holds in one organization (a membership).
    Role / "role" {
        Admin = "admin";
        Dispatcher = "dispatcher";
        Doctor = "doctor";
        Head = "head";
        Coordinator = "coordinator";
        Consultant = "consultant";
        Analyst = "analyst";
        Auditor = "auditor";
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
    FormOfCare / "form-of-care" {
        Emergency = "emergency";
        Urgent = "urgent";
        Planned = "planned";
    }
);

coded_enum!(
    /// Real-time (video) or deferred (written) consultation.
    Mode / "mode" {
        Realtime = "realtime";
        Deferred = "deferred";
    }
);

coded_enum!(
    Sex / "sex" {
        Male = "male";
        Female = "female";
        Unknown = "unknown";
    }
);

coded_enum!(
    /// The lifecycle states of a consultation request.
    Status / "status" {
        Draft = "draft";
        AwaitingApproval = "awaiting_approval";
        Submitted = "submitted";
        InReview = "in_review";
        Returned = "returned";
        Assigned = "assigned";
        Accepted = "accepted";
        Scheduled = "scheduled";
        InProgress = "in_progress";
        Completed = "completed";
        Closed = "closed";
        Cancelled = "cancelled";
        Rejected = "rejected";
        Escalated = "escalated";
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
    Action / "action" {
        Submit = "submit";
        Approve = "approve";
        SendBack = "send_back";
        Take = "take";
        Return = "return";
        Resubmit = "resubmit";
        Reject = "reject";
        Assign = "assign";
        Accept = "accept";
        Decline = "decline";
        Schedule = "schedule";
        Start = "start";
        Ask = "ask";
        Answer = "answer";
        Sign = "sign";
        Acknowledge = "acknowledge";
        Escalate = "escalate";
        RecordFederalConclusion = "record_federal_conclusion";
        Cancel = "cancel";
    }
);

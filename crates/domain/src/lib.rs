//! The РТМС domain: the consultation request, its lifecycle, deadlines and the
//! validation rules. No I/O here: no database, no HTTP, no clock (time is passed in).

pub mod deadline;
pub mod kinds;
pub mod lifecycle;
pub mod nsi;
pub mod request;
pub mod validate;

pub use deadline::{DeadlineClock, DeadlinePolicy};
pub use kinds::{Action, Coded, FormOfCare, Mode, OrgKind, Role, Sex, Status};
pub use lifecycle::{decide, Decision, GuardContext, TransitionError, TRANSITIONS};
pub use validate::{FieldError, Lang, Validation};
